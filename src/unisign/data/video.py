"""Decode selected RGB frames of a video with PyAV (FFmpeg inside its wheel, no system dependency)."""

from pathlib import Path

import numpy as np


def read_video_frames(
    path: str | Path, frame_indices, num_pose_frames: int | None = None, frame_offset: int = 0
) -> np.ndarray:
    """Decode the frames at `frame_indices` of a video, stopping after the last one needed.

    Frames are decoded in order (a compressed video cannot skip to an arbitrary frame without decoding from a key
    frame), but only the requested ones are converted to RGB arrays, and decoding stops at the last requested frame.

    Args:
        path (`str` or `Path`): The video file.
        frame_indices (array-like of int): Indices into the pose clip of the frames to return (any order, repeats
            allowed).
        num_pose_frames (`int`, *optional*):
            Frames of the pose clip the video belongs to. When given and the container declares its frame count,
            the two must be equal (with `frame_offset` 0) or the video must cover `frame_offset + num_pose_frames`
            frames; in every case the video must reach the last requested frame.
        frame_offset (`int`, *optional*, defaults to 0):
            Index in the video of the pose clip's first frame (reference pose files with a `start`).

    Returns:
        `np.ndarray` of shape `(len(frame_indices), height, width, 3)`, uint8 RGB, in the order of `frame_indices`.

    Raises:
        ValueError: The video cannot be opened, its frame count does not match the poses, or it ends before a
            requested frame.
    """
    import av

    wanted = np.asarray(frame_indices, dtype=np.int64).reshape(-1) + frame_offset
    if wanted.size and wanted.min() < frame_offset:
        raise ValueError(f"Frame indices must be >= 0, got {wanted.min() - frame_offset}.")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise ValueError(f"Could not open the video `{path}`: {error}") from error
    with container:
        if not container.streams.video:
            raise ValueError(f"`{path}` has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        declared = stream.frames  # 0 when the container does not say
        if num_pose_frames is not None and declared:
            needed = frame_offset + num_pose_frames
            if declared < needed or (frame_offset == 0 and declared != num_pose_frames):
                raise ValueError(
                    f"The video `{path}` has {declared} frames but its poses have {num_pose_frames} frames"
                    f"{f' starting at frame {frame_offset}' if frame_offset else ''}: poses and video frames must be "
                    "aligned 1:1 (extract the poses from this very video)."
                )
        targets = set(wanted.tolist())
        last = max(targets, default=-1)
        decoded, count = {}, 0
        try:
            for index, frame in enumerate(container.decode(stream) if last >= 0 else ()):
                count = index + 1
                if index in targets:
                    decoded[index] = frame.to_ndarray(format="rgb24")  # (H, W, 3)
                if index >= last:
                    break
        except av.error.FFmpegError as error:
            raise ValueError(f"Could not decode frame {count} of `{path}`: {error}") from error
    if last >= 0 and last not in decoded:
        raise ValueError(
            f"The video `{path}` ends after {count} frames but frame {last} is needed"
            f"{f' (its poses have {num_pose_frames} frames)' if num_pose_frames is not None else ''}: the video is "
            "shorter than its poses."
        )
    if not decoded:
        return np.zeros((0, 0, 0, 3), dtype=np.uint8)
    return np.stack([decoded[index] for index in wanted.tolist()])


__all__ = ["read_video_frames"]
