"""Streaming latency and end-to-end real-time factor of video -> text, mT5-base-sized pose-only model (random weights).

    python benchmarks/realtime.py      # the real-time settings: bf16, 1 thread, background translation, stride 2
    python benchmarks/realtime.py --backend onnx-int8   # the same on CPUs without bf16 instructions: ONNX int8
    python benchmarks/realtime.py --dtype float32 --foreground --frame-stride 1   # the plain settings, to compare
    python benchmarks/realtime.py --num-beams 4 --step-frames 60 --skip-paced
    python benchmarks/realtime.py --cpu-class avx2 --backend onnx-int8   # PyTorch off AVX-512/bf16 (cpu_class.py)

The clip is `test_video.mp4` (a real signer, ~30 fps) looped to `--seconds`. Three runs, each from the RGB frames:
- offline: MediaPipe pose extraction of every `--frame-stride`-th frame, then one translation of the whole clip;
- streaming, as fast as possible: frames pushed one by one, a translation of the growing window every `--step-frames`
  poses (in a background thread unless `--foreground`: only the newest window is translated);
- streaming, paced: the same with frames arriving at the video's frame rate, as from a camera, so a latency includes
  any backlog of frames waiting for the estimator.
Latency = time from the arrival of the frame that completes a step to its partial text (pose estimation of that frame
included). Real-time factor (RTF) = processing time / clip duration; below 1 keeps up with the signer. Each run also
reports the shares of the RTF: `extraction_rtf` (time in the pose estimator / duration) and `translation_rtf` (time
in translations / duration; with background translation the two overlap, on different cores when there are two).
`--dtype auto` (the default) is bfloat16 only on CPUs with bf16 instructions, float32 elsewhere; `--backend onnx-int8`
(or `onnx`) exports the model with `unisign.onnx` and translates with ONNX Runtime, `--threads` threads.
`--cpu-class avx2` keeps PyTorch off AVX-512, VNNI and bf16 (`--dtype auto` is then float32); ONNX Runtime and
MediaPipe keep this CPU's kernels (neither has a switch), so the extraction share is this CPU's.
The model has UniSignConfig()'s geometry (mT5-base text model) with the vocabulary cut to the tiny tokenizer's, which
only shrinks the output layer; the decoder runs `--max-new-tokens` steps since random weights rarely stop early.
Prints one JSON object.
"""

import argparse
import itertools
import json
import os
import platform
import statistics
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import cpu_class  # before torch: sets the switches of `--cpu-class`
import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, pipeline

from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
from unisign.apps.streaming import StreamingTranslator
from unisign.extraction import create_estimator
from unisign.models.unisign.configuration_unisign import MT5_BASE_GEOMETRY
from unisign.models.unisign.pipeline_unisign import TASK
from unisign.models.unisign.video_io import iter_video_frames, probe_video
from unisign.utils.precision import cpu_has_bf16_instructions, resolve_inference_dtype


SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def build_translator(tokenizer_path: str, generation: dict, dtype: torch.dtype, backend: str, threads: int, workdir):
    """The pipeline over a random pose-only model of the released geometry, in `dtype` (or exported to ONNX)."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    torch.manual_seed(0)
    config = UniSignConfig(text_config={**MT5_BASE_GEOMETRY, "vocab_size": len(tokenizer)})
    model = UniSignForConditionalGeneration(config).eval()
    parameters = sum(parameter.numel() for parameter in model.parameters())
    processor = UniSignProcessor.from_model_config(config, tokenizer, language="en")
    if backend != "torch":
        from unisign.onnx import UniSignOnnxModel, export_onnx

        folder = export_onnx(model, Path(workdir) / "onnx", quantize="int8" if backend == "onnx-int8" else None)
        model = UniSignOnnxModel.from_pretrained(folder, num_threads=threads)
    translator = pipeline(TASK, model=model.to(dtype), processor=processor, device="cpu", **generation)
    return translator, parameters


class TimedEstimator:
    """A pose estimator that adds up the seconds spent in it."""

    def __init__(self, estimator):
        self.estimator, self.seconds = estimator, 0.0
        self.name, self.description = estimator.name, estimator.description

    def __call__(self, frame):
        start = time.perf_counter()
        try:
            return self.estimator(frame)
        finally:
            self.seconds += time.perf_counter() - start

    def reset(self):
        self.estimator.reset()

    def close(self):
        self.estimator.close()


class TimedTranslator:
    """A translation pipeline that adds up the seconds spent in its calls (what `StreamingTranslator` needs of it)."""

    def __init__(self, translator):
        self.translator, self.model, self.seconds = translator, translator.model, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.translator(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def summary(latencies: list[float]) -> dict:
    """Median, maximum and all latencies in milliseconds."""
    milliseconds = [round(latency * 1000) for latency in latencies]
    return {"median_ms": statistics.median(milliseconds), "max_ms": max(milliseconds), "all_ms": milliseconds}


def run_stream(translator, frames: list, fps: float, realtime: bool, **stream_options) -> dict:
    """One streaming pass (`stream_options` of `StreamingTranslator`): latencies of the partial translations, RTF."""
    estimator, timed_translator = TimedEstimator(create_estimator("mediapipe")), TimedTranslator(translator)
    stream = StreamingTranslator(timed_translator, estimator=estimator, **stream_options)
    start = time.perf_counter()
    try:
        partials = list(stream.stream(frames, realtime=realtime, fps=fps))
        dropped = stream.dropped_translations
    finally:
        stream.close()
        estimator.close()
    elapsed = time.perf_counter() - start
    duration = len(frames) / fps
    return {
        "extraction_rtf": round(estimator.seconds / duration, 3),
        "translation_rtf": round(timed_translator.seconds / duration, 3),
        "partials": len(partials),
        "dropped_windows": dropped,
        "latency": summary([partial.latency_s for partial in partials]),
        "final_latency_ms": round(partials[-1].latency_s * 1000),
        "processing_s": round(elapsed, 2),
        "real_time_factor": round(elapsed / duration, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=str(SHARED_DIR / "data" / "pose-format" / "test_video.mp4"))
    parser.add_argument("--tokenizer", default=str(SHARED_DIR / "golden" / "official-tiny" / "tiny-mt5"))
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length (the video is looped)")
    parser.add_argument("--step-frames", type=int, default=30, help="translate every N new poses")
    parser.add_argument("--num-beams", type=int, default=1)
    parser.add_argument("--max-new-tokens", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch / ONNX Runtime threads (default 1: pose estimation has a core)"
    )
    parser.add_argument(
        "--dtype",
        choices=("auto", "float32", "bfloat16"),
        default="auto",
        help="PyTorch precision (auto: bfloat16 on CPUs with bf16 instructions, else float32)",
    )
    parser.add_argument(
        "--backend", choices=("torch", "onnx", "onnx-int8"), default="torch", help="translation engine"
    )
    parser.add_argument("--frame-stride", type=int, default=2, help="estimate the pose of every N-th frame")
    parser.add_argument("--foreground", action="store_true", help="translate in the streaming loop, not a thread")
    parser.add_argument("--skip-paced", action="store_true", help="skip the run paced at the video's frame rate")
    cpu_class.add_cpu_class_argument(parser)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_at_start = [round(load, 2) for load in os.getloadavg()]

    fps = probe_video(args.video).fps
    frames = list(itertools.islice(itertools.cycle(list(iter_video_frames(args.video))), round(args.seconds * fps)))
    generation = {"num_beams": args.num_beams, "max_new_tokens": args.max_new_tokens}
    dtype = resolve_inference_dtype(args.dtype, "cpu") if args.backend == "torch" else torch.float32
    if args.cpu_class == "avx2" and args.dtype == "auto":  # the flags still show bf16: an AVX2 CPU has none
        dtype = torch.float32
    with tempfile.TemporaryDirectory() as workdir:
        translator, parameters = build_translator(
            args.tokenizer, generation, dtype, args.backend, args.threads, workdir
        )
    duration = len(frames) / fps

    # offline: all poses first, then one translation
    estimator = create_estimator("mediapipe")
    start = time.perf_counter()
    poses = [estimator(frame) for frame in frames[:: args.frame_stride]]
    extraction_s = time.perf_counter() - start
    estimator.close()
    keypoints, scores = (np.stack(part) for part in zip(*poses, strict=True))  # (T, 133, 2), (T, 133)
    start = time.perf_counter()
    translator((keypoints, scores))
    translation_s = time.perf_counter() - start

    stream_options = {
        "step_frames": args.step_frames,
        "background": not args.foreground,
        "frame_stride": args.frame_stride,
    }
    results = {
        "device": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "mediapipe": version("mediapipe"),
        },
        "load_average_at_start": load_at_start,
        "backend": args.backend,
        "dtype": str(dtype).removeprefix("torch."),
        "cpu_has_bf16_instructions": cpu_has_bf16_instructions(),
        "cpu_class": cpu_class.cpu_class_report(args.cpu_class),
        "model_parameters": parameters,
        "clip": {"seconds": round(duration, 2), "frames": len(frames), "fps": round(fps, 2)},
        "generation": generation,
        "streaming": stream_options,
        "offline": {
            "extraction_fps": round(len(poses) / extraction_s, 1),
            "extraction_s": round(extraction_s, 2),
            "translation_s": round(translation_s, 2),
            "extraction_rtf": round(extraction_s / duration, 3),
            "translation_rtf": round(translation_s / duration, 3),
            "real_time_factor": round((extraction_s + translation_s) / duration, 3),
        },
        "streaming_unpaced": run_stream(translator, frames, fps, realtime=False, **stream_options),
    }
    if not args.skip_paced:
        results["streaming_paced"] = run_stream(translator, frames, fps, realtime=True, **stream_options)
    results["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
