"""Which floating-point precision runs fast here: bf16 only where the hardware computes in it.

On CPUs without AVX512-BF16 or AMX, PyTorch emulates bf16 matrix products and they run slower than float32
(`benchmarks/RESULTS.md`), so `auto` settings pick bf16 only on GPUs and on CPUs with bf16 instructions.
"""

import torch


# the `--dtype` choices of `unisign translate` and `unisign demo`
DTYPES = ("auto", "float32", "bfloat16", "float16")


def cpu_has_bf16_instructions() -> bool:
    """Whether this CPU computes in bf16 natively (AVX512-BF16 or AMX), where bf16 autocast runs ~1.7x faster."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def resolve_inference_dtype(dtype: str | torch.dtype | None, device: str | int | None = None) -> torch.dtype | str:
    """The dtype to translate in: bfloat16 only where it is native, never emulated.

    `"auto"` -> bfloat16 on a bf16 GPU or a CPU with bf16 instructions, float32 elsewhere; a name (`"float32"`) ->
    that dtype; `None` -> `"auto"` of `from_pretrained` (the saved dtype).

    Args:
        dtype: `"auto"`, a `torch.dtype` or its name, or `None`.
        device: The torch device the model will run on (default: the first GPU, else the CPU, as the pipeline does).
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return "auto" if dtype is None else dtype
    if dtype != "auto":
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ValueError(f"Unknown dtype {dtype!r}: use `auto`, `float32`, `bfloat16` or `float16`.")
        return getattr(torch, dtype)
    on_gpu = torch.cuda.is_available() if device is None else str(device) not in ("cpu", "-1")
    if on_gpu and torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return torch.bfloat16 if cpu_has_bf16_instructions() else torch.float32


__all__ = ["cpu_has_bf16_instructions", "resolve_inference_dtype"]
