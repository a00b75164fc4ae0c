"""`PoseSample`, the one clip structure every reader returns and the processor and the pipeline read.

A flat module without imports from the package: it is shipped with saved models as remote code.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PoseSample:
    """One clip of COCO-WholeBody-133 keypoints with its annotations.

    Attributes:
        id: Unique name of the clip within its dataset.
        keypoints: `(num_frames, 133, 2)` float32, `(x / width, y / height)` of the signer (first person).
        scores: `(num_frames, 133)` float32 keypoint confidences (RTMPose/SimCC-like; 0 where missing).
        width: Frame width in pixels (0 when unknown).
        height: Frame height in pixels (0 when unknown).
        fps: Frames per second, when known.
        text: Spoken-language sentence (SLT target; the word for isolated signs), when known.
        gloss: Gloss sequence (CSLR target), when known.
        video_path: Path of the source video (relative to a dataset's video folder), when known.
        extra: Anything else a dataset carries (signer id, split, ...), as plain JSON-like values.
    """

    id: str
    keypoints: np.ndarray
    scores: np.ndarray
    width: int = 0
    height: int = 0
    fps: float | None = None
    text: str | None = None
    gloss: list[str] | None = None
    video_path: str | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        keypoints = np.asarray(self.keypoints, dtype=np.float32)
        scores = np.asarray(self.scores, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[1:] != (133, 2):
            raise ValueError(
                f"`keypoints` of sample {self.id!r} must have shape (num_frames, 133, 2), got {keypoints.shape}."
            )
        if scores.shape != keypoints.shape[:2]:
            raise ValueError(
                f"`scores` of sample {self.id!r} must have shape {keypoints.shape[:2]} to match `keypoints`, "
                f"got {scores.shape}."
            )
        self.keypoints, self.scores = keypoints, scores

    @property
    def num_frames(self) -> int:
        """Number of frames of the clip."""
        return self.keypoints.shape[0]


def is_pose_sample(clip) -> bool:
    """Whether `clip` is a `PoseSample`, from this module or from another copy of it.

    Remote code may load this module more than once (transformers caches each class's files under its own hash), and
    a user may pass the installed package's `PoseSample` to a pipeline loaded as remote code: the class is recognised
    by its name and fields.
    """
    return isinstance(clip, PoseSample) or (
        type(clip).__name__ == "PoseSample" and all(hasattr(clip, name) for name in ("keypoints", "scores", "extra"))
    )


__all__ = ["PoseSample", "is_pose_sample"]
