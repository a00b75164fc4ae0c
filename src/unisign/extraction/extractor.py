"""Video -> COCO-WholeBody-133 poses: one interface over the MediaPipe Holistic and RTMW (rtmlib) back-ends.

`iter_poses` streams per-frame results (constant memory, for long videos, webcams and the streaming translator);
`extract_poses` collects a whole video into a `PoseSample`; `load_poses` also accepts `.pose` files and reference pose
pickles, so callers can take any of the three.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
from tqdm.auto import tqdm
from transformers.utils import logging

from ..data.reference import read_pose_pickle
from ..data.sample import PoseSample
from ..models.unisign.pose_file import POSE_FILE_SUFFIXES, read_pose_file
from ..models.unisign.video_io import iter_video_frames, probe_video
from ..utils.errors import InvalidInputError, MissingInputError


logger = logging.get_logger(__name__)

BACKENDS = ("mediapipe", "rtmlib")


class PoseEstimator(Protocol):
    """What `iter_poses` needs from a back-end: RGB frame -> `(keypoints (133, 2), scores (133,))`."""

    name: str
    description: str

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints `(133, 2)` in `(x / width, y / height)` units and scores `(133,)` of one uint8 RGB frame."""

    def reset(self) -> None:
        """Forget any state carried from frame to frame (called before each new video)."""

    def close(self) -> None:
        """Release the back-end's resources."""


class FramePose(NamedTuple):
    """The pose of one frame."""

    index: int  # frame index in the source
    keypoints: np.ndarray  # (133, 2) float32, (x / width, y / height)
    scores: np.ndarray  # (133,) float32; all zero when no person was found


def create_estimator(backend: str = "mediapipe", **options) -> PoseEstimator:
    """Build a pose estimator.

    Args:
        backend (`str`, *optional*, defaults to `"mediapipe"`):
            `"mediapipe"` (MediaPipe Holistic 0.10.14, offline; options of `MediaPipeHolisticEstimator`) or
            `"rtmlib"` (RTMW; options of `RTMWEstimator`, e.g. `det_model`, `pose_model`, `allow_download`).
        **options: Passed to the back-end's constructor.

    Returns:
        `PoseEstimator`.
    """
    if backend == "mediapipe":
        from .mediapipe_backend import MediaPipeHolisticEstimator

        return MediaPipeHolisticEstimator(**options)
    if backend == "rtmlib":
        from .rtmlib_backend import RTMWEstimator

        return RTMWEstimator(**options)
    raise InvalidInputError(f"Unknown pose extraction back-end {backend!r}. Available back-ends: {BACKENDS}.")


def iter_poses(
    source: str | Path | Iterable[np.ndarray],
    backend: str = "mediapipe",
    estimator: PoseEstimator | None = None,
    progress: bool = False,
    max_frames: int | None = None,
    **backend_options,
) -> Iterator[FramePose]:
    """Estimate poses frame by frame, holding one frame at a time.

    Args:
        source (`str`, `Path` or iterable of `np.ndarray`):
            A video file, or RGB uint8 frames of shape `(height, width, 3)` in order (e.g. from a webcam).
        backend (`str`, *optional*, defaults to `"mediapipe"`): Back-end when no `estimator` is given.
        estimator (`PoseEstimator`, *optional*):
            A ready estimator (reused across calls; it is `reset()` first and left open). Without it, one is built
            from `backend` and `backend_options` and closed at the end.
        progress (`bool`, *optional*, defaults to `False`): Show a progress bar of frames done.
        max_frames (`int`, *optional*): Stop after this many frames.
        **backend_options: Passed to `create_estimator`.

    Yields:
        `FramePose` per frame.
    """
    if isinstance(source, str | Path):
        total = probe_video(source).num_frames  # fails early on a missing or broken file
        frames = iter_video_frames(source, max_frames)
    else:
        total = len(source) if hasattr(source, "__len__") else None
        frames = iter(source)
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    owned = estimator is None
    estimator = create_estimator(backend, **backend_options) if owned else estimator
    estimator.reset()
    bar = tqdm(total=total, unit="frame", desc=f"Extracting poses ({estimator.name})", disable=not progress)
    try:
        for index, frame in enumerate(frames):
            if max_frames is not None and index >= max_frames:
                break
            keypoints, scores = estimator(frame)
            bar.update()
            yield FramePose(index, keypoints, scores)
    finally:
        bar.close()
        if owned:
            estimator.close()


