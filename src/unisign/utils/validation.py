"""Checks at the boundary, before any work starts: setting ranges, output paths, devices, model folders.

Each check raises one of the package's errors (`unisign.utils.errors`) with a message that names the option or setting,
the value and what is allowed; the command lines print it as one line (`unisign.utils.errors.one_line_errors`).
"""

import json
import math
import os
from pathlib import Path

from .errors import InvalidInputError, MissingInputError, UsageError


# |weight| above this is no trained model's: random bytes read as float32 exceed it ~40% of the time
MAX_PLAUSIBLE_WEIGHT = 1e8
# files of a tokenizer's vocabulary (fast tokenizers, SentencePiece, BPE and WordPiece)
TOKENIZER_VOCABULARY_FILES = ("tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")
TOKENIZER_VOCABULARY_FILES += ("vocab.json", "vocab.txt")


# -- settings (ranges; their types are OmegaConf's, `unisign.training.arguments`) ---------------------------------


def check_range(
    where: str,
    value,
    minimum: float | None = None,
    maximum: float | None = None,
    below_maximum: bool = False,
    above_minimum: bool = False,
) -> None:
    """Raise `UsageError` unless `value` is None or a finite number within the bounds (strict where asked)."""
    if value is None:
        return
    low = "" if minimum is None else f"{'>' if above_minimum else '>='} {minimum}"
    high = "" if maximum is None else f"{'<' if below_maximum else '<='} {maximum}"
    allowed = " and ".join(part for part in (low, high) if part)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"`{where}` must be a finite number {allowed}, got {value!r}.")
    too_low = minimum is not None and (value <= minimum if above_minimum else value < minimum)
    too_high = maximum is not None and (value >= maximum if below_maximum else value > maximum)
    if too_low or too_high:
        raise UsageError(f"`{where}` must be {allowed}, got {value!r}.")


def check_ranges(instance, section: str, ranges: dict[str, dict]) -> None:
    """`check_range` on each named field of `instance` (`ranges`: field -> keyword arguments of `check_range`)."""
    for name, bounds in ranges.items():
        check_range(f"{section}.{name}", getattr(instance, name), **bounds)


# -- paths ---------------------------------------------------------------------------------------------------------


def _same_file(first: Path, second: Path) -> bool:
    """Whether two paths name the same file or folder (through symbolic and hard links)."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one does not exist yet: compare where they would be
        return first.resolve() == second.resolve()


def _check_not_an_input(out: Path, inputs, option: str) -> None:
    for source in inputs:
        if source is not None and Path(source).exists() and _same_file(out, Path(source)):
            raise InvalidInputError(f"`{option} {out}` is the input `{source}`: writing it would destroy the input.")


def check_output_file(out: str | Path, inputs=(), option: str = "--out", suffixes: tuple[str, ...] = ()) -> Path:
    """Check that `out` can be written as a file without destroying an input; returns it as a `Path`.

    Raises `UsageError` for a wrong suffix, `InvalidInputError` when `out` is an input (also through links), is a
    folder, or its parent folder is missing or not a folder.
    """
    out = Path(out)
    if suffixes and out.suffix.lower() not in suffixes:
        raise UsageError(f"`{option}` must end in {' or '.join(suffixes)}, got `{out}`.")
    _check_not_an_input(out, inputs, option)
    if out.is_dir():
        raise InvalidInputError(f"`{option} {out}` is a folder; give a file name.")
    parent = out.parent
    if not parent.exists():
        raise InvalidInputError(f"`{option} {out}`: the folder `{parent}` does not exist. Create it first.")
    if not parent.is_dir():
        raise InvalidInputError(f"`{option} {out}`: `{parent}` is not a folder.")
    if not os.access(parent, os.W_OK):
        raise InvalidInputError(f"`{option} {out}`: the folder `{parent}` is not writable.")
    return out


def check_output_folder(out: str | Path, inputs=(), option: str = "--out") -> Path:
    """Check that `out` can be (created and) written as a folder without overwriting an input; returns it."""
    out = Path(out)
    _check_not_an_input(out, inputs, option)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"`{option} {out}` is a file; give a folder (it is created if missing).")
    existing = next(parent for parent in (out, *out.parents) if parent.exists())
    if not existing.is_dir():
        raise InvalidInputError(f"`{option} {out}`: `{existing}` is a file, not a folder.")
    return out


def check_input_file(path: str | Path, option: str) -> Path:
    """Check that `path` is an existing file (not a folder); returns it as a `Path`."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"`{option}` `{path}` is a folder; give a file.")
    if not path.is_file():
        raise MissingInputError(f"`{option}` `{path}` does not exist.")
    return path


