"""A translation pipeline on the chosen backend: PyTorch, or ONNX Runtime for an `unisign export-onnx` folder.

Kept out of `pipeline.py`, which travels as remote code with every saved folder and so may only import the modules
that travel with it.
"""

from pathlib import Path

from transformers import pipeline

from ..models.unisign.pipeline_unisign import TASK, SignLanguageTranslationPipeline
from ..utils.errors import UsageError
from ..utils.validation import check_loaded_weights, check_model_folder, check_tokenizer_size, resolve_adapter_base


BACKENDS = ("auto", "torch", "onnx")


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

    Loads from any current directory: a local base is found relative to the adapter folder
    (`unisign.utils.validation.resolve_adapter_base`), where transformers' own `from_pretrained(folder)` looks for it
    relative to the current directory.

    Args:
        folder: The adapter folder (`adapter_config.json`, `adapter_model.safetensors`).
        dtype (*optional*): Passed to the base's `from_pretrained` (`None`: the saved dtype).
        verify (`bool`, *optional*, defaults to `False`): Read and check every byte of the base's weights before
            loading them (`check_model_folder`), instead of its headers before and its loaded weights after.

    Returns:
        `UniSignForConditionalGeneration` (merged: no PEFT layers left, so inference costs what the base costs).

    Raises:
        MissingInputError: naming the base, when it cannot be found.
    """
    from peft import PeftModel
    from transformers import AutoModelForSeq2SeqLM

    base = resolve_adapter_base(folder)
    if base is None:
        raise UsageError(f"`{folder}` is no LoRA adapter folder: it has no adapter_config.json.")
    check_model_folder(base, verify=verify)  # a damaged local base: one line naming it
    model = AutoModelForSeq2SeqLM.from_pretrained(base, dtype=dtype)
    model = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
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
    elif Path(model, "adapter_config.json").is_file():
        check_model_folder(model, verify=verify)  # the adapter; its base is checked by `load_adapter_model`
        translator = _adapter_pipeline(Path(model), device, resolve_inference_dtype(dtype, device), verify)
    else:
        check_model_folder(model, verify=verify)  # a local folder; a Hub id is the Hub's to check
        # the dtype goes through `from_pretrained`, which keeps `_keep_in_fp32_modules` (mT5's `wo`) in float32 under
        # float16: casting those to float16 afterwards gives mT5's overflow (NaN or garbage text)
        translator = pipeline(TASK, model=str(model), device=device, dtype=resolve_inference_dtype(dtype, device))
        if not verify:
            check_loaded_weights(translator.model, model)
    if not verify:  # `verify` loaded the tokenizer to check its size; else the pipeline's is checked here
        tokenizer, text_config = translator.processor.tokenizer, translator.model.config.text_config
        check_tokenizer_size(model, len(tokenizer), text_config.vocab_size)
    return translator


__all__ = ["BACKENDS", "load_adapter_model", "load_onnx_model", "load_translation_pipeline"]
