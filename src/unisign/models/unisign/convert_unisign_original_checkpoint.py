"""Convert the authors' Uni-Sign checkpoints (`torch.save({"model": state_dict})`) into `save_pretrained` folders.

The reference state dict holds the shared hand encoder twice (`...left...` and `...right...`), the mT5 input
embedding three times, and an unused `fusion_pose_rgb_linear`. The converter checks that the duplicates really are
equal, drops them, renames every other key, and refuses to go on when a key is neither mapped nor known to be unused.

Usage:
    unisign convert csl_daily_pose_only_slt.pth --text-config google/mt5-base --out uni-sign-csl-daily-slt \
        --tokenizer google/mt5-base
"""

import re
from pathlib import Path

import torch
from transformers import AutoConfig, PreTrainedConfig
from transformers.utils import logging

from ...hub.released_checkpoints import REFERENCE_CHECKPOINTS, released_checkpoint
from ...utils.errors import InvalidInputError, MissingInputError, UsageError
from ...utils.validation import check_plausible_weights, check_safetensors_file
from .configuration_unisign import UniSignConfig
from .modeling_unisign import UniSignForConditionalGeneration


logger = logging.get_logger(__name__)

REFERENCE_PARTS = {"body": "body", "right": "hand", "face_all": "face"}
UNUSED_PREFIXES = ("fusion_pose_rgb_linear.",)  # built but never called by the reference
# keys whose values must equal another key's, which the converted model shares
DUPLICATES = [
    (r"^(proj_linear|gcn_modules|fusion_gcn_modules)\.left\.(.*)$", r"\1.right.\2"),
    (r"^mt5_model\.(encoder|decoder)\.embed_tokens\.weight$", "mt5_model.shared.weight"),
]
BLOCK_RENAMES = [
    (r"gcn\.conv\.", "graph_conv.conv."),
    (r"gcn\.A$", "graph_conv.adjacency"),
    (r"gcn\.bn\.", "graph_conv.norm."),
    (r"tcn\.0\.", "temporal_conv."),
    (r"tcn\.1\.", "temporal_norm."),
]
FUSION_RENAMES = {
    "cross_attn.": "cross_attention.",
    "pe_layer.positional_encoding_gaussian_matrix": "prior_frequencies",
    "to_offsets.": "offset_net.",
    "rel_pos_bias.mlp.0.0.": "position_bias.0.",
    "rel_pos_bias.mlp.1.0.": "position_bias.2.",
    "rel_pos_bias.mlp.2.": "position_bias.4.",
}


def _rename(key: str) -> str | None:
    """Our name for a reference key, or `None` if the key has no counterpart."""
    if match := re.match(r"^proj_linear\.(\w+)\.(weight|bias)$", key):
        return f"pose_encoder.parts.{REFERENCE_PARTS[match[1]]}.embed.{match[2]}"
    if match := re.match(r"^(gcn_modules|fusion_gcn_modules)\.(\w+)\.layer(\d+)_(\d+)\.(.*)$", key):
        chain = "spatial" if match[1] == "gcn_modules" else "temporal"
        index = int(match[3]) if chain == "spatial" else int(match[4])
        rest = match[5]
        for pattern, replacement in BLOCK_RENAMES:
            rest = re.sub("^" + pattern, replacement, rest)
        return f"pose_encoder.parts.{REFERENCE_PARTS[match[2]]}.{chain}.{index}.{rest}"
    if key == "part_para":
        return "pose_encoder.part_bias"
    if key.startswith("pose_proj."):
        return key.replace("pose_proj.", "pose_projection.")
    if key.startswith("mt5_model."):
        return key.replace("mt5_model.", "language_model.")
    if key.startswith("rgb_support_backbone.0."):
        return key.replace("rgb_support_backbone.0.", "hand_image_encoder.backbone.")
    if key.startswith("rgb_proj."):
        return key.replace("rgb_proj.", "hand_image_encoder.projection.")
    if key.startswith("fusion_gate."):
        return key.replace("fusion_gate.", "prior_guided_fusion.gate.")
    if key.startswith("fusion_pose_rgb_DA."):
        rest = key.removeprefix("fusion_pose_rgb_DA.")
        for old, new in FUSION_RENAMES.items():
            if rest.startswith(old):
                rest = new + rest.removeprefix(old)
                break
        return f"prior_guided_fusion.{rest}"
    return None


