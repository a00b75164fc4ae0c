"""`--cpu-class avx2`: keep PyTorch's CPU libraries off AVX-512, VNNI and bf16, to approximate an AVX2-only CPU.

Imported before torch by the benchmarks that take `--cpu-class` (importing it sets the switches, which the libraries
read when they first run): PyTorch's own kernels (`ATEN_CPU_CAPABILITY`), MKL's float32 GEMMs (torch's `matmul` and
`Linear`), oneDNN (convolutions, bf16) and FBGEMM (PyTorch's dynamic int8 `Linear`) each have a switch.

ONNX Runtime has none: MLAS picks its kernels from the CPUID instruction and the XCR0 register when the library loads
(`onnxruntime/core/mlas/lib/platform.cpp`: AVX-512F, AVX-512 core, AVX512-VNNI, AMX), with no environment variable
or session option to cap them (only build flags), so its numbers stay this CPU's. Short of another machine, only a
virtual machine whose CPU model hides AVX-512 (or a kernel that leaves AVX-512 state out of XCR0) changes that.

bf16: `torch.cpu._is_avx512_bf16_supported()` still reads the CPU's flags, so `--dtype auto` would pick bfloat16; the
benchmarks translate in float32 under `--cpu-class avx2`, as an AVX2 CPU does (`unisign.utils.precision`).
"""

import argparse
import os


CPU_CLASSES = {
    "native": {},
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
    },
}


def add_cpu_class_argument(parser: argparse.ArgumentParser) -> None:
    """`--cpu-class`, for the help text and the parsed arguments (its switches are set on import)."""
    parser.add_argument(
        "--cpu-class",
        choices=CPU_CLASSES,
        default="native",
        help="avx2: PyTorch without AVX-512, VNNI and bf16 (ONNX Runtime has no such switch; see cpu_class.py)",
    )


def cpu_class_report(name: str) -> dict:
    """What the switches did: the class, the variables set and the ISA ATen dispatches to (after torch loads)."""
    import torch

    return {
        "class": name,
        "environment": {key: os.environ.get(key) for key in CPU_CLASSES["avx2"]},
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        "onnxruntime": "this CPU's own kernels (no switch)",
    }


def _requested() -> str:
    parser = argparse.ArgumentParser(add_help=False)
    add_cpu_class_argument(parser)
    return parser.parse_known_args()[0].cpu_class


CPU_CLASS = _requested()
os.environ.update(CPU_CLASSES[CPU_CLASS])
