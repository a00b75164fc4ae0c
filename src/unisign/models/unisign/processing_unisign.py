"""Processor for Uni-Sign: keypoints (and RGB frames) plus target text -> `UniSignForConditionalGeneration` inputs.

The prompt is configuration: `prompts` maps a language (or `"<language>/<task>"`) to its text, saved in
`processor_config.json`. The reference uses "Translate sign language video to Chinese: " for the CSL datasets and
"... English: " otherwise, for every task, tokenised with its trailing `</s>`.
"""

import numpy as np
from transformers import BatchFeature, ProcessorMixin
from transformers.feature_extraction_utils import FeatureExtractionMixin
from transformers.tokenization_utils_base import PreTrainedTokenizerBase
from transformers.video_processing_utils import VideoProcessorMixin

from .errors_unisign import UniSignInputError
from .feature_extraction_unisign import (
    LEGACY_HAND_SETTINGS,
    UniSignPoseFeatureExtractor,
    as_random_generator,
    batch_clips,
)
from .remote_code import add_remote_code
from .video_processing_unisign import HAND_FEATURE_NAMES, UniSignVideoProcessor


# The base class each component must have (`UniSignProcessor.check_argument_for_proper_class`).
COMPONENT_BASES = {
    "feature_extractor": FeatureExtractionMixin,
    "tokenizer": PreTrainedTokenizerBase,
    "video_processor": VideoProcessorMixin,
}
DEFAULT_PROMPTS = {
    "zh": "Translate sign language video to Chinese: ",
    "en": "Translate sign language video to English: ",
}
LABEL_PAD_ID = -100


