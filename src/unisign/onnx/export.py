"""Export a pose-only Uni-Sign model to two ONNX graphs: the encoder side and one decoder step with its KV cache.

1. `encoder_model.onnx`: pose encoder + prompt embedding + mT5 encoder, and the decoder's cross-attention keys and
   values computed once from the encoder's output (at batch size, not batch x beams).
2. `decoder_model.onnx`: one decoder step over the self-attention cache (of any length, 0 at the first step) and the
   cross-attention keys and values (a row per decoder row, or one clip's broadcast over all rows: its beams); it
   returns the logits and the step's new self-attention keys and values.

Both are traced through the model's own code (`embed_inputs`, mT5's encoder and decoder with a transformers
`EncoderDecoderCache`) by PyTorch's TorchScript-based exporter (`torch.onnx.export(..., dynamo=False)`). Why not the
alternatives: optimum-onnx 0.1.0 requires transformers < 4.58 (this package needs 5.x); the `torch.export`-based
exporter stops at the model's data-dependent input checks (`embed_inputs` validates masks with Python `if`s) and
would need them rewritten. The traced graphs take dynamic batch, prompt, frame, encoder and cache lengths; the tests
compare them with PyTorch at other lengths than the ones traced.
"""

import copy
import inspect
import json
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.utils import logging

from ..models.unisign.modeling_unisign import UniSignForConditionalGeneration, UniSignGraphConv, UniSignSTGCNBlock
from ..utils.errors import InvalidInputError, UnsupportedError, UsageError
from ..utils.validation import check_loaded_weights, check_model_folder
from .constants import DECODER_FILE, ENCODER_FILE, FOLDER_FILES, FORMAT_NAME, ONNX_CONFIG_FILE, OPSET, QUANTIZATIONS


logger = logging.get_logger(__name__)

# An export is written into a hidden folder beside `out` and renamed at the end. Its name says which process on which
# machine writes it, so that a later export can remove the folder of one that was killed (SIGKILL runs no cleanup):
# `.<out name>.onnx-export-<host>-<pid>-<8 random characters of mkdtemp>.tmp`.
STAGING_TAG = "onnx-export"
STAGING_PATTERN = re.compile(rf"\..+\.{STAGING_TAG}-(?P<host>[A-Za-z0-9]+)-(?P<pid>[0-9]+)-[a-z0-9_]{{8}}\.tmp")


