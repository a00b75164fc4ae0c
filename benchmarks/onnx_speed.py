"""Translation speed on a CPU: PyTorch float32 against ONNX Runtime float32 and int8 (and PyTorch's dynamic int8).

    python benchmarks/onnx_speed.py                      # 250 frames, 4 beams, 20 tokens, mT5-base geometry
    python benchmarks/onnx_speed.py --frames 64 --rounds 2 --skip-torch-int8
    python benchmarks/onnx_speed.py --trim-vocab 8000 --rounds 1   # also the three backends, vocabulary trimmed
    python benchmarks/onnx_speed.py --cpu-class avx2     # PyTorch kept off AVX-512/VNNI/bf16 (cpu_class.py)

One pose-only model of the released geometry (UniSignConfig(): mT5-base, 250k vocabulary, random weights) is
exported once to ONNX (`unisign.onnx.export_onnx`), copied and quantised (`quantize_folder`); every backend then
translates the same 250-frame clip with 4 beams and exactly 20 new tokens, the backends alternating round by round
so that a busy shared machine slows them alike. The length is fixed by generating without an end-of-sequence token
(`eos_token_id=None`), not with `min_new_tokens`: that adds a logits processor over the 250k vocabulary at every
step (~0.2 s a translation here) that real translations do not run. Also timed, per round: the PyTorch pose encoder
and, with the same weights, the reference's (the tests' oracle, `tests/reference_unisign.py`), the mT5 encoder, and
the ONNX encoder graphs, to show where a translation's time goes.

With `--trim-vocab N`, a copy of the model keeps N token rows (`unisign.apps.trimming.trim_model`): the prompt's and
the ones the untrimmed PyTorch model generates for the clip, the special tokens, and random others up to N (a
fine-tuned vocabulary's size); it runs as `torch_fp32_trimmed`, `onnx_fp32_trimmed` and `onnx_int8_trimmed`, whose
ids are compared, mapped back to the tokenizer's, with the untrimmed PyTorch model's. The weights' sizes (`size_mb`)
are reported for every backend.

Model FLOPs of a translation (`translation_flops`): `benchmarks/model_speed.py`'s forward count (3 x fewer than its
training count) for the encoder side of one clip, plus the decoder stack and LM head for `beams x new_tokens` tokens.
The CPU's float32 peak: cores x GHz x 2 FMA units x float32 lanes (16 with AVX-512, 8 with AVX2) x 2 FLOPs per FMA
(the clock: Intel's model name, else the kernel's `cpu MHz`). Prints JSON, with the load average and the free memory
and page cache at the start: drop the page cache first (`echo 1 > /proc/sys/vm/drop_caches`) on a machine whose
memory the four backends fill.
"""

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import cpu_class  # before torch: sets the switches of `--cpu-class`
import torch
import transformers
from model_speed import estimate_training_flops, oracle_pose_encoder, synthetic_batch

from unisign import UniSignConfig, UniSignForConditionalGeneration
from unisign.apps.trimming import trim_model
from unisign.onnx import UniSignOnnxModel, export_onnx, quantize_folder


def translation_flops(config: UniSignConfig, frames: int, new_tokens: int, beams: int) -> float:
    """Forward model FLOPs of one clip's translation (see the module docstring)."""
    encoder_side = estimate_training_flops(config, 1, frames, 0) / 3
    per_beam_decoder = (estimate_training_flops(config, 1, frames, new_tokens) - 3 * encoder_side) / 3
    return encoder_side + beams * per_beam_decoder


