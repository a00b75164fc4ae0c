"""ONNX Runtime inference for pose-only Uni-Sign models: export, int8 quantisation and generation (`docs/onnx.md`).

unisign export-onnx MODEL_FOLDER --out MODEL_ONNX [--quantize int8]
unisign translate clip.pose --backend onnx --model MODEL_ONNX
"""

from .export import export_onnx
from .quantization import quantize_folder
from .runtime import UniSignOnnxModel, is_onnx_folder, require_onnxruntime


__all__ = ["UniSignOnnxModel", "export_onnx", "is_onnx_folder", "quantize_folder", "require_onnxruntime"]