def _host() -> str:
    """This machine's name, letters and digits only (folders on a shared disk may be written by other machines)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname()) or "host"


def _process_alive(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (another user's counts: signalling it is only refused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging folders in `folder` of exports whose process, on this machine, is no longer running.

    Only folders whose name matches `STAGING_PATTERN` exactly, written by this machine, and not symbolic links are
    considered; a folder of a running export (or of another machine, whose processes cannot be checked) is kept.

    Returns:
        The folders removed.
    """
    removed = []
    host = _host()
    for path in folder.glob(f".*.{STAGING_TAG}-*.tmp"):
        match = STAGING_PATTERN.fullmatch(path.name)
        if match is None or match["host"] != host or path.is_symlink() or not path.is_dir():
            continue
        if _process_alive(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        logger.warning(f"Removed `{path}`, left by an ONNX export that was stopped (process {match['pid']}).")
    return removed


def encoder_inputs(embedded, attention_mask: torch.Tensor, pose_attention_mask: torch.Tensor):
    """`(inputs_embeds, attention_mask)` from `embed_inputs`: a `UniSignEncoderInputs`, ModelOutput or tensor."""
    inputs_embeds = getattr(embedded, "inputs_embeds", embedded)
    mask = getattr(embedded, "attention_mask", None)
    if mask is None:
        mask = torch.cat([attention_mask, pose_attention_mask.to(attention_mask.dtype)], dim=1)
    return inputs_embeds, mask


class ChannelShift(nn.Module):
    """Adds a per-channel constant to `(N, C, ...)` features.

    What is left of an eval-mode batch norm once its scale has gone into the weights before it.
    """

    def __init__(self, shift: torch.Tensor):
        super().__init__()
        self.register_buffer("shift", shift)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden + self.shift.view(1, -1, *[1] * (hidden.dim() - 2))


def fold_batch_norms(pose_encoder: nn.Module) -> nn.Module:
    """Fold every eval-mode batch norm of `pose_encoder` into the convolution before it, in place.

    ONNX Runtime folds a `BatchNormalization` only into a `Conv` that feeds it directly; here reshapes and transposes
    (the pose encoder's channels-last layout) or the graph convolution's adjacency product stand between them, and its
    batch-norm kernel over `(B*T*V, C, 1, 1)` took ~0.13 s of a 250-frame clip. A graph convolution is linear in
    its 1x1 convolution's output channel by channel, so the scale goes into that convolution's weights and bias
    (every subset) and the shift stays as a `ChannelShift` after the adjacency product.
    """
    for module in pose_encoder.modules():
        if isinstance(module, UniSignGraphConv):
            norm = module.norm
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            subsets = module.num_subsets
            module.conv.weight.data.mul_(scale.repeat(subsets).view(-1, 1, 1, 1))
            module.conv.bias.data.mul_(scale.repeat(subsets))
            module.norm = ChannelShift(norm.bias - norm.running_mean * scale)
        elif isinstance(module, UniSignSTGCNBlock):
            if module.temporal_conv is not None:
                module.temporal_conv = fuse_conv_bn_eval(module.temporal_conv, module.temporal_norm)
                module.temporal_norm = nn.Identity()
            if module.residual is not None:
                module.residual = nn.Sequential(fuse_conv_bn_eval(*module.residual))
    return pose_encoder


@contextmanager
def pose_encoder_for_export(model: UniSignForConditionalGeneration) -> Iterator[None]:
    """Let `model` run with a copy of its pose encoder made for inference graphs, with the same outputs.

    Its batch norms are folded (`fold_batch_norms`), and both hands go through the shared hand encoder in one batch
    (`batch_hands_together`, the same in eval mode): one product per layer for the two hands, whose weight stays one
    constant; traced twice, each weight became two uses of one initializer through an `Identity`, which ONNX Runtime's
    quantiser leaves in float32.
    """
    original = model.pose_encoder
    model.pose_encoder = fold_batch_norms(copy.deepcopy(original).eval())
    model.pose_encoder.batch_hands_together = True
    try:
        yield
    finally:
        model.pose_encoder = original


def cache_holding(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> DynamicCache:
    """A `DynamicCache` whose layers hold `pairs` themselves.

    Its constructor concatenates each pair onto an empty tensor: traced, that is a copy of every cached tensor at
    every step (for the cross-attention of mT5-base and a 250-frame clip, 80 MB a step).
    """
    cache = DynamicCache(pairs)
    for layer, (keys, values) in zip(cache.layers, pairs, strict=True):
        layer.keys, layer.values = keys, values
    return cache


class UniSignOnnxEncoder(nn.Module):
    """Prompt + poses -> encoder states `(B, L + T, D)`, their mask, and every decoder layer's cross-attention K, V."""

    def __init__(self, model: UniSignForConditionalGeneration):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, pose_values, pose_attention_mask):
        embedded = self.model.embed_inputs(input_ids, pose_values, pose_attention_mask, attention_mask)
        inputs_embeds, mask = encoder_inputs(embedded, attention_mask, pose_attention_mask)  # (B, S, D), (B, S)
        language_model = self.model.language_model
        hidden = language_model.get_encoder()(inputs_embeds=inputs_embeds, attention_mask=mask).last_hidden_state
        batch, length = hidden.shape[:2]
        cross = []
        for block in language_model.get_decoder().block:
            attention = block.layer[1].EncDecAttention  # mT5's cross-attention: what it computes at the first step
            for projection in (attention.k, attention.v):
                cross.append(projection(hidden).view(batch, length, -1, attention.key_value_proj_dim).transpose(1, 2))
        return hidden, mask, torch.stack(cross, dim=1)  # (B, S, D), (B, S), (B, 2 * layers, H, S, d_kv)


class UniSignOnnxDecoderStep(nn.Module):
    """One decoder step: new tokens `(N, 1)` + caches -> logits `(N, 1, V)` and the step's self-attention K, V."""

    def __init__(self, model: UniSignForConditionalGeneration):
        super().__init__()
        self.language_model = model.language_model
        self.num_layers = model.config.text_config.num_decoder_layers

    def forward(self, decoder_input_ids, encoder_attention_mask, *key_values):
        layers = self.num_layers
        past = [(key_values[2 * i], key_values[2 * i + 1]) for i in range(layers)]  # each (N, H, P, d_kv)
        cross = [(key_values[2 * (layers + i)], key_values[2 * (layers + i) + 1]) for i in range(layers)]
        cache = EncoderDecoderCache(cache_holding(past), cache_holding(cross))
        # the cross-attention reads its keys and values from the cache; mT5 takes from `encoder_hidden_states` only
        # the batch size, length and dtype of its mask, so a (N, S, 1) stand-in keeps the graph free of the states
        stand_in = encoder_attention_mask[:, :, None].to(cross[0][0].dtype)
        logits = self.language_model(
            encoder_outputs=(stand_in,),
            attention_mask=encoder_attention_mask,
            decoder_input_ids=decoder_input_ids,
            use_cache=True,
            return_dict=True,
            **{cache_argument(self.language_model): cache},
        ).logits
        steps = decoder_input_ids.shape[1]
        new = []
        for layer in cache.self_attention_cache.layers:  # updated in place
            new += [layer.keys[:, :, -steps:], layer.values[:, :, -steps:]]
        return (logits, *new)


def cache_argument(model: nn.Module) -> str:
    """The name of `model.forward`'s KV cache argument: `cache` since transformers 5.24, `past_key_values` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _example_inputs(model: UniSignForConditionalGeneration) -> tuple[tuple, tuple]:
    """Traced example inputs: a padded batch of 2 (so that the masks stay in the graph) and a 3-token cache."""
    config, text = model.config, model.config.text_config
    generator = torch.Generator().manual_seed(0)
    batch, prompt, frames = 2, 5, 11
    input_ids = torch.randint(2, text.vocab_size, (batch, prompt), generator=generator)
    attention_mask = torch.ones(batch, prompt, dtype=torch.long)
    attention_mask[1, -1] = 0
    pose_values = torch.rand(batch, frames, config.num_pose_nodes, config.pose_input_channels, generator=generator)
    pose_attention_mask = torch.ones(batch, frames, dtype=torch.long)
    pose_attention_mask[1, -3:] = 0
    encoder = (input_ids, attention_mask, pose_values, pose_attention_mask)
    length, past, heads, d_kv = prompt + frames, 3, text.num_heads, text.d_kv
    caches = [torch.randn(batch, heads, past, d_kv, generator=generator) for _ in range(2 * text.num_decoder_layers)]
    # one clip's cross-attention keys and values for both rows: traced broadcasting over the beams (see
    # `UniSignOnnxModel.cross_attention_feeds`); a batch of clips feeds as many rows as the decoder has
    caches += [torch.randn(1, heads, length, d_kv, generator=generator) for _ in range(2 * text.num_decoder_layers)]
    decoder = (torch.tensor([[4], [7]]), torch.cat([attention_mask, pose_attention_mask], dim=1), *caches)
    return encoder, decoder


def decoder_io_names(num_layers: int) -> tuple[list[str], list[str]]:
    """Input and output names of the decoder graph."""
    pairs = [(f"past_key_{i}", f"past_value_{i}") for i in range(num_layers)]
    pairs += [(f"cross_key_{i}", f"cross_value_{i}") for i in range(num_layers)]
    inputs = ["decoder_input_ids", "encoder_attention_mask", *[name for pair in pairs for name in pair]]
    outputs = ["logits", *[name for i in range(num_layers) for name in (f"new_key_{i}", f"new_value_{i}")]]
    return inputs, outputs


def _export_graph(module: nn.Module, args: tuple, path: Path, inputs: list, outputs: list, axes: dict) -> None:
    """Trace `module` into `path` (weights in one external-data file beside it: mT5-base passes ONNX's 2 GB limit)."""
    with warnings.catch_warnings():
        # the tracer's notes on Python values it records as constants (the model's input checks, cache bookkeeping)
        # and the TorchScript exporter's deprecation: the tests check the graphs at other shapes than the traced ones
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    import onnx

    graph = onnx.load(str(path))
    onnx.save_model(
        graph, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + ".data"
    )
    path.with_name(path.name + ".data").chmod(0o644)  # onnx writes it private to its writer


def export_onnx(
    model: UniSignForConditionalGeneration | str | Path,
    out: str | Path,
    quantize: str | None = None,
    verify: bool = False,
) -> Path:
    """Export a pose-only Uni-Sign model folder (or model) to an ONNX folder that `UniSignOnnxModel` loads.

    Args:
        model: A model folder (`save_pretrained`, `train.py` export, `unisign convert`) or a loaded model; a folder's
            processor, tokenizer, generation config and model card are copied next to the graphs.
        out: The output folder; it must not exist or be empty, and must not be the model folder.
        quantize (`str`, *optional*): `"int8"`: dynamic int8 quantisation of the matrix products
            (`unisign.onnx.quantization`).
        verify (`bool`, *optional*, defaults to `False`): Compare a folder's weights with their recorded SHA-256s and
            read every tensor before loading them (`check_model_folder`); by default their sizes and headers are
            checked before loading and the loaded weights after.

    Returns:
        The output folder.

    Raises:
        UnsupportedError (a `NotImplementedError`): for RGB-pose models (their EfficientNet branch and hand-crop
            gathering are not exported).
        UsageError, InvalidInputError (`ValueError`s): for a bad `quantize`, a bad `out`, or a model folder whose
            weights are truncated, non-finite or (with `verify`) differ from their recorded checksums.
    """
    from .quantization import quantize_folder
    from .runtime import require_onnxruntime

    require_onnxruntime()
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise UsageError(f"Unknown `quantize` {quantize!r}. Available: {list(QUANTIZATIONS)}.")
    source = None
    if not isinstance(model, nn.Module):
        source = Path(model)
        if not (source / "config.json").is_file():
            raise InvalidInputError(f"`{source}` is not a Uni-Sign model folder (no config.json).")
        # the weights an export copies into graphs: complete and finite (with `verify`, also as recorded)
        check_model_folder(source, tokenizer=False, verify=verify)
        model = UniSignForConditionalGeneration.from_pretrained(source, dtype=torch.float32)
        if not verify:
            check_loaded_weights(model, source)
    if model.config.use_rgb:
        raise UnsupportedError(
            "ONNX export supports pose-only models; this model uses RGB hand crops (`use_rgb=True`)."
        )
    out = Path(out)
    if source is not None and out.resolve() == source.resolve():
        raise InvalidInputError("`out` must not be the model folder: the export would overwrite its input.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(f"`{out}` exists and is not an empty folder: choose a new output folder.")
    model = model.float().eval()
    text = model.config.text_config
    encoder_args, decoder_args = _example_inputs(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out.parent)
    prefix = f".{out.name}.{STAGING_TAG}-{_host()}-{os.getpid()}-"
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=prefix, suffix=".tmp"))
    staging.chmod(0o755)  # mkdtemp's 0700 would make the export private to its writer
    try:
        with torch.no_grad(), pose_encoder_for_export(model):
            _export_graph(
                UniSignOnnxEncoder(model).eval(),
                encoder_args,
                staging / ENCODER_FILE,
                ["input_ids", "attention_mask", "pose_values", "pose_attention_mask"],
                ["encoder_hidden_states", "encoder_attention_mask", "cross_key_values"],
                {
                    "input_ids": {0: "batch", 1: "prompt"},
                    "attention_mask": {0: "batch", 1: "prompt"},
                    "pose_values": {0: "batch", 1: "frames"},
                    "pose_attention_mask": {0: "batch", 1: "frames"},
                    "encoder_hidden_states": {0: "batch", 1: "encoder_length"},
                    "encoder_attention_mask": {0: "batch", 1: "encoder_length"},
                    "cross_key_values": {0: "batch", 3: "encoder_length"},
                },
            )
            inputs, outputs = decoder_io_names(text.num_decoder_layers)
            axes = {"decoder_input_ids": {0: "batch", 1: "steps"}, "encoder_attention_mask": {0: "batch", 1: "length"}}
            axes.update({name: {0: "batch", 2: "past"} for name in inputs if name.startswith("past_")})
            axes.update({name: {0: "cross_batch", 2: "length"} for name in inputs if name.startswith("cross_")})
            axes.update({name: {0: "batch", 2: "steps"} for name in outputs if name.startswith("new_")})
            axes["logits"] = {0: "batch", 1: "steps"}
            _export_graph(
                UniSignOnnxDecoderStep(model).eval(), decoder_args, staging / DECODER_FILE, inputs, outputs, axes
            )
        model.config.save_pretrained(staging)
        model.generation_config.save_pretrained(staging)
        if source is not None:
            for name in FOLDER_FILES[2:]:
                if (source / name).is_file():
                    shutil.copy2(source / name, staging / name)
        onnx_config = {
            "format": FORMAT_NAME,
            "encoder": ENCODER_FILE,
            "decoder": DECODER_FILE,
            "num_decoder_layers": text.num_decoder_layers,
            "num_heads": text.num_heads,
            "d_kv": text.d_kv,
            "quantization": None,
            "opset": OPSET,
            "exporter": f"torch.onnx (TorchScript) {torch.__version__}",
            "onnx": version("onnx"),
        }
        (staging / ONNX_CONFIG_FILE).write_text(json.dumps(onnx_config, indent=2) + "\n")
        if quantize is not None:
            quantize_folder(staging, quantize)
        if out.exists():
            out.rmdir()
        staging.rename(out)  # atomic: a failed export leaves no half-written folder behind
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


__all__ = ["export_onnx", "remove_stale_staging"]
