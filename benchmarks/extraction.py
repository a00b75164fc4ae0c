"""Pose extraction speed on CPU: frames per second of `unisign.extraction` on a real video.

Times, separately, building the estimator (model loading), decoding the video alone, and decoding + pose estimation
(the `iter_poses` path `extract_poses` uses); each pass re-reads the whole video with a `reset()` estimator and the
best and median of the passes are reported. `measure_extraction` is the reusable part (the end-to-end real-time
factor benchmark can call it). Run:

    python benchmarks/extraction.py [--video ../shared/data/pose-format/test_video.mp4] [--repeats 3]
        [--backend mediapipe] [--max-frames N]
"""

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from unisign.extraction import create_estimator, iter_poses, iter_video_frames, probe_video


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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--backend", default="mediapipe", choices=("mediapipe", "rtmlib"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-frames", type=int)
    args = parser.parse_args()

    info = probe_video(args.video)
    timing = measure_extraction(args.video, args.backend, args.repeats, args.max_frames)
    print(f"python {platform.python_version()}, machine {platform.machine()}, {os.cpu_count()} cpus")
    print(f"video: {args.video.name}, {info.width} x {info.height}, {timing.num_frames} frames at {info.fps:g} fps")
    print(f"backend: {args.backend}; estimator setup {timing.setup_seconds:.2f} s")
    print(f"decoding only (PyAV)       : {timing.decode_fps:8.1f} frames/s (best of {args.repeats})")
    passes = ", ".join(f"{fps:.1f}" for fps in timing.extraction_fps)
    print(
        f"decoding + pose estimation : {timing.median_fps:8.1f} frames/s median, {timing.best_fps:.1f} best ({passes})"
    )
    print(
        f"extraction real-time factor: {timing.real_time_factor:8.2f} (processing time / clip duration, median pass)"
    )


if __name__ == "__main__":
    main()
