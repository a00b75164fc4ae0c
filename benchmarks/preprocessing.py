"""Throughput of the keypoint normalisation: the vectorised `normalize_pose` next to a per-frame Python loop.

Both implement the same reference normalisation (Uni-Sign `datasets.py`: body box scale, hands relative to the
wrist, face relative to the nose tip, clip, zero low-confidence points); the script checks they agree, then times
them on 256-frame clips. Run:

    python benchmarks/preprocessing.py [--clips 200] [--frames 256] [--repeats 5]
"""

import argparse
import os
import platform
import time

import numpy as np
import transformers

from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor, normalize_pose
from unisign.models.unisign.keypoints import BODY_INDICES, FACE_INDICES, LEFT_HAND_INDICES, RIGHT_HAND_INDICES


THRESHOLD = 0.3


def normalize_pose_loop(keypoints: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The same normalisation written the straightforward way: one Python iteration per frame and part."""
    parts = {}
    for name, indices in (
        ("body", BODY_INDICES),
        ("left", LEFT_HAND_INDICES),
        ("right", RIGHT_HAND_INDICES),
        ("face", FACE_INDICES),
    ):
        frames = []
        for frame_keypoints, frame_scores in zip(keypoints, scores, strict=True):
            points = frame_keypoints[indices].astype(np.float64)
            if name in ("left", "right"):
                points = points - points[0]
            elif name == "face":
                points = points - points[-1]
            frames.append(np.concatenate([points, frame_scores[indices, None]], axis=-1))
        parts[name] = np.stack(frames)  # (T, V, 3)

    body = parts["body"]
    confident = body[body[..., 2] > THRESHOLD][:, :2]
    if len(confident) < 4:
        return np.zeros((len(keypoints), 69, 3), dtype=np.float32)
    xmin, ymin = confident.min(0)
    xmax, ymax = confident.max(0)
    scale = max(xmax - xmin, ymax - ymin)
    if scale == 0:
        return np.zeros((len(keypoints), 69, 3), dtype=np.float32)
    corner = np.array([(xmin + xmax - scale) / 2, (ymin + ymax - scale) / 2])
    outputs = []
    for name, values in parts.items():
        values = values.copy()
        if name == "body":
            values[..., :2] = ((values[..., :2] - corner) / scale - 0.5) * 2
        else:
            values[..., :2] = values[..., :2] / scale
        values = np.clip(values, -1, 1)
        values[values[..., 2] <= THRESHOLD] = 0
        outputs.append(values)
    return np.concatenate(outputs, axis=1).astype(np.float32)


def make_clips(num_clips: int, num_frames: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Synthetic clips: a signer-like point cloud with jitter, scores mostly confident, some hands missing."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(num_clips):
        base = rng.uniform(0.3, 0.7, size=(1, 133, 2))
        keypoints = (base + rng.normal(0, 0.02, size=(num_frames, 133, 2))).astype(np.float32)
        scores = rng.uniform(0.0, 1.0, size=(num_frames, 133)).astype(np.float32)
        clips.append((keypoints, scores))
    return clips


def throughput(functions: dict, clips, repeats: int) -> dict[str, float]:
    """Best clips per second of each function over `repeats` passes, alternating them so load changes hit all."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            for keypoints, scores in clips:
                function(keypoints, scores)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(clips) / seconds for name, seconds in best.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    clips = make_clips(args.clips, args.frames)
    worst = max(
        float(np.abs(normalize_pose(keypoints, scores) - normalize_pose_loop(keypoints, scores)).max())
        for keypoints, scores in clips
    )
    if worst > 1e-6:
        raise SystemExit(f"The two implementations disagree (max difference {worst:.3g}); not timing them.")

    feature_extractor = UniSignPoseFeatureExtractor(max_frames=args.frames)
    rates = throughput(
        {
            "vectorised normalize_pose": normalize_pose,
            "feature extractor .extract": lambda keypoints, scores: feature_extractor.extract((keypoints, scores)),
            "per-frame loop": normalize_pose_loop,
        },
        clips,
        args.repeats,
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, transformers {transformers.__version__}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, single process")
    print(f"{args.clips} clips x {args.frames} frames, best of {args.repeats}; outputs agree within {worst:.1e}")
    for name, rate in rates.items():
        print(f"{name:28s}: {rate:9.1f} clips/s ({1e3 / rate:.3f} ms/clip)")
    print(f"{'speed-up (vectorised/loop)':28s}: {rates['vectorised normalize_pose'] / rates['per-frame loop']:9.1f}x")
    print(f"{'speed-up (extract/loop)':28s}: {rates['feature extractor .extract'] / rates['per-frame loop']:9.1f}x")


if __name__ == "__main__":
    main()
