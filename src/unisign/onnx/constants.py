"""The names an ONNX export folder is made of, shared by the exporter, the quantiser and the runtime."""

ENCODER_FILE = "encoder_model.onnx"
DECODER_FILE = "decoder_model.onnx"
ONNX_CONFIG_FILE = "onnx_config.json"
FORMAT_NAME = "unisign-onnx"
OPSET = 17
QUANTIZATIONS = ("int8",)
# what a model folder holds besides its weights and code: copied next to the graphs
FOLDER_FILES = (
    "config.json",
    "generation_config.json",
    "processor_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "spiece.model",
    "README.md",
)


__all__ = ["DECODER_FILE", "ENCODER_FILE", "FOLDER_FILES", "FORMAT_NAME", "ONNX_CONFIG_FILE", "OPSET", "QUANTIZATIONS"]
