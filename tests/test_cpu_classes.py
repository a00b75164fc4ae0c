"""The emulated AVX2-only CPU (`tests/cpu/avx2_only.c`, `make test-avx2`) that checks the laptop class here.

The CPU-sensitive tests (float32 parity bounds, int8 accuracy) must hold on AVX2-only CPUs, where ONNX Runtime's
u8s8 kernels add two products in a saturating int16 and PyTorch, oneDNN and MKL run their AVX2 kernels. No option
of these libraries forces that on a newer CPU; the LD_PRELOAD library hides AVX-512, VNNI and AMX from CPUID. This
checks that it reaches each library: PyTorch reports AVX2, and a MatMulInteger whose int16 pairs overflow saturates.
"""

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


SOURCE = Path(__file__).parent / "cpu" / "avx2_only.c"

PROBE = """
import numpy as np, onnxruntime, torch
from onnx import TensorProto, helper, numpy_helper

weights = numpy_helper.from_array(np.full((64, 16), 127, np.int8), "B")
graph = helper.make_graph(
    [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "probe",
    [helper.make_tensor_value_info("A", TensorProto.UINT8, [4, 64])],
    [helper.make_tensor_value_info("Y", TensorProto.INT32, [4, 16])], [weights],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
product = session.run(None, {"A": np.full((4, 64), 255, np.uint8)})[0][0, 0]
print(torch.backends.cpu.get_cpu_capability(), product)
"""


def cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    return {flag for line in lines if line.startswith("flags") for flag in line.split(":")[1].split()}


def test_the_emulated_avx2_cpu_reaches_pytorch_and_onnx_runtime(tmp_path):
    pytest.importorskip("onnxruntime")
    if platform.machine() != "x86_64" or "cpuid_fault" not in cpu_flags() or shutil.which("cc") is None:
        pytest.skip("needs an x86-64 CPU with CPUID faulting (cpuid_fault) and a C compiler")
    library = tmp_path / "avx2_only.so"
    # the compiler without the library (`make test-avx2` runs the suite under it, and cc1 crashes there)
    compiler_env = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(SOURCE)], check=True, env=compiler_env)
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, "LD_PRELOAD": str(library)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    capability, product = completed.stdout.split()
    assert capability == "AVX2"
    # 64 products of 255 x 127 are 2,072,640 exactly (VNNI); the AVX2 kernel's 32 pairs each saturate at 32,767
    assert int(product) == 32 * 32767