def has_suffix(path: str | Path, suffixes: tuple[str, ...]) -> bool:
    """Whether the file name ends in one of `suffixes`, in any case (`clip.POSE` is a pose file)."""
    return Path(path).suffix.lower() in suffixes


# -- devices and the Hub -------------------------------------------------------------------------------------------


def check_device(device: str | None, option: str = "--device") -> None:
    """Raise `UsageError` for a device string torch does not know, or an accelerator this machine does not have."""
    if device is None:
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise UsageError(f"`{option} {device}` is not a torch device (e.g. cpu, cuda, cuda:1, mps): {error}") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"`{option} {device}`: no CUDA GPU is available here; use `{option} cpu`.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise UsageError(f"`{option} {device}`: this machine has {torch.cuda.device_count()} CUDA GPU(s).")
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"`{option} {device}`: Apple's MPS is not available here; use `{option} cpu`.")


def _looks_like_local_path(reference: str) -> bool:
    return reference.startswith((".", "/", "~")) or reference.count("/") > 1 or os.sep != "/" and os.sep in reference


def _hub_reachable() -> bool:
    """Whether the Hub answers at all, within huggingface_hub's `HF_HUB_ETAG_TIMEOUT` (instead of ~40 s of retries).

    Asked through huggingface_hub's own HTTP session, so that its proxies, certificates and `HF_ENDPOINT` apply.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    try:
        get_session().head(constants.ENDPOINT, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except Exception:  # the session's transport errors (httpx or requests, by huggingface_hub version)
        return False
    return True


def resolve_model_reference(reference: str, option: str = "--model", files: str = "model") -> str:
    """A local folder, or a Hub id this machine can get: `reference` itself, or its cached copy when offline.

    Raises `FileNotFoundError` for a missing local path and `InvalidInputError` for a file where a folder is meant
    or a Hub id that is neither reachable (offline, `HF_HUB_OFFLINE=1`, or no network) nor in the local cache.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    path = Path(reference).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InvalidInputError(f"`{option} {reference}` is a file; give the {files} folder (or a Hub id).")
        return reference
    try:
        validate_repo_id(reference)
    except HFValidationError:
        raise MissingInputError(f"`{option} {reference}`: there is no such folder (nor is it a Hub id).") from None
    if _looks_like_local_path(reference):
        raise MissingInputError(f"`{option} {reference}`: there is no such folder.")
    offline = constants.is_offline_mode()
    if not offline and _hub_reachable():
        return reference
    try:
        return snapshot_download(reference, local_files_only=True)
    except Exception:  # huggingface_hub raises LocalEntryNotFoundError (or an OSError) for an uncached repository
        why = "HF_HUB_OFFLINE=1 is set" if offline else f"the Hub ({constants.ENDPOINT}) cannot be reached"
        raise InvalidInputError(
            f"`{option} {reference}` is no folder here and {why}; it is not in the local Hub cache either. "
            "Give a local folder, or download it once online."
        ) from None


# -- model folders -------------------------------------------------------------------------------------------------


def check_plausible_weights(name: str, tensor, source) -> None:
    """Raise `InvalidInputError` when a floating-point tensor holds non-finite or implausibly large values.

    One pass over the tensor (`torch.aminmax`, whose results are NaN when any value is), without the copy that
    `tensor.abs()` would allocate.
    """
    import torch

    if not tensor.is_floating_point() or tensor.numel() == 0:
        return
    low, high = torch.aminmax(tensor.detach())
    largest = torch.maximum(-low, high).float()
    if not torch.isfinite(largest):
        raise InvalidInputError(f"`{source}` is damaged: the weights `{name}` hold non-finite values.")
    if largest > MAX_PLAUSIBLE_WEIGHT:
        raise InvalidInputError(f"`{source}` is damaged: the weights `{name}` hold values up to {largest:.3g}.")


