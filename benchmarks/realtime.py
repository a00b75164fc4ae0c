"""Streaming latency and end-to-end real-time factor of video -> text, mT5-base-sized pose-only model (random weights).

    python benchmarks/realtime.py      # the real-time settings: bf16, 1 thread, background translation, stride 2
    python benchmarks/realtime.py --dtype float32 --foreground --frame-stride 1   # the plain settings, to compare
    python benchmarks/realtime.py --num-beams 4 --step-frames 60 --skip-paced

The clip is `test_video.mp4` (a real signer, ~30 fps) looped to `--seconds`. Three runs, each from the RGB frames:
- offline: MediaPipe pose extraction of every `--frame-stride`-th frame, then one translation of the whole clip;
- streaming, as fast as possible: frames pushed one by one, a translation of the growing window every `--step-frames`
  poses (in a background thread unless `--foreground`: only the newest window is translated);
- streaming, paced: the same with frames arriving at the video's frame rate, as from a camera, so a latency includes
  any backlog of frames waiting for the estimator.
Latency = time from the arrival of the frame that completes a step to its partial text (pose estimation of that frame
included). Real-time factor (RTF) = processing time / clip duration; below 1 keeps up with the signer.
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
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, pipeline

from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
from unisign.configuration_unisign import MT5_BASE_GEOMETRY
from unisign.extraction import create_estimator, iter_video_frames, probe_video
from unisign.pipeline import TASK
from unisign.streaming import StreamingTranslator


SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def build_translator(tokenizer_path: str, generation: dict, dtype: torch.dtype):
    """The pipeline over a random pose-only model of the released geometry, in `dtype`."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    torch.manual_seed(0)
    config = UniSignConfig(text_config={**MT5_BASE_GEOMETRY, "vocab_size": len(tokenizer)})
    model = UniSignForConditionalGeneration(config).to(dtype)
    processor = UniSignProcessor.from_model_config(config, tokenizer, language="en")
    translator = pipeline(TASK, model=model, processor=processor, device="cpu", **generation)
    return translator, sum(parameter.numel() for parameter in model.parameters())


def summary(latencies: list[float]) -> dict:
    """Median, maximum and all latencies in milliseconds."""
    milliseconds = [round(latency * 1000) for latency in latencies]
    return {"median_ms": statistics.median(milliseconds), "max_ms": max(milliseconds), "all_ms": milliseconds}


def run_stream(translator, frames: list, fps: float, realtime: bool, **stream_options) -> dict:
    """One streaming pass (`stream_options` of `StreamingTranslator`): latencies of the partial translations, RTF."""
    stream = StreamingTranslator(translator, **stream_options)
    start = time.perf_counter()
    try:
        partials = list(stream.stream(frames, realtime=realtime, fps=fps))
        dropped = stream.dropped_translations
    finally:
        stream.close()
    elapsed = time.perf_counter() - start
    duration = len(frames) / fps
    return {
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
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: pose estimation has a core)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="bfloat16", help="model precision")
    parser.add_argument("--frame-stride", type=int, default=2, help="estimate the pose of every N-th frame")
    parser.add_argument("--foreground", action="store_true", help="translate in the streaming loop, not a thread")
    parser.add_argument("--skip-paced", action="store_true", help="skip the run paced at the video's frame rate")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_at_start = [round(load, 2) for load in os.getloadavg()]

    fps = probe_video(args.video).fps
    frames = list(itertools.islice(itertools.cycle(list(iter_video_frames(args.video))), round(args.seconds * fps)))
    generation = {"num_beams": args.num_beams, "max_new_tokens": args.max_new_tokens}
    translator, parameters = build_translator(args.tokenizer, generation, getattr(torch, args.dtype))
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
        "dtype": args.dtype,
        "model_parameters": parameters,
        "clip": {"seconds": round(duration, 2), "frames": len(frames), "fps": round(fps, 2)},
        "generation": generation,
        "streaming": stream_options,
        "offline": {
            "extraction_fps": round(len(poses) / extraction_s, 1),
            "extraction_s": round(extraction_s, 2),
            "translation_s": round(translation_s, 2),
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
