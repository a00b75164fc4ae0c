"""Stream the RGB frames of a video or a camera with PyAV, one at a time, with clear errors for non-videos.

Decoding is sequential and keeps one frame in memory, so a long video costs no more memory than a short one.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream."""

    width: int
    height: int
    fps: float | None  # None when the container gives no frame rate
    num_frames: int | None  # declared frame count; None when the container does not say


def _open_video(path: str | Path):
    """Open `path` with PyAV and return `(container, first video stream)`, or raise a clear error."""
    import av

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"The video `{path}` does not exist (or is not a file).")
    if path.stat().st_size == 0:
        raise ValueError(f"The video `{path}` is empty (0 bytes).")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise ValueError(f"Could not open `{path}` as a video: it is corrupt or not a video ({error}).") from error
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams}) or ["none"]
        container.close()
        raise ValueError(f"`{path}` has no video stream (stream types: {', '.join(kinds)}); give a video file.")
    return container, container.streams.video[0]


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
    import av

    if max_frames is not None and max_frames < 1:
        raise ValueError(f"`max_frames` must be at least 1, got {max_frames}.")
    container, stream = _open_video(path)
    with container:
        stream.thread_type = "AUTO"
        count = 0
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")  # (H, W, 3)
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except av.error.FFmpegError as error:
            raise ValueError(f"Could not decode frame {count} of `{path}`: the video is damaged ({error}).") from error
    if count == 0:
        raise ValueError(f"`{path}` has a video stream but no decodable frame: it is truncated or corrupt.")


def iter_camera_frames(device: str) -> Iterator[np.ndarray]:
    """RGB frames `(height, width, 3)` from a V4L2 camera, as they are captured (until interrupted)."""
    import av

    try:
        container = av.open(device, format="v4l2")
    except (av.error.FFmpegError, OSError) as error:
        raise ValueError(f"Could not open the camera `{device}` ({error}).") from error
    with container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


__all__ = ["VideoInfo", "iter_camera_frames", "iter_video_frames", "probe_video"]