def convert_reference_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a reference state dict to `UniSignForConditionalGeneration`'s keys.

    Duplicates are checked for equality and dropped; the unused `fusion_pose_rgb_linear` is dropped.

    Raises:
        ValueError: a duplicate differs from its original, or a key is unknown.
    """
    converted, unknown = {}, []
    for key, value in state_dict.items():
        if key.startswith(UNUSED_PREFIXES):
            continue
        duplicate_of = next((re.sub(p, r, key) for p, r in DUPLICATES if re.match(p, key)), None)
        if duplicate_of is not None:
            original = state_dict.get(duplicate_of)
            if original is None or not torch.equal(original, value):
                raise InvalidInputError(
                    f"`{key}` should equal `{duplicate_of}` (the reference shares them), but "
                    f"{'the latter is missing' if original is None else 'their values differ'}."
                )
            continue
        new_key = _rename(key)
        if new_key is None:
            unknown.append(key)
            continue
        if new_key.startswith("prior_guided_fusion.to_") and value.dim() == 4:
            value = value.squeeze(-1)  # the reference's grouped Conv2d 1x1 on a (C, 1, V) map is our Conv1d
        converted[new_key] = value
    if unknown:
        raise InvalidInputError(f"{len(unknown)} keys of the checkpoint are not part of Uni-Sign: {unknown[:10]}")
    return converted


def load_reference_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a reference checkpoint: `.pth` (`{"model": state_dict}`, `weights_only=True`) or `.safetensors`."""
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"No checkpoint file at {path}.")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        check_safetensors_file(path)  # a truncated or damaged file: one clear error instead of safetensors' own
        return load_file(path)
    if path.suffix.lower() not in (".pth", ".pt", ".bin"):
        raise InvalidInputError(f"Expected a `.pth` or `.safetensors` reference checkpoint, got {path.name}.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError or RuntimeError depending on what it found
        raise InvalidInputError(
            f"{path.name} could not be read with `torch.load(weights_only=True)`: it holds more than tensors, or is "
            f"not a checkpoint. Files that need arbitrary unpickling are refused. ({error})"
        ) from error
    state_dict = checkpoint.get("model", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise InvalidInputError(
            f"{path.name} is not a Uni-Sign checkpoint: expected {{'model': state_dict}} of tensors."
        )
    for name, tensor in state_dict.items():
        check_plausible_weights(name, tensor, path)
    return state_dict


def checkpoint_language(checkpoint, language: str | None = None) -> str:
    """The prompt language of a checkpoint: `language` when given, else that of the released file it is named as.

    Raises:
        ValueError: if `language` is `None` and the name is not one of the released files (`released_checkpoints`).
    """
    if language is not None:
        return language
    released = released_checkpoint(checkpoint) if isinstance(checkpoint, str | Path) else None
    if released is None:
        name = Path(checkpoint).name if isinstance(checkpoint, str | Path) else "a state dict"
        known = ", ".join(f"{c.name} ({c.language})" for c in REFERENCE_CHECKPOINTS)
        raise UsageError(
            f"Cannot tell the language of {name}: it is not a released file name ({known}). Give it with "
            "`--language` (`language=`): zh or en."
        )
    return released.language


def convert_reference_checkpoint(
    checkpoint: str | Path | dict[str, torch.Tensor],
    text_config: str | Path | PreTrainedConfig,
    tokenizer=None,
    dtype: torch.dtype = torch.float32,
    language: str | None = None,
    max_frames: int | None = None,
    **config_kwargs,
):
    """Build a `UniSignForConditionalGeneration` from a reference checkpoint.

    Args:
        checkpoint: Path of a reference `.pth`/`.safetensors` file, or a state dict in the reference's key layout.
        text_config: The mT5 config, or a folder / Hub id holding one (e.g. `google/mt5-base`).
        tokenizer: Optional mT5 tokenizer (or folder / Hub id); then a `UniSignProcessor` is built too.
        dtype: Weight dtype of the converted model (the released files are bf16; float32 by default).
        language: Default prompt language of the processor: `zh` for the CSL checkpoints, `en` for WLASL, How2Sign,
            OpenASL. Taken from the file name when it is one of the released ones (see `checkpoint_language`).
        max_frames: The processor's `max_frames` (64 for isolated signs; 256 by default; a released ISLR file gets
            its 64 frames by default); needs `tokenizer`.
        config_kwargs: Extra `UniSignConfig` fields (e.g. `use_rgb=True`).

    Returns:
        The model, or `(model, processor)` when a tokenizer is given.
    """
    if max_frames is not None and tokenizer is None:
        raise UsageError("`max_frames` is a processor setting: give a `tokenizer` too, so that a processor is built.")
    if tokenizer is not None:
        language = checkpoint_language(checkpoint, language)  # before the work: a name it cannot tell stops here
    state_dict = checkpoint if isinstance(checkpoint, dict) else load_reference_state_dict(checkpoint)
    if not isinstance(text_config, PreTrainedConfig):
        text_config = AutoConfig.from_pretrained(text_config)
    converted = convert_reference_state_dict(state_dict)
    released = released_checkpoint(checkpoint) if isinstance(checkpoint, str | Path) else None
    if released is not None and released.max_frames is not None and max_frames is None:
        max_frames = released.max_frames
    config_kwargs.setdefault("use_rgb", any(key.startswith("hand_image_encoder.") for key in converted))
    config = UniSignConfig(text_config=text_config.to_dict(), **config_kwargs)
    model = UniSignForConditionalGeneration(config).eval()
    converted = {key: value.to(dtype) if value.is_floating_point() else value for key, value in converted.items()}
    result = model.load_state_dict(converted, strict=False)
    # encoder/decoder embeddings are `shared` itself, so they are filled even though the converter dropped them
    missing = [key for key in result.missing_keys if not key.endswith("embed_tokens.weight")]
    rgb_modules = ("hand_image_encoder.", "prior_guided_fusion.")
    if missing and all(key.startswith(rgb_modules) for key in missing):
        # a pose-only checkpoint in an RGB-pose model: the new branch keeps the reference's initialisation (gate 0)
        logger.warning(f"The checkpoint has no RGB branch; {len(missing)} RGB weights are newly initialised.")
        missing = []
    if missing or result.unexpected_keys:
        raise InvalidInputError(
            f"The checkpoint does not fit the model: missing {missing[:10]}, unexpected {result.unexpected_keys[:10]}."
        )
    model.to(dtype)
    if tokenizer is None:
        return model
    from transformers import AutoTokenizer

    from .processing_unisign import UniSignProcessor

    if isinstance(tokenizer, str | Path):
        tokenizer = AutoTokenizer.from_pretrained(tokenizer)
    return model, UniSignProcessor.from_model_config(config, tokenizer, max_frames, language=language)


__all__ = [
    "checkpoint_language",
    "convert_reference_checkpoint",
    "convert_reference_state_dict",
    "load_reference_state_dict",
]
