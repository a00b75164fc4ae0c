"""RGB frames of videos and cameras with PyAV (FFmpeg inside its wheel, no system dependency).

One module for every reader of frames: pose extraction and visualisation stream a video frame by frame
(`iter_video_frames`, one frame in memory), the video processor decodes only the frames it crops hands from
(`read_video_frames`), live translation reads a camera (`iter_camera_frames`). It is shipped with saved models as
remote code, so it imports nothing from the package.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors_unisign import UniSignInputError


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream."""

    width: int
    height: int
    fps: float | None  # None when the container gives no frame rate
    num_frames: int | None  # declared frame count; None when the container does not say


def import_av():
    """PyAV, or a one-line error naming the pip package."""
    try:
        import av
    except ImportError:
        raise ImportError("Reading video frames needs PyAV: `pip install av`.") from None
    return av


def _open_video(path: str | Path):
    """Open `path` with PyAV and return `(container, first video stream)`, or raise a clear error."""
    av = import_av()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"The video `{path}` does not exist (or is not a file).")
    if path.stat().st_size == 0:
        raise UniSignInputError(f"The video `{path}` is empty (0 bytes).")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise UniSignInputError(
            f"Could not open `{path}` as a video: it is corrupt or not a video ({error})."
        ) from error
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams}) or ["none"]
        container.close()
        raise UniSignInputError(f"`{path}` has no video stream (stream types: {', '.join(kinds)}); give a video file.")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream


def probe_video(path: str | Path) -> VideoInfo:
    """Frame size, frame rate and declared frame count of a video, without decoding it.

    Args:
        path (`str` or `Path`): The video file.

    Returns:
        `VideoInfo`.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: The file is empty, corrupt, or has no video stream.
    """
    container, stream = _open_video(path)
    with container:
        rate = stream.average_rate or stream.guessed_rate
        return VideoInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(rate) if rate else None,
            num_frames=stream.frames or None,
        )


def iter_video_frames(path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode a video frame by frame.

    Args:
        path (`str` or `Path`): The video file.
        max_frames (`int`, *optional*): Stop after this many frames.

    Yields:
        `np.ndarray` of shape `(height, width, 3)`, uint8 RGB, in display order.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: The file is empty, corrupt, has no video stream, has no decodable frame, or fails to decode
            part-way (the error names the frame).
    """
    av = import_av()
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"`max_frames` must be at least 1, got {max_frames}.")
    container, stream = _open_video(path)
    with container:
        count = 0
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")  # (H, W, 3)
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except av.error.FFmpegError as error:
            raise UniSignInputError(
                f"Could not decode frame {count} of `{path}`: the video is damaged ({error})."
            ) from error
    if count == 0:
        raise UniSignInputError(f"`{path}` has a video stream but no decodable frame: it is truncated or corrupt.")


def read_video_frames(
    path: str | Path, frame_indices, num_pose_frames: int | None = None, frame_offset: int = 0
) -> np.ndarray:
    """Decode the frames at `frame_indices` of a video, stopping after the last one needed.

    Frames are decoded in order (a compressed video cannot skip to an arbitrary frame without decoding from a key
    frame), but only the requested ones are kept, and decoding stops at the last requested frame.

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
        FileNotFoundError: `path` does not exist.
        ValueError: The video cannot be opened, its frame count does not match the poses, or it ends before a
            requested frame.
    """
    wanted = np.asarray(frame_indices, dtype=np.int64).reshape(-1) + frame_offset
    if wanted.size and wanted.min() < frame_offset:
        raise ValueError(f"Frame indices must be >= 0, got {wanted.min() - frame_offset}.")
    targets = set(wanted.tolist())
    last = max(targets, default=-1)
    decoded, count = {}, 0
    container, stream = _open_video(path)
    with container:
        declared = stream.frames  # 0 when the container does not say
        if num_pose_frames is not None and declared:
            needed = frame_offset + num_pose_frames
            if declared < needed or (frame_offset == 0 and declared != num_pose_frames):
                raise ValueError(
                    f"The video `{path}` has {declared} frames but its poses have {num_pose_frames} frames"
                    f"{f' starting at frame {frame_offset}' if frame_offset else ''}: poses and video frames must be "
                    "aligned 1:1 (extract the poses from this very video)."
                )
    if last < 0:
        return np.zeros((0, 0, 0, 3), dtype=np.uint8)
    for index, frame in enumerate(iter_video_frames(path, max_frames=last + 1)):
        count = index + 1
        if index in targets:
            decoded[index] = frame
    if last not in decoded:
        raise ValueError(
            f"The video `{path}` ends after {count} frames but frame {last} is needed"
            f"{f' (its poses have {num_pose_frames} frames)' if num_pose_frames is not None else ''}: the video is "
            "shorter than its poses."
        )
    return np.stack([decoded[index] for index in wanted.tolist()])


def iter_camera_frames(device: str) -> Iterator[np.ndarray]:
    """RGB frames `(height, width, 3)` from a V4L2 camera, as they are captured (until interrupted)."""
    av = import_av()
    try:
        container = av.open(device, format="v4l2")
    except (av.error.FFmpegError, OSError) as error:
        raise ValueError(f"Could not open the camera `{device}` ({error}).") from error
    with container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


__all__ = ["VideoInfo", "iter_camera_frames", "iter_video_frames", "probe_video", "read_video_frames"]