def check_loaded_weights(model, source) -> None:
    """`check_plausible_weights` on every parameter of a loaded model: the start-up's guard against NaN weights.

    Generation does not check its scores: a model with NaN (or huge) weights prints wrong text without an error. This
    pass over the weights in memory costs a fraction of reading them from the file again (`check_model_folder` with
    `verify`), so the model-loading commands run it by default (docs/errors.md).

    Args:
        model (`torch.nn.Module`): The loaded model.
        source: What the error names (the model folder).
    """
    for name, parameter in model.named_parameters():
        check_plausible_weights(name, parameter, source)


def check_safetensors_file(path: Path, scan: bool = True) -> None:
    """Raise `InvalidInputError` when a `.safetensors` file is truncated or unreadable, or (`scan`) holds bad weights.

    `safe_open` parses the header and checks that its tensors cover the file exactly (a truncated file fails there);
    it maps the file without reading the tensors. With `scan`, every tensor is then read and checked
    (`check_plausible_weights`).
    """
    from safetensors import safe_open

    if not path.is_file():
        raise InvalidInputError(f"`{path}` is not a file: a damaged weights file.")
    try:
        with safe_open(path, framework="pt") as weights:
            for name in weights.keys() if scan else ():  # noqa: SIM118  (safe_open has no __iter__)
                check_plausible_weights(name, weights.get_tensor(name), path)
    except InvalidInputError:
        raise
    except Exception as error:  # safetensors raises its own SafetensorError for bytes it cannot read
        reason = str(error).removeprefix("Error while deserializing header: ")
        size = path.stat().st_size
        raise InvalidInputError(f"`{path}` is truncated or damaged ({size:,} bytes): {reason}.") from None


def check_tokenizer_size(
    folder: str | Path, size: int, vocab_size: int | None, kept_token_ids: list | None = None
) -> None:
    """Raise `InvalidInputError` when a tokenizer of `size` tokens does not fit a model of `vocab_size` token ids.

    A trimmed model (`kept_token_ids`: the tokenizer ids of its rows) needs a tokenizer that has every kept id.
    """
    if kept_token_ids:
        if max(kept_token_ids) >= size:
            raise InvalidInputError(
                f"The tokenizer in `{folder}` has {size:,} tokens but the model's trimmed vocabulary keeps token id "
                f"{max(kept_token_ids):,}: they do not belong together."
            )
    elif vocab_size is not None and not vocab_size // 2 <= size <= vocab_size:
        raise InvalidInputError(
            f"The tokenizer in `{folder}` has {size:,} tokens but the model has {vocab_size:,} token ids: they do "
            "not belong together (a tokenizer may be up to the model's size, and not much smaller)."
        )


def check_tokenizer_folder(
    folder: Path, vocab_size: int | None, kept_token_ids: list | None = None, load: bool = True
) -> None:
    """Raise `InvalidInputError` when the folder's tokenizer is missing or does not match `vocab_size` token ids.

    Args:
        folder: The model folder.
        vocab_size: The model's token ids (`None`: unknown).
        kept_token_ids: A trimmed model's tokenizer ids of its rows (`check_tokenizer_size`).
        load: Whether to load the tokenizer to check its size (seconds for mT5's 250k tokens), or only that its
            vocabulary file is there (the loader then checks the size with the tokenizer it loads).
    """
    from transformers import AutoTokenizer

    if not any((folder / name).is_file() for name in TOKENIZER_VOCABULARY_FILES):
        raise InvalidInputError(
            f"`{folder}` has no tokenizer vocabulary (none of {', '.join(TOKENIZER_VOCABULARY_FILES)}): the model "
            "would decode every translation to an empty line. Copy the tokenizer files next to the model."
        )
    if not load:
        return
    try:
        size = len(AutoTokenizer.from_pretrained(folder))
    except Exception as error:  # a damaged tokenizer file: transformers and tokenizers raise many types
        raise InvalidInputError(f"The tokenizer in `{folder}` cannot be loaded ({error}).") from None
    check_tokenizer_size(folder, size, vocab_size, kept_token_ids)


