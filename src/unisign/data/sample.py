"""The one sample structure every reader returns, and its Hugging Face `datasets` schema."""

import math
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


def dataset_features():
    """The `datasets.Features` of a pose dataset: one row per `PoseSample`, poses as variable-length arrays."""
    import datasets

    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "keypoints": datasets.Array3D(shape=(None, 133, 2), dtype="float32"),
            "scores": datasets.Array2D(shape=(None, 133), dtype="float32"),
            "width": datasets.Value("int32"),
            "height": datasets.Value("int32"),
            "fps": datasets.Value("float32"),
            "text": datasets.Value("string"),
            "gloss": datasets.Sequence(datasets.Value("string")),
            "video_path": datasets.Value("string"),
            "extra": datasets.Value("string"),  # JSON text: free-form per-dataset fields
        }
    )


def samples_to_dataset(samples):
    """Build a `datasets.Dataset` (features from `dataset_features()`) from an iterable of `PoseSample`s.

    The table is built in memory (nothing is written to the `datasets` cache); save it with `to_parquet` or
    `save_pose_dataset`.
    """
    import json

    import datasets

    rows = [
        {
            "id": sample.id,
            "keypoints": sample.keypoints,
            "scores": sample.scores,
            "width": sample.width,
            "height": sample.height,
            "fps": sample.fps,
            "text": sample.text,
            "gloss": sample.gloss,
            "video_path": sample.video_path,
            "extra": json.dumps(sample.extra, ensure_ascii=False),
        }
        for sample in samples
    ]
    return datasets.Dataset.from_list(rows, features=dataset_features())


def sample_from_row(row: dict) -> PoseSample:
    """Turn one row of a pose dataset (numpy or torch formatted, or plain lists) back into a `PoseSample`."""
    import json

    return PoseSample(
        id=row["id"],
        keypoints=np.asarray(row["keypoints"], dtype=np.float32).reshape(-1, 133, 2),
        scores=np.asarray(row["scores"], dtype=np.float32).reshape(-1, 133),
        width=int(row["width"] or 0),
        height=int(row["height"] or 0),
        fps=None if row["fps"] is None or math.isnan(row["fps"]) else float(row["fps"]),  # numpy rows give NaN
        text=row["text"],
        gloss=None if row["gloss"] is None else list(row["gloss"]),
        video_path=row["video_path"],
        extra=json.loads(row["extra"]) if row["extra"] else {},
    )
