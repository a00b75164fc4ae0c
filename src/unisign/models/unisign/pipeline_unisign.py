"""Sign language video (or poses) -> text: the `sign-language-translation` pipeline.

`import unisign` registers the task, so `transformers.pipeline("sign-language-translation", model=folder_or_hub_id)`
works for any Uni-Sign folder; saved folders also carry this module as remote code (`custom_pipelines` in their
config.json), so `pipeline(..., trust_remote_code=True)` works without the package for arrays and `.pose` files.
Videos are turned into COCO-WholeBody-133 poses with `unisign.extraction` (the package and MediaPipe); RGB-pose
models crop their hands from the same video. Live translation of a growing stream is `unisign.apps.streaming`.
`load_translation_pipeline` builds the pipeline over a PyTorch folder or an ONNX export (`unisign.onnx`).
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import AutoModelForSeq2SeqLM, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY
from transformers.utils import logging

from .errors_unisign import UniSignInputError
from .pose_file import POSE_FILE_SUFFIXES, read_pose_file
from .pose_sample import PoseSample, is_pose_sample


logger = logging.get_logger(__name__)

TASK = "sign-language-translation"


def _unisign_extraction():
    """`unisign.extraction` (poses from videos, reference pickles), or a one-line error naming what to install.

    Imported by its absolute name: this module also runs as remote code, where the package's other modules are not
    next to it.
    """
    try:
        from unisign import extraction
    except ImportError:
        raise ImportError(
            "Videos and reference `.pkl` files need pose extraction from the unisign package (and mediapipe for "
            "videos): `pip install unisign`; arrays and `.pose` files work without it."
        ) from None
    return extraction


def _with_video(sample: PoseSample) -> str | None:
    """The sample's source video when it is a file here (RGB-pose models crop their hands from it)."""
    return sample.video_path if sample.video_path and Path(sample.video_path).is_file() else None