def read_json_object(path: Path) -> dict:
    """The JSON object in `path`; `InvalidInputError` naming the file when it is not valid JSON or not an object."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"`{path}` is damaged: not valid JSON ({error}).") from None
    if not isinstance(content, dict):
        raise InvalidInputError(f"`{path}` is damaged: expected a JSON object.")
    return content


def check_model_folder(folder: str | Path, tokenizer: bool = True, verify: bool = False) -> None:
    """Check a local Uni-Sign (or other `save_pretrained`) folder before loading it, with one-line errors.

    By default the check reads no weights (what a start-up can afford; docs/errors.md): the files and sizes that
    `checksums.json` records (when the folder has one), every `*.safetensors` header and that its tensors cover the
    file exactly (a truncated file), `config.json` readable, and with `tokenizer`, a tokenizer vocabulary file. The
    loaders then check the loaded weights for NaN (`check_loaded_weights`) and the tokenizer's size.

    With `verify` (`unisign push`, `--verify`), every byte is read: the recorded SHA-256s match, every tensor is
    finite and plausible, and the tokenizer loads and fits the model's vocabulary.
    """
    from .checksums import verify_checksums

    folder = Path(folder)
    if not folder.is_dir():
        return  # a Hub id: checked by the Hub
    problem = verify_checksums(folder, hashes=verify)
    if problem:
        raise InvalidInputError(f"`{folder}` is damaged: {problem}.")
    config_path = folder / "config.json"
    is_adapter = (folder / "adapter_config.json").is_file()  # a LoRA export: its base model is checked on its own
    if not config_path.is_file() and not is_adapter:
        raise InvalidInputError(f"`{folder}` has no config.json: it is not a saved model folder.")
    for weights in sorted(folder.glob("*.safetensors")):
        check_safetensors_file(weights, scan=verify)
    if not config_path.is_file():
        return
    config = read_json_object(config_path)
    tokenizer_files = ("tokenizer_config.json", "processor_config.json")
    if tokenizer and any((folder / name).is_file() for name in tokenizer_files):
        text_config = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
        vocab_size = text_config.get("vocab_size")
        kept = config.get("kept_token_ids")  # a trimmed vocabulary: rows of these tokenizer ids
        check_tokenizer_folder(folder, vocab_size if isinstance(vocab_size, int) else None, kept, load=verify)


def resolve_adapter_base(folder: str | Path) -> str | None:
    """The base model of a PEFT adapter folder as `from_pretrained` must be given it; `None` for any other folder.

    An adapter that carries its base (a `config.json` beside `adapter_config.json`, as `train.py` exports it) is its
    own base, as transformers' `from_pretrained` takes it. Otherwise a local path in `adapter_config.json`
    (`base_model_name_or_path`) is taken relative to the adapter folder, not to the current directory (which
    transformers and PEFT would use), so that an adapter copied together with its base (`train.py`'s `best/` and
    `../base_model` before the base travelled inside the export) loads from anywhere. A Hub id stays as it is.

    Raises:
        MissingInputError: naming the base, when it is a local path with no folder there.
        InvalidInputError: when `adapter_config.json` names no base.
    """
    folder = Path(folder)
    config_file = folder / "adapter_config.json"
    if not config_file.is_file():
        return None
    if (folder / "config.json").is_file():
        return str(folder.resolve())
    base = read_json_object(config_file).get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise InvalidInputError(f"`{config_file}` names no base model (`base_model_name_or_path`).")
    local = folder / Path(base).expanduser()  # an absolute path stays as it is
    if local.is_dir():
        return str(local.resolve())
    if _looks_like_local_path(base):
        raise MissingInputError(
            f"`{folder}` is a LoRA adapter whose base model `{base}` is missing: there is no folder `{local}` (the "
            "path is relative to the adapter folder). Copy the base there, or set `base_model_name_or_path` in "
            "adapter_config.json to the base's Hub id."
        )
    return base


def checked_model(reference: str, option: str = "--model", verify: bool = False) -> str:
    """`resolve_model_reference`, then `check_model_folder` on a local folder: what to pass to `from_pretrained`."""
    resolved = resolve_model_reference(reference, option)
    check_model_folder(resolved, verify=verify)
    return resolved


__all__ = [
    "check_device",
    "check_input_file",
    "check_loaded_weights",
    "check_model_folder",
    "check_output_file",
    "check_output_folder",
    "check_plausible_weights",
    "check_range",
    "check_ranges",
    "check_safetensors_file",
    "check_tokenizer_folder",
    "check_tokenizer_size",
    "checked_model",
    "has_suffix",
    "read_json_object",
    "resolve_adapter_base",
    "resolve_model_reference",
]
