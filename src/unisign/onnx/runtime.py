"""Run an exported Uni-Sign folder with ONNX Runtime; `generate` is transformers' own (greedy, beam search, ...).

`UniSignOnnxModel` is a `PreTrainedModel` + `GenerationMixin` without weights whose `forward` runs one decoder step
in ONNX Runtime: transformers' generation loop then does beam search, length penalty, early stopping and stopping
criteria exactly as for the PyTorch model, and keeps the KV cache in its own `EncoderDecoderCache` (reordered
between beam steps by the cache itself). All of the model's arithmetic runs in ONNX Runtime; PyTorch only holds the
beam bookkeeping and the cache, and numpy arrays cross at the session boundary. This needs PyTorch at run time: the
alternative, a hand-written numpy beam search, would have to follow every change of transformers' beam search to
keep giving the same ids, which the reuse gets for free.
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import GenerationConfig, GenerationMixin, PreTrainedModel
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.modeling_outputs import ModelOutput, Seq2SeqLMOutput
from transformers.utils import logging

from ..models.unisign.configuration_unisign import UniSignConfig, check_generation_bounds
from ..models.unisign.modeling_unisign import check_pose_input_shapes, check_pose_input_values
from ..utils.errors import InvalidInputError, UnsupportedError
from .constants import FORMAT_NAME, ONNX_CONFIG_FILE


logger = logging.get_logger(__name__)


def require_onnxruntime():
    """Import `onnxruntime`, or raise one `ImportError` line that names the package to install."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "The ONNX backend needs ONNX Runtime: `pip install onnxruntime` (or `pip install unisign[onnx]`)."
        ) from error
    return onnxruntime


def is_onnx_folder(path: str | Path) -> bool:
    """Whether `path` is a folder written by `export_onnx` (it holds `onnx_config.json`)."""
    return (Path(path) / ONNX_CONFIG_FILE).is_file()


def read_onnx_config(folder: str | Path) -> dict:
    """The folder's `onnx_config.json`, checked; a clear `ValueError` for anything that is not an ONNX export."""
    folder = Path(folder)
    path = folder / ONNX_CONFIG_FILE
    if not path.is_file():
        raise InvalidInputError(
            f"`{folder}` is not an ONNX export of a Uni-Sign model (no {ONNX_CONFIG_FILE}): make one with "
            "`unisign export-onnx MODEL_FOLDER --out DIR`."
        )
    try:
        onnx_config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"`{path}` is not valid JSON: {error}.") from error
    if not isinstance(onnx_config, dict) or onnx_config.get("format") != FORMAT_NAME:
        raise InvalidInputError(f"`{path}` does not describe a `{FORMAT_NAME}` export.")
    missing = [onnx_config.get(key) for key in ("encoder", "decoder")]
    missing = [name for name in missing if not name or not (folder / name).is_file()]
    if missing or not (folder / "config.json").is_file():
        raise InvalidInputError(f"`{folder}` lacks files of its ONNX export: {missing or ['config.json']}.")
    return onnx_config


@dataclass
class UniSignOnnxEncoderOutput(ModelOutput):
    """The encoder graph's outputs, in the form `generate` expands for beam search (every tensor along dim 0).

    Args:
        last_hidden_state (`torch.FloatTensor` of shape `(batch_size, encoder_length, d_model)`): mT5 encoder output.
        cross_key_values (`torch.FloatTensor` of shape `(batch_size, 2 * num_decoder_layers, num_heads,
            encoder_length, d_kv)`): every decoder layer's cross-attention keys and values, in that order.
        cross_attention_feeds (`dict[str, np.ndarray]`, *optional*): The decoder's `cross_key_{i}` /
            `cross_value_{i}` inputs split from them, made once a generation (`UniSignOnnxModel.forward`). They
            belong to this output, not to the model, so that threads sharing one model each decode their own clip.
    """

    last_hidden_state: torch.FloatTensor | None = None
    cross_key_values: torch.FloatTensor | None = None
    cross_attention_feeds: dict[str, np.ndarray] | None = None


