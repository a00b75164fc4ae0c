"""Pose extraction speed on CPU: frames per second of `unisign.extraction` on a real video.

Times, separately, building the estimator (model loading), decoding the video alone, and decoding + pose estimation
(the `iter_poses` path `extract_poses` uses); each pass re-reads the whole video with a `reset()` estimator and the
best and median of the passes are reported. `measure_extraction` is the reusable part (the end-to-end real-time
factor benchmark can call it). With `--frame-stride N` (every N-th frame, as `StreamingTranslator(frame_stride=N)`)
or `--model-complexity 0|2` (MediaPipe's lite or heavy pose model, downloaded at first use), the poses are also
compared with the default's (every frame, complexity 1) on the frames both estimate: frames with a person and how far
the confident keypoints move, in pixels. Run:

    python benchmarks/extraction.py [--video ../shared/data/pose-format/test_video.mp4] [--repeats 3]
        [--backend mediapipe] [--max-frames N] [--frame-stride N] [--model-complexity 0|1|2]
"""

import argparse
import itertools
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unisign.extraction import create_estimator, extract_poses, iter_poses
from unisign.models.unisign.keypoints import BODY_INDICES, LEFT_HAND_INDICES, RIGHT_HAND_INDICES
from unisign.models.unisign.video_io import iter_video_frames, probe_video


DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "pose-format" / "test_video.mp4"


@dataclass
class ExtractionTiming:
    """Timings of pose extraction on one video (seconds; rates in frames per second)."""

    backend: str
    num_frames: int
    video_seconds: float  # duration of the frames processed, at the video's frame rate
    setup_seconds: float  # building the estimator (model loading)
    decode_fps: float  # best pass, decoding only
    extraction_fps: list[float]  # every pass, decoding + pose estimation

    @property
    def best_fps(self) -> float:
        return max(self.extraction_fps)

    @property
    def median_fps(self) -> float:
        return statistics.median(self.extraction_fps)

    @property
    def real_time_factor(self) -> float:
        """Processing time / clip duration for extraction alone (median pass); below 1 keeps up with the video."""
        return self.num_frames / self.median_fps / self.video_seconds


def measure_extraction(
    video: str | Path, backend: str = "mediapipe", repeats: int = 3, max_frames: int | None = None, **backend_options
) -> ExtractionTiming:
    """Time pose extraction of `video` (see the module docstring).

    Args:
        video: The video file.
        backend: `"mediapipe"` or `"rtmlib"`.
        repeats: Passes over the video.
        max_frames: Only the first frames.
        **backend_options: Passed to `create_estimator`.

    Returns:
        `ExtractionTiming`.
    """
    info = probe_video(video)
    start = time.perf_counter()
    estimator = create_estimator(backend, **backend_options)
    setup_seconds = time.perf_counter() - start
    try:
        decode_seconds, extraction_fps, num_frames = float("inf"), [], 0
        for _ in range(repeats):
            start = time.perf_counter()
            num_frames = sum(1 for _ in iter_video_frames(video, max_frames))
            decode_seconds = min(decode_seconds, time.perf_counter() - start)
            start = time.perf_counter()
            count = sum(1 for _ in iter_poses(video, estimator=estimator, max_frames=max_frames))
            extraction_fps.append(count / (time.perf_counter() - start))
    finally:
        estimator.close()
    return ExtractionTiming(
        backend=backend,
        num_frames=num_frames,
        video_seconds=num_frames / (info.fps or 25.0),
        setup_seconds=setup_seconds,
        decode_fps=num_frames / decode_seconds,
        extraction_fps=extraction_fps,
    )


def compare_with_default(video: str | Path, frame_stride: int = 1, **backend_options) -> dict:
    """MediaPipe poses of every `frame_stride`-th frame with `backend_options` against the default's (every frame).

    Returns:
        `dict`: estimated frames and their rate (one pass, decoding included; the estimator was built before), those
        with a person (and the default's), and per part (body, hands) the number of
        points confident (score > 0.3) in both and their median and 95th-percentile distance in pixels.
    """
    default = extract_poses(video, "mediapipe", progress=False)
    estimator = create_estimator("mediapipe", **backend_options)
    try:
        start = time.perf_counter()
        poses = [estimator(frame) for frame in itertools.islice(iter_video_frames(video), 0, None, frame_stride)]
        seconds = time.perf_counter() - start
    finally:
        estimator.close()
    keypoints, scores = (np.stack(part) for part in zip(*poses, strict=True))  # (T', 133, 2), (T', 133)
    reference_keypoints, reference_scores = default.keypoints[::frame_stride], default.scores[::frame_stride]
    size = np.array([default.width, default.height], dtype=np.float32)
    distances = np.linalg.norm((keypoints - reference_keypoints) * size, axis=-1)  # (T', 133) pixels
    confident = (scores > 0.3) & (reference_scores > 0.3)
    parts = {}
    for name, indices in (("body", BODY_INDICES), ("hands", LEFT_HAND_INDICES + RIGHT_HAND_INDICES)):
        moved = distances[:, indices][confident[:, indices]]
        parts[name] = {
            "points": int(moved.size),
            "median_px": round(float(np.median(moved)), 2) if moved.size else None,
            "p95_px": round(float(np.percentile(moved, 95)), 2) if moved.size else None,
        }
    return {
        "frames": len(scores),
        "estimated_fps": round(len(scores) / seconds, 1),
        "frames_with_person": int((scores > 0).any(-1).sum()),
        "default_frames_with_person": int((reference_scores > 0).any(-1).sum()),
        "distance_to_default": parts,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--backend", default="mediapipe", choices=("mediapipe", "rtmlib"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--frame-stride", type=int, default=1, help="also compare every N-th frame's poses")
    parser.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1, help="mediapipe pose model")
    args = parser.parse_args()

    info = probe_video(args.video)
    options = {"model_complexity": args.model_complexity} if args.backend == "mediapipe" else {}
    timing = measure_extraction(args.video, args.backend, args.repeats, args.max_frames, **options)
    print(f"python {platform.python_version()}, machine {platform.machine()}, {os.cpu_count()} cpus")
    print(f"video: {args.video.name}, {info.width} x {info.height}, {timing.num_frames} frames at {info.fps:g} fps")
    print(
        f"backend: {args.backend} {options}; load average {os.getloadavg()[0]:.2f}; setup {timing.setup_seconds:.2f} s"
    )
    print(f"decoding only (PyAV)       : {timing.decode_fps:8.1f} frames/s (best of {args.repeats})")
    passes = ", ".join(f"{fps:.1f}" for fps in timing.extraction_fps)
    print(
        f"decoding + pose estimation : {timing.median_fps:8.1f} frames/s median, {timing.best_fps:.1f} best ({passes})"
    )
    print(
        f"extraction real-time factor: {timing.real_time_factor:8.2f} (processing time / clip duration, median pass)"
    )

    if args.backend == "mediapipe" and (args.frame_stride != 1 or args.model_complexity != 1):
        start = time.perf_counter()
        comparison = compare_with_default(args.video, args.frame_stride, **options)
        print(f"every {args.frame_stride} frame(s), {options} vs every frame, complexity 1: {comparison}")
        print(f"(comparison took {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
