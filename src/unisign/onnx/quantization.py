"""int8 dynamic quantisation of an exported folder with ONNX Runtime's quantiser.

`quantize_dynamic` stores the weights of the matrix products (every linear layer of the pose encoder, the projection,
mT5 and its LM head) as int8 with one scale per output column (`per_channel`), and quantises their inputs at run time
(uint8), row block by row block; ONNX Runtime then multiplies in int8. The weights use 7 bits (`reduce_range`; the
per-column scales win back the lost bit's precision: with one scale per tensor, 7 bits cost the tiny trained model of
tests/test_onnx.py 1.7 WER and 3.7 BLEU-4 points against float32): on CPUs without VNNI
(AVX2-only laptops) ONNX Runtime's u8s8 kernels add two uint8 x int8 products into a saturating int16
(`vpmaddubsw`), and 2 x 255 x 127 overflows it while 2 x 255 x 64 does not; with VNNI (AVX512-VNNI, AVX-VNNI) the
products sum in int32. So every CPU class computes the same products, and the int8 accuracy measured on one holds on
the others. Measured against PyTorch's
dynamic quantisation (`torch.ao.quantization.quantize_dynamic`) in `benchmarks/onnx_speed.py`: see
`benchmarks/RESULTS.md`.
"""

import json
import logging
from pathlib import Path

from ..utils.errors import InvalidInputError
from .constants import ONNX_CONFIG_FILE, QUANTIZATIONS


class _WithoutPreProcessingAdvice(logging.Filter):
    """Drops the quantiser's advice to run `quant_pre_process` first.

    Measured, pre-processing changed neither the quantised products nor the speed of these graphs
    (benchmarks/RESULTS.md), and a user of `export-onnx` cannot act on the advice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def quantize_folder(folder: str | Path, method: str = "int8") -> None:
    """Quantise both graphs of an `export_onnx` folder in place (each written to a new file, then renamed over).

    Args:
        folder: The exported folder (float32).
        method: `"int8"`, the only one.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if method not in QUANTIZATIONS:
        raise InvalidInputError(f"Unknown quantisation {method!r}. Available: {list(QUANTIZATIONS)}.")
    folder = Path(folder)
    config_path = folder / ONNX_CONFIG_FILE
    onnx_config = json.loads(config_path.read_text())
    if onnx_config.get("quantization") is not None:
        raise InvalidInputError(f"`{folder}` is already quantised ({onnx_config['quantization']}).")
    advice_filter = _WithoutPreProcessingAdvice()
    logging.getLogger().addFilter(advice_filter)  # the quantiser logs it on the root logger
    try:
        for key in ("encoder", "decoder"):
            source = folder / onnx_config[key]
            target = source.with_name(source.stem + "_int8.onnx")
            quantize_dynamic(
                source,
                target,
                weight_type=QuantType.QInt8,
                reduce_range=True,  # 7-bit weights: no int16 saturation in the u8s8 kernels of CPUs without VNNI
                per_channel=True,  # one scale per output column: wins back the precision of the lost bit
                op_types_to_quantize=["MatMul", "Gemm"],
                use_external_data_format=True,
                extra_options={"MatMulConstBOnly": True},
            )
            for old in (source, source.with_name(source.name + ".data")):
                old.unlink(missing_ok=True)
            onnx_config[key] = target.name
    finally:
        logging.getLogger().removeFilter(advice_filter)
    onnx_config["quantization"] = method
    config_path.write_text(json.dumps(onnx_config, indent=2) + "\n")


__all__ = ["quantize_folder"]