def extract_poses(
    video: str | Path,
    backend: str = "mediapipe",
    estimator: PoseEstimator | None = None,
    progress: bool = True,
    max_frames: int | None = None,
    sample_id: str | None = None,
    **backend_options,
) -> PoseSample:
    """Extract the COCO-WholeBody-133 poses of every frame of a video.

    A video where no person is found is not an error: every frame then has zero keypoints and scores (a warning is
    logged), which the processor turns into all-zero pose features.

    Args:
        video (`str` or `Path`): The video file.
        backend (`str`, *optional*, defaults to `"mediapipe"`): `"mediapipe"` or `"rtmlib"` (see `create_estimator`).
        estimator (`PoseEstimator`, *optional*): A ready estimator instead of `backend`.
        progress (`bool`, *optional*, defaults to `True`): Show a progress bar of frames done.
        max_frames (`int`, *optional*): Only the first `max_frames` frames.
        sample_id (`str`, *optional*): Id of the sample; defaults to the file name without its suffix.
        **backend_options: Passed to `create_estimator`.

    Returns:
        `PoseSample` with `keypoints` `(num_frames, 133, 2)`, `scores` `(num_frames, 133)`, the frame size and rate
        of the video, `video_path`, and in `extra` the estimator's description and the number of frames with a
        person.

    Raises:
        FileNotFoundError: The video does not exist.
        ValueError: The file is empty, corrupt, has no video stream (an audio-only file) or no decodable frame.
    """
    info = probe_video(video)
    keypoints, scores = [], []
    owned = estimator is None
    estimator = create_estimator(backend, **backend_options) if owned else estimator
    description = estimator.description
    try:
        for frame_pose in iter_poses(video, estimator=estimator, progress=progress, max_frames=max_frames):
            keypoints.append(frame_pose.keypoints)
            scores.append(frame_pose.scores)
    finally:
        if owned:
            estimator.close()
    scores = np.stack(scores)  # (T, 133)
    expected = min(info.num_frames, max_frames or info.num_frames) if info.num_frames else None
    if expected is not None and len(scores) < expected:
        logger.warning(
            f"`{video}` declares {info.num_frames} frames but only {len(scores)} decoded: it may be truncated."
        )
    frames_with_person = int((scores > 0).any(-1).sum())
    if frames_with_person == 0:
        logger.warning(f"No person was found in any of the {len(scores)} frames of `{video}`: its poses are all zero.")
    return PoseSample(
        id=sample_id or Path(video).stem,
        keypoints=np.stack(keypoints),
        scores=scores,
        width=info.width,
        height=info.height,
        fps=info.fps,
        video_path=str(video),
        extra={"pose_estimator": description, "frames_with_person": frames_with_person},
    )


def load_poses(path: str | Path, backend: str = "mediapipe", progress: bool = True, **backend_options) -> PoseSample:
    """Poses from a `.pose` file, a reference pose pickle (`.pkl`), or a video (extracted with `backend`).

    Args:
        path (`str` or `Path`): The file; its suffix decides how it is read (any suffix but `.pose`/`.pkl` is a video).
        backend (`str`, *optional*, defaults to `"mediapipe"`): Extraction back-end for videos.
        progress (`bool`, *optional*, defaults to `True`): Progress bar while extracting.
        **backend_options: Passed to `create_estimator` for videos.

    Returns:
        `PoseSample`.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"`{path}` does not exist (or is not a file).")
    if path.suffix.lower() == ".pose":
        return read_pose_file(path)
    if path.suffix.lower() == ".pkl":
        return read_pose_pickle(path)
    return extract_poses(path, backend, progress=progress, **backend_options)


__all__ = [
    "BACKENDS",
    "POSE_FILE_SUFFIXES",
    "FramePose",
    "PoseEstimator",
    "create_estimator",
    "extract_poses",
    "iter_poses",
    "load_poses",
]
