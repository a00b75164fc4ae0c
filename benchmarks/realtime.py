"""Streaming latency and end-to-end real-time factor of video -> text, mT5-base-sized pose-only model (random weights).

    python benchmarks/realtime.py                           # 10 s clip, translate every 30 frames, greedy, 20 tokens
    python benchmarks/realtime.py --num-beams 4 --step-frames 60 --skip-paced
    python benchmarks/realtime.py --threads 1                # loaded CPU: avoids OpenMP threads fighting for cores

The clip is `test_video.mp4` (a real signer, ~30 fps) looped to `--seconds`. Three runs, each from the RGB frames:
- offline: MediaPipe pose extraction of every frame, then one translation of the whole clip;
- streaming, as fast as possible: frames pushed one by one, a translation of the growing window every `--step-frames`;
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
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, pipeline

from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
from unisign.configuration_unisign import MT5_BASE_GEOMETRY
from unisign.extraction import create_estimator, iter_video_frames, probe_video
from unisign.pipeline import TASK, StreamingTranslator


SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


def build_translator(tokenizer_path: str, generation: dict):
    """The pipeline over a random pose-only model of the released geometry."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    torch.manual_seed(0)
    config = UniSignConfig(text_config={**MT5_BASE_GEOMETRY, "vocab_size": len(tokenizer)})
    model = UniSignForConditionalGeneration(config)
    processor = UniSignProcessor.from_model_config(config, tokenizer, language="en")
    translator = pipeline(TASK, model=model, processor=processor, device="cpu", **generation)
    return translator, sum(parameter.numel() for parameter in model.parameters())


def summary(latencies: list[float]) -> dict:
    """Median, maximum and all latencies in milliseconds."""
    milliseconds = [round(latency * 1000) for latency in latencies]
    return {"median_ms": statistics.median(milliseconds), "max_ms": max(milliseconds), "all_ms": milliseconds}


def run_stream(translator, frames: list, fps: float, step_frames: int, realtime: bool) -> dict:
    """One streaming pass: latencies of the partial translations and the RTF."""
    stream = StreamingTranslator(translator, step_frames=step_frames)
    start = time.perf_counter()
    try:
        partials = list(stream.stream(frames, realtime=realtime, fps=fps))
    finally:
        stream.close()
    elapsed = time.perf_counter() - start
    duration = len(frames) / fps
    return {
        "partials": len(partials),
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
    parser.add_argument("--step-frames", type=int, default=30, help="translate every N new frames")
    parser.add_argument("--num-beams", type=int, default=1)
    parser.add_argument("--max-new-tokens", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, help="torch threads (1 avoids thread thrashing on a loaded 2-core machine)"
    )
    parser.add_argument("--skip-paced", action="store_true", help="skip the run paced at the video's frame rate")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    fps = probe_video(args.video).fps
    frames = list(itertools.islice(itertools.cycle(list(iter_video_frames(args.video))), round(args.seconds * fps)))
    generation = {"num_beams": args.num_beams, "max_new_tokens": args.max_new_tokens}
    translator, parameters = build_translator(args.tokenizer, generation)
    duration = len(frames) / fps

    # offline: all poses first, then one translation
    estimator = create_estimator("mediapipe")
    start = time.perf_counter()
    poses = [estimator(frame) for frame in frames]
    extraction_s = time.perf_counter() - start
    estimator.close()
    keypoints, scores = (np.stack(part) for part in zip(*poses, strict=True))  # (T, 133, 2), (T, 133)
    start = time.perf_counter()
    translator((keypoints, scores))
    translation_s = time.perf_counter() - start

    results = {
        "device": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads "
        f"{torch.get_num_threads()}",
        "model_parameters": parameters,
        "clip": {"seconds": round(duration, 2), "frames": len(frames), "fps": round(fps, 2)},
        "generation": generation,
        "step_frames": args.step_frames,
        "offline": {
            "extraction_fps": round(len(frames) / extraction_s, 1),
            "extraction_s": round(extraction_s, 2),
            "translation_s": round(translation_s, 2),
            "real_time_factor": round((extraction_s + translation_s) / duration, 3),
        },
        "streaming_unpaced": run_stream(translator, frames, fps, args.step_frames, realtime=False),
    }
    if not args.skip_paced:
        results["streaming_paced"] = run_stream(translator, frames, fps, args.step_frames, realtime=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