class UniSignProcessor(ProcessorMixin):
    r"""Turns clips of keypoints (optionally with RGB frames) and target texts into Uni-Sign model inputs.

    Three components, one per modality: the feature extractor (poses), the video processor (RGB hand crops) and the
    tokenizer (prompt and targets). Per sample, in order:
    1. the feature extractor (`UniSignPoseFeatureExtractor`) sub-samples and normalises the keypoints into
       `pose_values`;
    2. with frames or a video, the video processor (`UniSignVideoProcessor`) crops the hands of the sub-sampled clip
       (`hand_*`);
    3. the prompt of the sample's language (and task) is tokenised with its trailing `</s>` -> `input_ids`;
    4. the target text, if given, is tokenised with truncation at `max_target_length` tokens (`</s>` included)
       -> `labels`.
    A batch is then padded (`pad`): poses by repeating each clip's last frame, prompts on the left with the pad
    token, labels with -100; hand crops are concatenated over the batch (all left hands, then all right hands).
    Prompts are padded on the left so that every prompt ends right before its clip's first pose token: mT5's
    relative position bias then sees the same distances between a clip's tokens alone and in any batch.

    Args:
        feature_extractor (`UniSignPoseFeatureExtractor`): Keypoints -> `pose_values`.
        tokenizer (`T5Tokenizer`): The mT5 tokenizer.
        video_processor (`UniSignVideoProcessor`, *optional*): RGB frames and keypoints -> `hand_*`; a default one
            when not given.
        prompts (`dict[str, str]`, *optional*):
            Prompt text per language code (`"zh"`, `"en"`, ...) or per `"<language>/<task>"`; defaults to the
            reference's prompts (`DEFAULT_PROMPTS`).
        language (`str`, *optional*, defaults to `"zh"`):
            Language used when a call does not name one.
        max_target_length (`int`, *optional*, defaults to 50):
            Longest target in tokens, `</s>` included (the reference's truncation).
        kept_token_ids (`list[int]`, *optional*):
            For a model with a trimmed vocabulary (`unisign trim-vocab`, `unisign export-onnx --trim-vocab`): the
            tokenizer's ids the model kept, sorted; row `i` of the model's embedding and `lm_head` is token
            `kept_token_ids[i]`. The processor then maps ids at its boundary: the prompt and `labels` it makes are in
            the model's (compact) ids, a token the model dropped becoming `<unk>`; `batch_decode` maps the model's ids
            back before the tokenizer decodes them. `None` (the default): the model has the tokenizer's whole
            vocabulary. Equal to the model's `config.kept_token_ids`.
    """

    def __init__(
        self,
        feature_extractor=None,
        tokenizer=None,
        video_processor=None,
        prompts: dict[str, str] | None = None,
        language: str = "zh",
        max_target_length: int = 50,
        kept_token_ids: list[int] | None = None,
    ):
        self.prompts = dict(DEFAULT_PROMPTS if prompts is None else prompts)
        if language not in self.prompts:
            raise ValueError(
                f"No prompt for the default language {language!r}. Prompts exist for {sorted(self.prompts)}."
            )
        if max_target_length < 1:
            raise ValueError(f"`max_target_length` must be at least 1, got {max_target_length}.")
        self.language = language
        self.max_target_length = max_target_length
        self.kept_token_ids = check_kept_token_ids(kept_token_ids)
        video_processor = UniSignVideoProcessor() if video_processor is None else video_processor
        super().__init__(feature_extractor, tokenizer, video_processor)

    @classmethod
    def from_model_config(
        cls, config, tokenizer, max_frames: int | None = None, **processor_kwargs
    ) -> "UniSignProcessor":
        """A processor with default settings for a model: its hand crops have the model's `rgb_crop_size`.

        Args:
            config (`UniSignConfig`): The model's configuration.
            tokenizer (`T5Tokenizer`): The mT5 tokenizer.
            max_frames (`int`, *optional*): The feature extractor's `max_frames` (default 256; 64 for isolated signs).
            **processor_kwargs: `prompts`, `language`, `max_target_length`.

        Returns:
            `UniSignProcessor`.
        """
        feature_extractor = UniSignPoseFeatureExtractor(**({} if max_frames is None else {"max_frames": max_frames}))
        video_processor = UniSignVideoProcessor(hand_crop_size=config.rgb_crop_size)
        return cls(feature_extractor, tokenizer, video_processor, **processor_kwargs)

    def to_dict(self) -> dict:
        """`ProcessorMixin.to_dict`, without `kept_token_ids` when the vocabulary is whole (folders stay as before)."""
        output = super().to_dict()
        if output.get("kept_token_ids") is None:
            output.pop("kept_token_ids", None)
        return output

    def to_model_ids(self, ids) -> np.ndarray:
        """Tokenizer ids -> the model's ids (their rows for a trimmed model; `<unk>`'s for a token it dropped).

        Args:
            ids: Token ids of the tokenizer, any shape (array or nested lists).

        Returns:
            `np.ndarray` of int64, the shape of `ids`.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if self.kept_token_ids is None:
            return ids
        kept = np.asarray(self.kept_token_ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(kept, ids), len(kept) - 1)
        unknown = np.searchsorted(kept, self.tokenizer.unk_token_id)
        return np.where(kept[rows] == ids, rows, unknown)

    def from_model_ids(self, ids) -> np.ndarray:
        """The model's ids (e.g. generated) -> the tokenizer's: `kept_token_ids[ids]` for a trimmed model.

        Args:
            ids: Token ids of the model, any shape (array or nested lists).

        Returns:
            `np.ndarray` of int64, the shape of `ids`.

        Raises:
            ValueError: for an id outside the trimmed model's vocabulary.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if self.kept_token_ids is None:
            return ids
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.kept_token_ids)):
            raise ValueError(
                f"Token ids must be in [0, {len(self.kept_token_ids)}) for this trimmed vocabulary, got "
                f"[{ids.min()}, {ids.max()}]."
            )
        return np.asarray(self.kept_token_ids, dtype=np.int64)[ids]

    def save_pretrained(self, save_directory, push_to_hub: bool = False, **kwargs):
        """`ProcessorMixin.save_pretrained`, then `add_remote_code`: the folder loads without this package."""
        files = super().save_pretrained(save_directory, push_to_hub=push_to_hub, **kwargs)
        add_remote_code(save_directory)
        return files

    @classmethod
    def _own_subprocessors(cls, processor_dict: dict | None) -> dict:
        """The feature extractor and the video processor of a saved processor, from `processor_config.json`.

        Both are built by their own classes rather than through `AutoFeatureExtractor` and `AutoVideoProcessor`: the
        latter needs torchvision (or `trust_remote_code`) even for a pose-only model, and looks for a
        `video_preprocessor_config.json` that folders saved before the video processor existed lack. Those folders
        kept its settings (`hand_*`, `image_mean`, `image_std`, and the score threshold) in the feature extractor's
        entry: they are read from there.
        """
        processor_dict = processor_dict or {}
        feature_settings = dict(processor_dict.get("feature_extractor") or {})
        video_settings = processor_dict.get("video_processor")
        if video_settings is None:  # a folder saved before the video processor existed
            video_settings = {
                name: feature_settings[name] for name in LEGACY_HAND_SETTINGS if name in feature_settings
            }
            if "score_threshold" in feature_settings:
                video_settings["hand_score_threshold"] = feature_settings["score_threshold"]
        video_settings = {key: value for key, value in video_settings.items() if key != "video_processor_type"}
        feature_settings.pop("feature_extractor_type", None)
        return {
            "feature_extractor": UniSignPoseFeatureExtractor(**feature_settings),
            "video_processor": UniSignVideoProcessor(**video_settings),
        }

    @classmethod
    def _get_arguments_from_pretrained(cls, pretrained_model_name_or_path, processor_dict=None, **kwargs):
        """The three components of a saved processor (transformers 5.23 and 5.24 load through this)."""
        from transformers import AutoTokenizer

        own = cls._own_subprocessors(processor_dict)
        tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, **kwargs)
        return [own["feature_extractor"], tokenizer, own["video_processor"]]

    @classmethod
    def _resolve_subprocessors(cls, pretrained_model_name_or_path, processor_dict, **kwargs):
        """The three components of a saved processor (transformers 5.25 loads through this).

        transformers takes sub-processors passed in `kwargs` as they are and loads the others (the tokenizer).
        """
        kwargs = {**cls._own_subprocessors(processor_dict), **kwargs}
        return super()._resolve_subprocessors(pretrained_model_name_or_path, processor_dict, **kwargs)

    @classmethod
    def _load_tokenizer_from_pretrained(cls, sub_processor_type, pretrained_model_name_or_path, **kwargs):
        """The tokenizer, without the sub-processors that transformers 5.25 passes along with its own kwargs.

        `_resolve_subprocessors` hands the tokenizer every kwarg not yet taken, the video processor (loaded after it)
        included; the tokenizer would keep it in its config, and saving the processor again would fail.
        """
        kwargs = {key: value for key, value in kwargs.items() if key not in cls.get_attributes()}
        return super()._load_tokenizer_from_pretrained(sub_processor_type, pretrained_model_name_or_path, **kwargs)

    def check_argument_for_proper_class(self, argument_name, argument):
        """Check a component against the base class of its kind (`COMPONENT_BASES`), imported from its module.

        `ProcessorMixin` looks the expected classes up by name in transformers' namespace, where
        `VideoProcessorMixin` exists only with torchvision and `MistralCommonBackend` (one of the tokenizer's two
        allowed bases, 5.23 and 5.24) only with mistral-common; without them the lookup fails with `AttributeError`
        (`IMAGE_PROCESSOR_MAPPING`), although none of these components needs those libraries.
        """
        base = COMPONENT_BASES[argument_name]
        if not isinstance(argument, base):
            raise TypeError(
                f"Received a {type(argument).__name__} for argument {argument_name}, but a {base.__name__} "
                "was expected."
            )
        return base

    @property
    def model_input_names(self) -> list[str]:
        """Names of the tensors a batch may hold (prompt, poses, hand crops, labels)."""
        return [
            "input_ids",
            "attention_mask",
            *self.feature_extractor.model_input_names,
            *self.video_processor.model_input_names,
            "labels",
        ]

    def prompt_text(self, language: str | None = None, task: str | None = None) -> str:
        """The prompt of a language (and task): `prompts["<language>/<task>"]` if present, else `prompts[language]`."""
        language = language or self.language
        if task is not None and f"{language}/{task}" in self.prompts:
            return self.prompts[f"{language}/{task}"]
        if language not in self.prompts:
            raise UniSignInputError(f"No prompt for language {language!r}. Prompts exist for {sorted(self.prompts)}.")
        return self.prompts[language]

    def encode_sample(
        self,
        pose,
        text: str | None = None,
        frames: np.ndarray | None = None,
        video: str | None = None,
        language: str | None = None,
        task: str | None = None,
        temporal_sampling: str | None = None,
        hand_sampling: str | None = None,
        rng=None,
        frame_size: tuple[int, int] | None = None,
    ) -> dict[str, np.ndarray]:
        """Model inputs of one sample, unpadded: what a training `Dataset` returns per item (see `pad`).

        Args:
            pose: The clip (see `UniSignPoseFeatureExtractor.sample_clip`).
            text (`str`, *optional*): Target text; gives `labels`.
            frames (`np.ndarray` of shape `(T, height, width, 3)`, *optional*): RGB frames aligned with the clip.
            video (`str`, *optional*): Path of the clip's video instead of `frames`.
            language (`str`, *optional*): Prompt language; defaults to `self.language`.
            task (`str`, *optional*): Task name, for `"<language>/<task>"` prompts.
            temporal_sampling (`str`, *optional*): `"uniform"` or `"random"` (see the feature extractor).
            hand_sampling (`str`, *optional*): `"top"` or `"random"` (see the video processor).
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState` for the random modes.
            frame_size (`tuple[int, int]`, *optional*): `(width, height)` when the keypoints are in pixels.

        Returns:
            `dict[str, np.ndarray]`: `input_ids` `(L,)`, `attention_mask` `(L,)`, `pose_values` `(T, 69, 3)`,
            `pose_attention_mask` `(T,)`, the `hand_*` entries with frames or a video, and `labels` `(L_target,)`
            with a text.
        """
        rng = as_random_generator(
            rng
        )  # one generator for both draws: frames first, then hands (the reference's order)
        clip = self.feature_extractor.sample_clip(pose, temporal_sampling, rng, frame_size)
        features = self.feature_extractor.encode_clip(clip)
        if frames is not None or video is not None:
            features.update(
                self.video_processor.crop_clip(
                    clip.keypoints,
                    clip.scores,
                    frames,
                    video,
                    clip.frame_indices,
                    clip.num_frames,
                    clip.video_frame_offset,
                    hand_sampling,
                    rng,
                )
            )
        prompt_ids = self.to_model_ids(self.tokenizer(self.prompt_text(language, task))["input_ids"])
        features["input_ids"] = prompt_ids
        features["attention_mask"] = np.ones(len(prompt_ids), dtype=np.int64)
        if text is not None:
            if not isinstance(text, str):
                raise ValueError(f"`text` must be a string (one target per sample), got {type(text).__name__}.")
            features["labels"] = self._target_ids([text])[0]
        return features

    def _target_ids(self, texts: list[str]) -> list[np.ndarray]:
        """The model's ids of each target, truncated at `max_target_length` tokens (`</s>` included)."""
        tokenized = self.tokenizer(texts, truncation=True, max_length=self.max_target_length)["input_ids"]
        return [self.to_model_ids(ids) for ids in tokenized]

    def pad(self, samples: list[dict], return_tensors: str | None = "pt") -> BatchFeature:
        """Pad per-sample inputs (from `encode_sample`, or rows of a dataset made from them) into a batch.

        Args:
            samples (`list[dict]`): Per-sample dicts (numpy arrays, tensors or lists).
            return_tensors (`str`, *optional*, defaults to `"pt"`): `"pt"`, `"np"` or `None` (numpy).

        Returns:
            `BatchFeature` with `input_ids` `(B, L)` and `attention_mask` `(B, L)` (left-padded with the pad
            token), `pose_values` `(B, T, 69, 3)` and `pose_attention_mask` `(B, T)`, the `hand_*` tensors
            (including `hand_sample_indices`) when the samples have crops, and `labels` `(B, L_target)` padded with
            -100 when they have targets.
        """
        batch = dict(self.feature_extractor.pad(samples))
        with_hands = [all(name in sample for name in HAND_FEATURE_NAMES) for sample in samples]
        if any(with_hands) and not all(with_hands):
            raise ValueError(
                "Either every clip of a batch has hand crops or none has; clips "
                f"{np.flatnonzero(with_hands).tolist()} have them and the others do not."
            )
        if all(with_hands):
            batch.update(self.video_processor.pad(samples))
        batch["input_ids"], batch["attention_mask"] = _pad_sequences(
            [sample["input_ids"] for sample in samples],
            self.tokenizer.pad_token_id,
            [sample.get("attention_mask") for sample in samples],
            left=True,
        )
        with_labels = ["labels" in sample for sample in samples]
        if any(with_labels) and not all(with_labels):
            raise ValueError("Either every sample of a batch has `labels` or none has.")
        if all(with_labels):
            batch["labels"], _ = _pad_sequences([sample["labels"] for sample in samples], LABEL_PAD_ID)
        return BatchFeature(batch, tensor_type=return_tensors)

    def __call__(
        self,
        poses=None,
        text: str | list[str] | None = None,
        frames=None,
        videos=None,
        language: str | list[str] | None = None,
        task: str | None = None,
        temporal_sampling: str | None = None,
        hand_sampling: str | None = None,
        rng=None,
        frame_size: tuple[int, int] | None = None,
        return_tensors: str | None = "pt",
    ) -> BatchFeature:
        """Model inputs for one clip or a batch of clips (see the class docstring for the steps).

        Args:
            poses (*optional*): One clip or a list of clips (see `UniSignPoseFeatureExtractor.sample_clip`).
                Without poses, only `text` is tokenised into `labels`.
            text (`str` or `list[str]`, *optional*): Target text per clip.
            frames (*optional*): RGB frames per clip (`(T, height, width, 3)` uint8), for the hand crops.
            videos (*optional*): A video path per clip instead of `frames`.
            language (`str` or `list[str]`, *optional*): Prompt language, for all clips or per clip.
            task (`str`, *optional*): Task name, for `"<language>/<task>"` prompts.
            temporal_sampling (`str`, *optional*): `"uniform"` (default) or `"random"`.
            hand_sampling (`str`, *optional*): `"top"` (default) or `"random"`.
            rng (*optional*): Seed, `np.random.Generator` or `np.random.RandomState`, used by the clips in order.
            frame_size (`tuple[int, int]`, *optional*): `(width, height)` when the keypoints are in pixels.
            return_tensors (`str`, *optional*, defaults to `"pt"`): `"pt"`, `"np"` or `None`.

        Returns:
            `BatchFeature`: see `pad`.
        """
        if poses is None:
            if text is None:
                raise ValueError("Give `poses` (clips of keypoints), `text` (targets), or both.")
            texts = [text] if isinstance(text, str) else list(text)
            if not texts:
                raise ValueError("`text` is an empty list: give at least one target.")
            labels, _ = _pad_sequences(self._target_ids(texts), LABEL_PAD_ID)
            return BatchFeature({"labels": labels}, tensor_type=return_tensors)
        clips, frames, videos = batch_clips(poses, frames, videos)
        texts = _per_sample(text, len(clips), "text")
        languages = _per_sample(language, len(clips), "language")
        rng = as_random_generator(rng)
        samples = [
            self.encode_sample(
                clip,
                sample_text,
                clip_frames,
                video,
                sample_language,
                task,
                temporal_sampling,
                hand_sampling,
                rng,
                frame_size,
            )
            for clip, sample_text, clip_frames, video, sample_language in zip(
                clips, texts, frames, videos, languages, strict=True
            )
        ]
        return self.pad(samples, return_tensors=return_tensors)

    def batch_decode(self, sequences, skip_special_tokens: bool = True, **kwargs) -> list[str]:
        """Decode generated ids (or `labels`, whose -100 entries are skipped) into strings.

        Args:
            sequences: `(batch_size, length)` token ids of the model (tensor, array or lists); a trimmed model's are
                mapped back to the tokenizer's (`kept_token_ids`).
            skip_special_tokens (`bool`, *optional*, defaults to `True`): Drop `</s>` and padding, as the reference.
            **kwargs: Passed to the tokenizer's `batch_decode`.

        Returns:
            `list[str]`: One text per sequence.
        """
        sequences = np.asarray(sequences.cpu() if hasattr(sequences, "cpu") else sequences)
        # the pad id is the same in both (`kept_token_ids` keeps ids 0, 1, 2 at their places)
        sequences = self.from_model_ids(np.where(sequences == LABEL_PAD_ID, self.tokenizer.pad_token_id, sequences))
        return self.tokenizer.batch_decode(sequences.tolist(), skip_special_tokens=skip_special_tokens, **kwargs)


