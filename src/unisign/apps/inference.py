"""A translation pipeline on the chosen backend: PyTorch, or ONNX Runtime for an `unisign export-onnx` folder.

Kept out of `pipeline.py`, which travels as remote code with every saved folder and so may only import the modules
that travel with it.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transformers import pipeline
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME

from ..models.unisign.pipeline_unisign import TASK, SignLanguageTranslationPipeline
from ..models.unisign.remote_code import check_remote_code
from ..utils.errors import InvalidInputError, UniSignError, UsageError, is_input_error, one_line
from ..utils.validation import (
    check_loaded_weights,
    check_model_folder,
    check_tokenizer_size,
    checked_model,
    read_json_object,
    resolve_adapter_base,
)


BACKENDS = ("auto", "torch", "onnx")


def is_folder_refusal(error: BaseException) -> bool:
    """Whether a loader's error refuses the user's model folder, rather than being a bug in the loader.

    A refusal is the package's own error (not a usage error: `--dtype`, `--device`), the model unit's refusal of its
    config (`is_input_error`: a value out of range), or transformers' report on the folder's files: an `OSError` (a
    file it cannot find or read), malformed JSON or a file that is not UTF-8. Any other `ValueError` is a bug, also
    `pipeline()`'s "Could not load model ... with any of the following classes", which wraps whatever the model's
    `from_pretrained` raised: what a user's folder can lack is checked before (`checked_model_folder`).
    """
    if isinstance(error, UsageError):
        return False
    refusals = (UniSignError, OSError, json.JSONDecodeError, UnicodeDecodeError)
    return isinstance(error, refusals) or is_input_error(error)


@contextmanager
def model_folder_errors(model: str | Path) -> Iterator[None]:
    """Report a refusal of the model folder (`is_folder_refusal`) as one `InvalidInputError` naming it."""
    try:
        yield
    except Exception as error:
        if not is_folder_refusal(error):
            raise  # a bug in a loader: its traceback
        raise InvalidInputError(f"Could not load a Uni-Sign model from `{model}`: {one_line(error)}") from error


def checked_model_folder(model: str | Path) -> str:
    """What a model folder must be before `load_translation_pipeline`, each problem refused in one line.

    The folder's files are checked there, once (sizes and headers; every byte with `verify`, `unisign translate
    --verify`); a Hub id is resolved here (`checked_model`).

    An ONNX export is passed as it is: its graphs replace the weights, and `load_onnx_model` checks them. A local
    folder's copies of the unit's code are checked first (`check_remote_code`: cut short, they would fail wherever
    the folder is loaded as remote code); a local model folder must hold a Uni-Sign config and weights (`pipeline()`
    would report either as a `ValueError` or `TypeError` about its model or processor classes).

    Raises:
        InvalidInputError: `Could not load a Uni-Sign model from ...`, naming the problem.
    """
    folder = Path(model)
    with model_folder_errors(model):
        if not folder.is_dir():  # a Hub id
            return checked_model(str(model))
        check_remote_code(folder)  # its copies of the unit's code, what it is loaded with elsewhere (as remote code)
        if (folder / "onnx_config.json").is_file():
            return str(model)
        # the folder's files are checked once, by `load_translation_pipeline`; here only what `pipeline()` misreports
        if (folder / "adapter_config.json").is_file():  # a LoRA export: its base holds the model (checked on load)
            return str(model)
        if not (folder / "config.json").is_file():
            raise InvalidInputError(f"`{folder}` has no config.json: it is not a saved model folder.")
        model_type = read_json_object(folder / "config.json").get("model_type")
        if model_type != "unisign":
            raise InvalidInputError(f"`{folder}` holds a model of type {model_type!r}, not a Uni-Sign model.")
        weights = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)
        if not any((folder / name).is_file() for name in weights):
            raise InvalidInputError(f"`{folder}` has no weights ({SAFE_WEIGHTS_NAME}): they were not saved or copied.")
        return str(model)


def load_onnx_model(
    folder: str | Path, device: str | int | None = None, num_threads: int | None = None, verify: bool = False
):
    """`UniSignOnnxModel.from_pretrained(folder)`, refusing in one line any `device` but the CPU it runs on.

    A damaged graph, config or missing tokenizer gets one line naming it, before ONNX Runtime opens the folder
    (`check_onnx_folder`); the tokenizer's size is checked there only with `verify`, else by the caller with the
    tokenizer it loads (`check_tokenizer_size`).
    """
    from ..onnx import UniSignOnnxModel
    from ..onnx.checks import check_onnx_folder

    if device is not None and str(device) != "cpu":
        raise UsageError(f"`{folder}` is an ONNX export, which runs on the CPU: `device={device!r}` was asked for.")
    check_onnx_folder(folder, load_tokenizer=verify)
    return UniSignOnnxModel.from_pretrained(folder, num_threads=num_threads)


def load_adapter_model(folder: str | Path, dtype=None, verify: bool = False):
    """A LoRA export (a PEFT adapter folder) as one Uni-Sign model, its adapters merged into its base.

    An export that carries its base (`train.py`'s) loads as transformers loads it, with `from_pretrained(folder)`.
    An adapter whose base lies elsewhere (a Hub id, or a local path as older exports recorded it) finds a local base
    relative to the adapter folder (`unisign.utils.validation.resolve_adapter_base`), where transformers' own
    `from_pretrained(folder)` looks for it relative to the current directory.

    Args:
        folder: The adapter folder (`adapter_config.json`, `adapter_model.safetensors`).
        dtype (*optional*): Passed to the base's `from_pretrained` (`None`: the saved dtype).
        verify (`bool`, *optional*, defaults to `False`): Read and check every byte of the base's weights before
            loading them (`check_model_folder`), instead of its headers before and its loaded weights after.

    Returns:
        `UniSignForConditionalGeneration` with each LoRA layer merged into the weights it adapts, so inference costs
        what the base costs.

    Raises:
        MissingInputError: naming the base, when it cannot be found.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer
    from transformers import AutoModelForSeq2SeqLM

    folder = Path(folder)
    base = resolve_adapter_base(folder)
    if base is None:
        raise UsageError(f"`{folder}` is no LoRA adapter folder: it has no adapter_config.json.")
    carries_base = base == str(folder.resolve())
    check_model_folder(folder, verify=verify)  # the adapter, and an export's base with it: one line naming the damage
    if not carries_base:
        check_model_folder(base, verify=verify)  # a local base elsewhere (a Hub id is the Hub's to check)
    model = AutoModelForSeq2SeqLM.from_pretrained(base, dtype=dtype)  # an export with its base: the adapter too
    if not carries_base:
        model.load_adapter(str(folder))
    for layer in model.modules():
        if isinstance(layer, BaseTunerLayer):
            layer.merge()
    if not verify:
        check_loaded_weights(model, folder)
    return model


def _adapter_pipeline(folder: Path, device, dtype, verify: bool) -> SignLanguageTranslationPipeline:
    """The pipeline over a LoRA export: the processor its export wrote beside the adapter, else its base's."""
    from ..models.unisign.processing_unisign import UniSignProcessor

    model = load_adapter_model(folder, dtype, verify)
    processor_folder = folder if (folder / "processor_config.json").is_file() else resolve_adapter_base(folder)
    return pipeline(TASK, model=model, processor=UniSignProcessor.from_pretrained(processor_folder), device=device)


def load_translation_pipeline(
    model: str | Path,
    backend: str = "auto",
    device: str | int | None = None,
    dtype: str | None = "auto",
    num_threads: int | None = None,
    verify: bool = False,
) -> SignLanguageTranslationPipeline:
    """The translation pipeline over a model folder (or Hub id): PyTorch, or ONNX Runtime for an `export_onnx` folder.

    Args:
        model: A Uni-Sign model folder or Hub id, a LoRA export (`load_adapter_model`), or a folder written by
            `unisign export-onnx`.
        backend (`str`, *optional*, defaults to `"auto"`): `"torch"`, `"onnx"`, or `"auto"`: ONNX Runtime for an
            ONNX export, PyTorch otherwise.
        device (`str` or `int`, *optional*): Torch device (PyTorch only; ONNX Runtime runs on the CPU).
        dtype (`str`, *optional*, defaults to `"auto"`): PyTorch precision: `"auto"` is bfloat16 only where it is
            native (never emulated bf16, see `unisign.utils.precision`), `None` keeps the saved dtype. In float16
            mT5's `wo` layers stay float32, as `from_pretrained` keeps them.
        num_threads (`int`, *optional*): ONNX Runtime threads per session (PyTorch: set `torch.set_num_threads`).
        verify (`bool`, *optional*, defaults to `False`): Read and check every byte of a local folder before loading it
            (recorded SHA-256s, every tensor, the tokenizer's size: `check_model_folder`; of an ONNX export, the
            tokenizer's size). By default only sizes and headers are checked before loading, and the loaded weights
            (NaN) and the tokenizer's size after.

    Returns:
        `SignLanguageTranslationPipeline`.

    Raises:
        InvalidInputError: naming the damaged file or weights of a local folder.
    """
    from ..onnx import is_onnx_folder
    from ..utils.precision import resolve_inference_dtype

    if backend not in BACKENDS:
        raise UsageError(f"Unknown backend {backend!r}. Available backends: {list(BACKENDS)}.")
    if backend == "onnx" or (backend == "auto" and is_onnx_folder(model)):
        from ..models.unisign.processing_unisign import UniSignProcessor

        if dtype not in (None, "auto", "float32"):
            raise UsageError(f"`dtype={dtype!r}` applies to the PyTorch backend; an ONNX export is float32 or int8.")
        onnx_model = load_onnx_model(model, device, num_threads, verify)
        translator = pipeline(TASK, model=onnx_model, processor=UniSignProcessor.from_pretrained(model))
    elif Path(model, "adapter_config.json").is_file():  # `load_adapter_model` checks the adapter and its base
        translator = _adapter_pipeline(Path(model), device, resolve_inference_dtype(dtype, device), verify)
    else:
        check_model_folder(model, verify=verify)  # a local folder; a Hub id is the Hub's to check
        # the dtype goes through `from_pretrained`, which keeps `_keep_in_fp32_modules` (mT5's `wo`) in float32 under
        # float16: casting those to float16 afterwards gives mT5's overflow (NaN or garbage text)
        translator = pipeline(TASK, model=str(model), device=device, dtype=resolve_inference_dtype(dtype, device))
        if not verify:
            check_loaded_weights(translator.model, model)
    if not verify:  # `verify` loaded the tokenizer to check its size; else the pipeline's is checked here
        tokenizer, config = translator.processor.tokenizer, translator.model.config
        check_tokenizer_size(
            model, len(tokenizer), config.text_config.vocab_size, getattr(config, "kept_token_ids", None)
        )
    return translator


__all__ = [
    "BACKENDS",
    "checked_model_folder",
    "is_folder_refusal",
    "load_adapter_model",
    "load_onnx_model",
    "load_translation_pipeline",
    "model_folder_errors",
]