class SignLanguageTranslationPipeline(Pipeline):
    r"""Translate sign language clips into text with a Uni-Sign model.

    Each input is one clip, given as any of:
    - a video path (poses are extracted with `backend`, MediaPipe Holistic by default);
    - a `.pose` file or a reference pose pickle (`.pkl`);
    - a `PoseSample`;
    - a `(keypoints (T, 133, 2), scores (T, 133))` tuple or one `(T, 133, 3)` array, keypoints in
      `(x / width, y / height)` units;
    - a dict `{"poses": <any of the above>, "video": path}` or `{"poses": ..., "frames": (T, H, W, 3) uint8}` giving
      the RGB source of an RGB-pose model's hand crops explicitly.
    A list of inputs is translated in batches of `batch_size`.

    Documented results rather than errors: a clip where no person is found (fewer than 4 confident body points) gets
    all-zero pose features (a warning is logged), and hands that are never visible get no hand signal; the model
    still returns its (meaningless) translation of such a clip, so check the `return_poses=True` output when a text
    looks wrong. Missing, empty or corrupt files, files without a video stream and clips without frames raise
    `FileNotFoundError` / `ValueError`.

    Call parameters (also accepted by `pipeline(...)`):
        language (`str`, *optional*): Prompt language (`"zh"`, `"en"`, ...); defaults to the processor's.
        task (`str`, *optional*): Task name, for `"<language>/<task>"` prompts.
        backend (`str`, *optional*, defaults to `"mediapipe"`): Pose extraction back-end for videos.
        backend_options (`dict`, *optional*): Passed to `unisign.extraction.create_estimator`.
        progress (`bool`, *optional*, defaults to `False`): Progress bar while extracting poses.
        return_poses (`bool`, *optional*, defaults to `False`): Also return the clip's `PoseSample` as `"poses"`.
        num_beams, max_new_tokens (`int`, *optional*): Decoding settings (default: 4 beams, 100 new tokens).
        num_return_sequences (`int`, *optional*, defaults to 1): Translations per clip (at most `num_beams`).
        generate_kwargs (`dict`, *optional*): Any other `generate` argument.

    Returns:
        `dict` (or one per input for a list): `{"translation_text": str}`, plus `"poses"` with `return_poses=True`;
        with `num_return_sequences > 1`, a list of such dicts per input, best first.

    A clip gives the same text alone and in a batch. Models that keep the reference's unmasked padded frames
    (`mask_padded_frames=False`, as converted checkpoints) are run on the clips of each length together.

    Example:
    ```python
    >>> import unisign  # registers the task
    >>> from transformers import pipeline
    >>> translator = pipeline("sign-language-translation", model="path/to/uni-sign-folder")
    >>> translator("signing.mp4", language="en")
    {'translation_text': '...'}
    ```
    """

    _load_processor = True
    _load_tokenizer = False
    _load_feature_extractor = False
    _load_image_processor = False
    _load_video_processor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.processor is None:
            raise ValueError(
                "The sign-language-translation pipeline needs a `UniSignProcessor` (processor_config.json next to the "
                "model, or `processor=`), got none."
            )
        self.model.eval()  # a model built in code is in training mode, whose dropout would make translations random

    def _sanitize_parameters(
        self,
        language: str | None = None,
        task: str | None = None,
        backend: str | None = None,
        backend_options: dict | None = None,
        progress: bool | None = None,
        return_poses: bool | None = None,
        num_beams: int | None = None,
        max_new_tokens: int | None = None,
        num_return_sequences: int | None = None,
        generate_kwargs: dict | None = None,
    ) -> tuple[dict, dict, dict]:
        preprocess_params = {
            name: value
            for name, value in (
                ("language", language),
                ("task", task),
                ("backend", backend),
                ("backend_options", backend_options),
                ("progress", progress),
            )
            if value is not None
        }
        forward_params = dict(generate_kwargs or {})
        if num_beams is not None:
            forward_params["num_beams"] = num_beams
        if max_new_tokens is not None:
            forward_params["max_new_tokens"] = max_new_tokens
        if num_return_sequences is not None:
            forward_params["num_return_sequences"] = num_return_sequences
        postprocess_params = {} if return_poses is None else {"return_poses": return_poses}
        return preprocess_params, forward_params, postprocess_params

    def resolve_clip(
        self, inputs, backend: str = "mediapipe", backend_options: dict | None = None, progress: bool = False
    ) -> tuple[PoseSample, str | None, np.ndarray | None]:
        """One input (see the class docstring) -> `(poses, video path or None, RGB frames or None)`."""
        if isinstance(inputs, dict):
            unknown = set(inputs) - {"poses", "video", "frames"}
            if "poses" not in inputs or unknown:
                raise UniSignInputError(
                    "A dict input must have a `poses` entry and optionally `video` or `frames`, got keys "
                    f"{sorted(inputs)}."
                )
            sample, video, _ = self.resolve_clip(inputs["poses"], backend, backend_options, progress)
            return sample, inputs.get("video", video), inputs.get("frames")
        if isinstance(inputs, str | Path):
            path = Path(inputs)
            if not path.is_file():
                raise FileNotFoundError(f"`{path}` does not exist (or is not a file).")
            if path.suffix.lower() == ".pose":
                sample = read_pose_file(path)
                return sample, _with_video(sample), None
            extraction = _unisign_extraction()
            if path.suffix.lower() in POSE_FILE_SUFFIXES:
                sample = extraction.load_poses(path)
                return sample, _with_video(sample), None
            sample = extraction.extract_poses(path, backend, progress=progress, **(backend_options or {}))
            return sample, str(path), None
        if is_pose_sample(inputs):
            return inputs, _with_video(inputs), None
        if isinstance(inputs, tuple) and len(inputs) == 2:
            return PoseSample(id="arrays", keypoints=inputs[0], scores=inputs[1]), None, None
        if isinstance(inputs, np.ndarray) and inputs.ndim == 3 and inputs.shape[-1] == 3:
            return PoseSample(id="arrays", keypoints=inputs[..., :2], scores=inputs[..., 2]), None, None
        received = inputs.shape if isinstance(inputs, np.ndarray) else type(inputs).__name__
        raise UniSignInputError(
            "Each input must be a video path, a .pose/.pkl path, a `PoseSample`, a `(keypoints, scores)` tuple, a "
            f"(num_frames, 133, 3) array or a dict with `poses`; got {received}."
        )

    def preprocess(
        self,
        inputs,
        language: str | None = None,
        task: str | None = None,
        backend: str = "mediapipe",
        backend_options: dict | None = None,
        progress: bool = False,
    ) -> dict:
        """One input -> `{"features": encode_sample()'s inputs, "poses": PoseSample}`."""
        sample, video, frames = self.resolve_clip(inputs, backend, backend_options, progress)
        if sample.num_frames == 0:
            raise UniSignInputError(f"The clip {sample.id!r} has no frames: nothing to translate.")
        if self.model.config.use_rgb:
            if video is None and frames is None:
                raise UniSignInputError(
                    "This model uses RGB hand crops: give a video path, or `{'poses': ..., 'video': path}` / "
                    f"`{{'poses': ..., 'frames': array}}`, not only poses (got clip {sample.id!r} without a video)."
                )
            video = None if frames is not None else video
        else:
            video, frames = None, None  # pose-only: no frames to decode
        features = self.processor.encode_sample(sample, frames=frames, video=video, language=language, task=task)
        return {"features": features, "poses": sample}

    def get_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ):
        """Batches of preprocessed clips, collated as lists (`_forward` pads them with the processor)."""
        # The default collate pads with the tokenizer; our clips are padded by the processor in `_forward`.
        from torch.utils.data import DataLoader
        from transformers.pipelines.pt_utils import PipelineDataset, PipelineIterator

        dataset = PipelineDataset(inputs, self.preprocess, preprocess_params)
        dataloader = DataLoader(dataset, num_workers=num_workers, batch_size=batch_size, collate_fn=list)
        model_iterator = PipelineIterator(dataloader, self.forward, forward_params, loader_batch_size=batch_size)
        return PipelineIterator(model_iterator, self.postprocess, postprocess_params)

    def _forward(self, model_inputs: dict | list[dict], **generate_kwargs) -> dict:
        items = [model_inputs] if isinstance(model_inputs, dict) else model_inputs
        groups = [list(range(len(items)))]
        if not getattr(self.model.config, "mask_padded_frames", True):
            # the encoder reads the padded frames of a shorter clip: clips are batched with clips of their length only
            by_length = {}
            for index, item in enumerate(items):
                by_length.setdefault(len(item["features"]["pose_values"]), []).append(index)
            groups = list(by_length.values())
        rows = [None] * len(items)
        for group in groups:
            batch = self.processor.pad([items[i]["features"] for i in group], return_tensors="pt").to(self.device)
            sequences = self.model.generate(**batch, **generate_kwargs)  # (len(group) * num_return_sequences, L)
            rows_of_group = sequences.reshape(len(group), -1, sequences.shape[-1])  # (len(group), R, L)
            for index, clip_sequences in zip(group, rows_of_group, strict=True):
                rows[index] = clip_sequences
        longest = max(row.shape[-1] for row in rows)
        pad = self.processor.tokenizer.pad_token_id
        sequences = torch.stack([nn.functional.pad(row, (0, longest - row.shape[-1]), value=pad) for row in rows])
        # (B, num_return_sequences, L): the sequences of one clip stay together when the batch is split per clip;
        # "sequences" first so the batch size is read from it
        return {"sequences": sequences, "poses": [item["poses"] for item in items]}

    def postprocess(self, model_outputs: dict, return_poses: bool = False) -> dict | list[dict]:
        """Generated ids `(1, R, L)` of one clip -> its `{"translation_text": str}`, or a list of R of them.

        With `return_poses=True`, each result also holds the clip's `"poses"`.
        """
        poses = model_outputs["poses"]
        poses = poses[0] if isinstance(poses, list) else poses
        results = []
        for text in self.processor.batch_decode(model_outputs["sequences"][0]):
            results.append({"translation_text": text, **({"poses": poses} if return_poses else {})})
        return results[0] if len(results) == 1 else results


PIPELINE_REGISTRY.register_pipeline(
    TASK, pipeline_class=SignLanguageTranslationPipeline, pt_model=AutoModelForSeq2SeqLM, type="multimodal"
)


__all__ = ["TASK", "SignLanguageTranslationPipeline"]