class UniSignOnnxModel(PreTrainedModel, GenerationMixin):
    """An ONNX export of a pose-only Uni-Sign model: prompt + poses -> text, with transformers' `generate`.

    Example:
    ```python
    >>> from unisign import UniSignProcessor
    >>> from unisign.onnx import UniSignOnnxModel

    >>> model = UniSignOnnxModel.from_pretrained("path/to/onnx-folder")
    >>> processor = UniSignProcessor.from_pretrained("path/to/onnx-folder")
    >>> inputs = processor(poses=[sample], language="en", return_tensors="pt")
    >>> text = processor.batch_decode(model.generate(**inputs), skip_special_tokens=True)
    ```
    """

    config: UniSignConfig
    main_input_name = "pose_values"

    def __init__(self, config: UniSignConfig, folder: str | Path | None = None, num_threads: int | None = None):
        super().__init__(config)
        self.folder = None
        self.post_init()
        if folder is not None:
            self.load_sessions(folder, num_threads)

    @classmethod
    def from_pretrained(cls, folder: str | Path, num_threads: int | None = None, **kwargs) -> "UniSignOnnxModel":
        """Load an `export_onnx` folder: its config, generation config and the two ONNX Runtime sessions.

        Args:
            folder: The exported folder.
            num_threads (`int`, *optional*): ONNX Runtime threads per session (default: its own, one per core).
        """
        if kwargs:
            logger.warning(f"`UniSignOnnxModel.from_pretrained` ignores {sorted(kwargs)}.")
        read_onnx_config(folder)
        model = cls(UniSignConfig.from_pretrained(folder), folder, num_threads)
        if (Path(folder) / "generation_config.json").is_file():
            model.generation_config = GenerationConfig.from_pretrained(folder)
        return model.eval()

    def load_sessions(self, folder: str | Path, num_threads: int | None = None) -> None:
        """Open the encoder and decoder graphs of `folder` in ONNX Runtime (CPU)."""
        onnxruntime = require_onnxruntime()
        if self.config.use_rgb:
            raise UnsupportedError("The ONNX backend supports pose-only models; this config has `use_rgb=True`.")
        self.folder = Path(folder)
        self.onnx_config = read_onnx_config(folder)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # ORT's worker threads spin for a while after each call, and between two decoder calls the beam search runs
        # in PyTorch on the same cores: on 2 cores the spinning cost more than it saved (benchmarks/RESULTS.md)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
        providers = ["CPUExecutionProvider"]
        self.encoder_session = onnxruntime.InferenceSession(
            str(self.folder / self.onnx_config["encoder"]), options, providers=providers
        )
        self.decoder_session = onnxruntime.InferenceSession(
            str(self.folder / self.onnx_config["decoder"]), options, providers=providers
        )
        self.decoder_inputs = {item.name for item in self.decoder_session.get_inputs()}

    @property
    def device(self) -> torch.device:
        """The sessions run on the CPU; generation's bookkeeping tensors live there too."""
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """Inputs and outputs of the graphs are float32 (an int8 export quantises inside the graph)."""
        return torch.float32

    def get_encoder(self):
        """The encoder side is `encode`; `generate` gets its output as `encoder_outputs`."""
        return self.encode

    def encode(
        self,
        input_ids: torch.LongTensor,
        pose_values: torch.FloatTensor,
        pose_attention_mask: torch.LongTensor | None = None,
        attention_mask: torch.LongTensor | None = None,
    ) -> tuple[UniSignOnnxEncoderOutput, torch.LongTensor]:
        """Run the encoder graph.

        Args:
            input_ids, pose_values, pose_attention_mask, attention_mask: As for
                [`~UniSignForConditionalGeneration.embed_inputs`].

        Returns:
            `(UniSignOnnxEncoderOutput, encoder_attention_mask of shape (batch_size, prompt_length + num_frames))`.
        """
        if pose_values is not None and pose_attention_mask is None:
            pose_attention_mask = torch.ones(pose_values.shape[:2], dtype=torch.long)
        if input_ids is not None and attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        # the PyTorch model's checks, so that bad inputs fail with one clear line, not inside ORT (on the CPU, the
        # value checks cost no wait for an accelerator)
        check_pose_input_shapes(self.config, input_ids, attention_mask, pose_values, pose_attention_mask)
        check_pose_input_values(pose_values, pose_attention_mask)
        feeds = {
            "input_ids": input_ids.cpu().numpy().astype(np.int64),
            "attention_mask": attention_mask.cpu().numpy().astype(np.int64),
            "pose_values": pose_values.cpu().numpy().astype(np.float32),
            "pose_attention_mask": pose_attention_mask.cpu().numpy().astype(np.int64),
        }
        hidden, mask, cross = self.encoder_session.run(None, feeds)
        outputs = UniSignOnnxEncoderOutput(
            last_hidden_state=torch.from_numpy(hidden), cross_key_values=torch.from_numpy(cross)
        )
        return outputs, torch.from_numpy(mask)

    def forward(
        self,
        decoder_input_ids: torch.LongTensor,
        encoder_outputs: UniSignOnnxEncoderOutput,
        attention_mask: torch.LongTensor,
        cache: EncoderDecoderCache | None = None,
        past_key_values: EncoderDecoderCache | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> Seq2SeqLMOutput:
        """Decoder logits for `decoder_input_ids`, one ONNX Runtime call per token after those in the cache.

        Args:
            decoder_input_ids (`torch.LongTensor` of shape `(batch_size, steps)`): The tokens not yet in the cache.
            encoder_outputs (`UniSignOnnxEncoderOutput`): From `encode` (expanded for beams by `generate`).
            attention_mask (`torch.LongTensor` of shape `(batch_size, encoder_length)`): The encoder's mask.
            cache, past_key_values (`EncoderDecoderCache`, *optional*): The KV cache (transformers 5.24 calls it
                `cache`, older versions `past_key_values`); a new one is made when neither is given.

        Returns:
            `Seq2SeqLMOutput` with `logits` of shape `(batch_size, steps, vocab_size)` and the updated cache.
        """
        cache = cache if cache is not None else past_key_values
        if cache is None:
            cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
        layers = self.onnx_config["num_decoder_layers"]
        self_cache = cache.self_attention_cache
        batch = decoder_input_ids.shape[0]
        empty = np.zeros((batch, self.onnx_config["num_heads"], 0, self.onnx_config["d_kv"]), dtype=np.float32)
        feeds = {"encoder_attention_mask": attention_mask.cpu().numpy().astype(np.int64)}
        if encoder_outputs.cross_attention_feeds is None:  # split once a generation, kept with its encoder output
            encoder_outputs.cross_attention_feeds = self.cross_attention_feeds(encoder_outputs.cross_key_values)
        feeds |= encoder_outputs.cross_attention_feeds
        logits = []
        # one token at a time: the graph was traced for the single-token steps of cached generation
        for step in range(decoder_input_ids.shape[1]):
            feeds["decoder_input_ids"] = decoder_input_ids[:, step : step + 1].cpu().numpy().astype(np.int64)
            for layer in range(layers):
                initialized = self_cache.get_seq_length(layer) > 0
                past = self_cache.layers[layer] if initialized else None
                feeds[f"past_key_{layer}"] = past.keys.numpy() if initialized else empty
                feeds[f"past_value_{layer}"] = past.values.numpy() if initialized else empty
            step_logits, *new = self.decoder_session.run(
                None, {k: v for k, v in feeds.items() if k in self.decoder_inputs}
            )
            for layer in range(layers):
                self_cache.update(torch.from_numpy(new[2 * layer]), torch.from_numpy(new[2 * layer + 1]), layer)
            logits.append(torch.from_numpy(step_logits))
        return Seq2SeqLMOutput(logits=torch.cat(logits, dim=1), cache=cache)

    def cross_attention_feeds(self, cross_key_values: torch.Tensor) -> dict[str, np.ndarray]:
        """The decoder's `cross_key_{i}` / `cross_value_{i}` inputs, split from the encoder output.

        `generate` passes the same encoder output at every step, so the split is made once a generation and kept in
        it (`UniSignOnnxEncoderOutput.cross_attention_feeds`): nothing of a generation is kept on the model, which
        threads may share. They stay out of the KV cache on
        purpose: transformers reorders every cached tensor after each beam-search step (`index_select` over the
        beams), while the beams of one clip share these, so that reordering (about 80 MB of copies per step for
        mT5-base and a 250-frame clip) would change nothing. When one clip is translated, its keys and values go in
        once, not once per beam: the graph broadcasts them over the rows of the step, which spares the decoder
        reading a copy per beam at every step (int8 mT5-base, 4 beams: 1.45 -> 1.36 s a translation).

        Args:
            cross_key_values (`torch.FloatTensor` of shape `(batch_size, 2 * num_decoder_layers, num_heads,
                encoder_length, d_kv)`): keys and values of each layer, from `encode` (expanded for beams).
        """
        feeds = {}
        for layer in range(self.onnx_config["num_decoder_layers"]):
            feeds[f"cross_key_{layer}"] = cross_key_values[:, 2 * layer].contiguous().numpy()
            feeds[f"cross_value_{layer}"] = cross_key_values[:, 2 * layer + 1].contiguous().numpy()
        return feeds

    @torch.no_grad()
    def generate(self, input_ids=None, pose_values=None, pose_attention_mask=None, attention_mask=None, **kwargs):
        """Translate clips as `UniSignForConditionalGeneration.generate` does, with its arguments and defaults.

        The prompt (`input_ids`, `attention_mask`) and the poses (`pose_values`, `pose_attention_mask`) go through
        the encoder graph; `kwargs` are anything transformers' generation takes (`num_beams`, `max_new_tokens`, ...).

        Returns:
            `torch.LongTensor` of shape `(batch_size * num_return_sequences, generated_length)`.
        """
        generate_kwargs = kwargs
        for name in ("labels", "decoder_input_ids", "decoder_attention_mask"):
            generate_kwargs.pop(name, None)
        if any(name.startswith("hand_") for name in generate_kwargs):
            raise UnsupportedError("The ONNX backend supports pose-only models: hand crops were given.")
        settings = copy.deepcopy(generate_kwargs.get("generation_config") or self.generation_config)
        settings.update(**{name: value for name, value in generate_kwargs.items() if name != "generation_config"})
        check_generation_bounds(settings)
        encoder_outputs, mask = self.encode(input_ids, pose_values, pose_attention_mask, attention_mask)
        if mask.shape[0] == 1:  # every row `generate` makes is a copy of this one: split before the expansion
            encoder_outputs.cross_attention_feeds = self.cross_attention_feeds(encoder_outputs.cross_key_values)
        return super().generate(encoder_outputs=encoder_outputs, attention_mask=mask, **generate_kwargs)


__all__ = ["UniSignOnnxModel", "is_onnx_folder", "require_onnxruntime"]
