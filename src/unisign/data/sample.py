"""The Hugging Face `datasets` schema of `PoseSample` (defined in `unisign.models.unisign.pose_sample`), both ways."""

import math

import numpy as np

from ..models.unisign.pose_sample import PoseSample


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