def check_kept_token_ids(kept_token_ids) -> list[int] | None:
    """`kept_token_ids` as a list of ints, checked; `None` (the whole vocabulary) stays `None`.

    The ids must be strictly increasing and start with `<pad>`, `</s>` and `<unk>` (0, 1, 2), which keep their ids.

    Raises:
        ValueError: for any other list.
    """
    if kept_token_ids is None:
        return None
    kept = [int(token) for token in kept_token_ids]
    if kept[:3] != [0, 1, 2] or any(later <= earlier for earlier, later in zip(kept, kept[1:], strict=False)):
        raise ValueError(
            "`kept_token_ids` must be strictly increasing token ids starting with 0, 1, 2 (pad, eos, unk), got "
            f"{kept[:5]}{'...' if len(kept) > 5 else ''}."
        )
    return kept


def _per_sample(value, batch_size: int, name: str) -> list:
    """`value` repeated for each sample, or checked to have one entry per sample when it is a list."""
    if value is None or isinstance(value, str):
        return [value] * batch_size
    values = list(value)
    if len(values) != batch_size:
        raise ValueError(f"`{name}` must have one entry per clip ({batch_size}), got {len(values)}.")
    return values


def _pad_sequences(sequences, pad_id: int, masks=None, left: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Pad 1-D id sequences to `(B, L)` with `pad_id` (on the right, or the left with `left=True`).

    Returns the ids and the 0/1 mask of real tokens.
    """
    arrays = [np.asarray(sequence, dtype=np.int64).reshape(-1) for sequence in sequences]
    longest = max(len(array) for array in arrays)
    ids = np.full((len(arrays), longest), pad_id, dtype=np.int64)
    mask = np.zeros((len(arrays), longest), dtype=np.int64)
    for row, array in enumerate(arrays):
        columns = slice(longest - len(array), longest) if left else slice(0, len(array))
        ids[row, columns] = array
        given = None if masks is None or masks[row] is None else np.asarray(masks[row], dtype=np.int64).reshape(-1)
        mask[row, columns] = 1 if given is None else given
    return ids, mask


class UniSignDataCollator:
    """Pads a list of per-sample inputs (`UniSignProcessor.encode_sample` outputs) into a batch of torch tensors.

    Usable as the `data_collator` of a `transformers.Trainer` (with `remove_unused_columns=False`).

    Args:
        processor (`UniSignProcessor`): Gives the pad token and the padding rules.
        return_tensors (`str`, *optional*, defaults to `"pt"`): Tensor type of the batch.
    """

    def __init__(self, processor: UniSignProcessor, return_tensors: str = "pt"):
        self.processor = processor
        self.return_tensors = return_tensors

    def __call__(self, samples: list[dict]) -> dict:
        """Pad `samples` (see `UniSignProcessor.pad`) and return the batch as a plain dict."""
        return dict(self.processor.pad(samples, return_tensors=self.return_tensors))


__all__ = ["DEFAULT_PROMPTS", "UniSignDataCollator", "UniSignProcessor"]