def cpu_description(avx512: bool = True) -> dict:
    """Model name, cores, clock and the flags that matter here, from /proc/cpuinfo (Linux); the float32 peak with
    AVX-512 only where `avx512` (not under `--cpu-class avx2`)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    name = fields.get("model name", platform.processor())
    if "GHz" in name:  # Intel names carry the base clock
        ghz = float(name.rsplit("@", 1)[1].strip().removesuffix("GHz"))
    else:  # AMD names do not: the clock the kernel reports
        ghz = float(fields["cpu MHz"]) / 1000 if "cpu MHz" in fields else None
    lanes = 16 if "avx512f" in flags and avx512 else 8 if "avx2" in flags else None  # float32 lanes of one FMA
    cores = os.cpu_count()
    return {
        "name": name,
        "cores": cores,
        "flags": sorted(flags & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile"}),
        "fp32_peak_gflops": round(cores * ghz * 2 * lanes * 2, 1) if ghz and lanes else None,
    }


def memory_gib() -> dict | None:
    """Available memory and page cache (Linux): with the page cache full of exported graphs, every backend ran
    slower here (benchmarks/RESULTS.md), so the numbers say what the machine had."""
    path = Path("/proc/meminfo")
    if not path.is_file():
        return None
    fields = {line.split(":")[0]: int(line.split()[1]) for line in path.read_text().splitlines() if ":" in line}
    return {"available": round(fields["MemAvailable"] / 2**20, 1), "page_cache": round(fields["Cached"] / 2**20, 1)}


def kept_rows(reference: list[torch.Tensor], vocab_size: int, size: int) -> list[int]:
    """`size` sorted token ids: the special tokens, those of `reference` (ids the untrimmed model reads and writes),
    and random others (seeded)."""
    kept = {0, 1, 2, *(token for ids in reference for token in ids.flatten().tolist())}
    if size < len(kept):
        raise SystemExit(f"--trim-vocab {size} is fewer than the {len(kept)} tokens the clip's translation needs.")
    others = torch.randperm(vocab_size, generator=torch.Generator().manual_seed(0)).tolist()
    for token in others:
        if len(kept) == size:
            break
        kept.add(token)
    return sorted(kept)


def size_mb(backend, folder: Path) -> float:
    """Megabytes of a backend's weights: its ONNX folder's files, or its parameters."""
    if isinstance(backend, UniSignOnnxModel):
        return round(sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) / 1e6, 1)
    return round(sum(p.numel() * p.element_size() for p in backend.parameters()) / 1e6, 1)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--new-tokens", type=int, default=20)
    parser.add_argument("--num-beams", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds after one warm-up round")
    parser.add_argument("--skip-torch-int8", action="store_true", help="skip PyTorch's dynamic int8 quantisation")
    parser.add_argument("--workdir", help="where the ONNX folders go (default: a temporary folder, removed)")
    parser.add_argument("--trim-vocab", type=int, metavar="N", help="also time copies that keep N token rows")
    cpu_class.add_cpu_class_argument(parser)
    args = parser.parse_args()
    load_at_start = [round(load, 2) for load in os.getloadavg()]
    memory_at_start = memory_gib()
    torch.manual_seed(0)
    config = UniSignConfig()
    model = UniSignForConditionalGeneration(config).eval()
    batch = synthetic_batch(config, 1, args.frames, 1, 0, "cpu")
    batch.pop("labels")
    generation = {"num_beams": args.num_beams, "max_new_tokens": args.new_tokens, "eos_token_id": None}

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="onnx_speed_"))
    export_s = quantize_s = None
    if not (workdir / "int8" / "onnx_config.json").is_file():  # a --workdir of an earlier run is reused
        export_s = timed(lambda: export_onnx(model, workdir / "fp32"))
        shutil.copytree(workdir / "fp32", workdir / "int8")
        quantize_s = timed(lambda: quantize_folder(workdir / "int8"))
    backends = {
        "torch_fp32": model,
        "onnx_fp32": UniSignOnnxModel.from_pretrained(workdir / "fp32"),
        "onnx_int8": UniSignOnnxModel.from_pretrained(workdir / "int8"),
    }
    kept = None
    if args.trim_vocab:
        with torch.no_grad():
            reference = model.generate(**batch, **generation)
        kept = kept_rows([batch["input_ids"], reference], config.text_config.vocab_size, args.trim_vocab)
        trimmed = copy.deepcopy(model)
        trim_model(trimmed, kept)
        if not (workdir / "int8_trimmed" / "onnx_config.json").is_file():
            export_onnx(trimmed, workdir / "fp32_trimmed")
            shutil.copytree(workdir / "fp32_trimmed", workdir / "int8_trimmed")
            quantize_folder(workdir / "int8_trimmed")
        backends["torch_fp32_trimmed"] = trimmed
        backends["onnx_fp32_trimmed"] = UniSignOnnxModel.from_pretrained(workdir / "fp32_trimmed")
        backends["onnx_int8_trimmed"] = UniSignOnnxModel.from_pretrained(workdir / "int8_trimmed")
    if not args.skip_torch_int8:
        # the language model's linear layers (all but 0.1% of the FLOPs): `embed_inputs` reads the pose projection's
        # weight dtype, which a quantised linear layer no longer has as a tensor
        quantized = copy.deepcopy(model)
        quantized.language_model = torch.ao.quantization.quantize_dynamic(
            quantized.language_model, {torch.nn.Linear}, dtype=torch.qint8
        )
        backends["torch_dynamic_int8"] = quantized
    oracle = oracle_pose_encoder(model)

    part_names = [
        "pose_encoder_fast_path",
        "pose_encoder_oracle",
        "mt5_encoder",
        "onnx_fp32_encoder",
        "onnx_int8_encoder",
    ]
    times = {name: [] for name in [*backends, *part_names]}
    outputs = {}
    kept_ids = None if kept is None else torch.tensor(kept)
    trimmed_batch = batch if kept is None else {**batch, "input_ids": torch.searchsorted(kept_ids, batch["input_ids"])}
    with torch.no_grad():
        embedded = model.embed_inputs(**batch)
        pose = (batch["pose_values"], batch["pose_attention_mask"])
        for round_index in range(args.rounds + 1):
            for name, backend in backends.items():
                elapsed = timed(
                    lambda backend=backend, name=name: outputs.__setitem__(
                        name,
                        kept_ids[backend.generate(**trimmed_batch, **generation)]  # the tokenizer's ids
                        if name.endswith("_trimmed")
                        else backend.generate(**batch, **generation),
                    )
                )
                if round_index:
                    times[name].append(elapsed)
            parts = {
                "pose_encoder_fast_path": lambda: model.pose_encoder(*pose),
                "pose_encoder_oracle": lambda: oracle(*pose),
                "mt5_encoder": lambda: model.language_model.get_encoder()(
                    inputs_embeds=embedded.inputs_embeds, attention_mask=embedded.attention_mask
                ),
                "onnx_fp32_encoder": lambda: backends["onnx_fp32"].encode(**batch),
                "onnx_int8_encoder": lambda: backends["onnx_int8"].encode(**batch),
            }
            for name, part in parts.items():
                elapsed = timed(part)
                if round_index:
                    times[name].append(elapsed)
    sizes = {name: size_mb(backend, workdir / name.removeprefix("onnx_")) for name, backend in backends.items()}
    if args.workdir is None:
        shutil.rmtree(workdir)

    flops = translation_flops(config, args.frames, args.new_tokens, args.num_beams)
    baseline = statistics.median(times["torch_fp32"])
    results = {}
    for name, values in times.items():
        median = statistics.median(values)
        results[name] = {"median_s": round(median, 3), "all_s": [round(value, 3) for value in values]}
        if name in backends:
            results[name].update(
                speedup_vs_torch_fp32=round(baseline / median, 2),
                achieved_gflops=round(flops / median / 1e9, 1),
                same_ids_as_torch_fp32=bool(torch.equal(outputs[name], outputs["torch_fp32"])),
                size_mb=sizes[name],
            )
    print(
        json.dumps(
            {
                "cpu": cpu_description(avx512=args.cpu_class != "avx2"),
                "cpu_class": cpu_class.cpu_class_report(args.cpu_class),
                "torch_threads": torch.get_num_threads(),
                "versions": {
                    "torch": torch.__version__,
                    "transformers": transformers.__version__,
                    "onnxruntime": version("onnxruntime"),
                    "onnx": version("onnx"),
                },
                "load_average_at_start": load_at_start,
                "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
                "memory_gib_at_start": memory_at_start,
                "clip": {"frames": args.frames, "new_tokens": args.new_tokens, "num_beams": args.num_beams},
                "model_gflop_per_translation": round(flops / 1e9, 1),
                "export_s": export_s and round(export_s, 1),
                "quantize_s": quantize_s and round(quantize_s, 1),
                "trimmed_vocab_size": None if kept is None else len(kept),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
