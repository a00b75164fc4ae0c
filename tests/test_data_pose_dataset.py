"""Pose datasets as Parquet: splits kept, features kept, samples back unchanged; bad folders refused."""

import numpy as np
import pytest

from unisign import PoseSample, UniSignPoseFeatureExtractor
from unisign.data import (
    dataset_features,
    load_pose_dataset,
    sample_from_row,
    samples_to_dataset_dict,
    save_pose_dataset,
)


def make_samples(prefix, lengths, seed):
    rng = np.random.default_rng(seed)
    return [
        PoseSample(
            id=f"{prefix}{index}",
            keypoints=rng.random((length, 133, 2)),
            scores=rng.random((length, 133)),
            width=640,
            height=480,
            fps=25.0 if index % 2 else None,
            text=f"sentence {index}",
            gloss=["A", "B"] if index % 2 else None,
            video_path=f"{prefix}{index}.mp4",
            extra={"split": prefix, "label": index},
        )
        for index, length in enumerate(lengths)
    ]


def assert_same_sample(actual: PoseSample, expected: PoseSample):
    assert (actual.id, actual.width, actual.height, actual.fps) == (
        expected.id,
        expected.width,
        expected.height,
        expected.fps,
    )
    assert (actual.text, actual.gloss, actual.video_path, actual.extra) == (
        expected.text,
        expected.gloss,
        expected.video_path,
        expected.extra,
    )
    np.testing.assert_array_equal(actual.keypoints, expected.keypoints)
    np.testing.assert_array_equal(actual.scores, expected.scores)


def test_splits_round_trip_through_parquet(tmp_path):
    splits = {
        "train": make_samples("train", [5, 9, 3], 0),
        "dev": make_samples("dev", [4], 1),
        "test": make_samples("test", [7, 2], 2),
    }
    folder = tmp_path / "my_pose_dataset"
    paths = save_pose_dataset(samples_to_dataset_dict(splits), folder)
    assert sorted(path.name for path in paths) == [
        f"{split}-00000-of-00001.parquet" for split in ("dev", "test", "train")
    ]

    loaded = load_pose_dataset(folder, cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded) == ["dev", "test", "train"]
    for split, samples in splits.items():
        assert loaded[split].features == dataset_features()
        rows = loaded[split].with_format("numpy")
        assert len(rows) == len(samples)
        for row, expected in zip(rows, samples, strict=True):
            assert_same_sample(sample_from_row(row), expected)

    test_only = load_pose_dataset(folder, split="test", cache_dir=str(tmp_path / "cache"))
    assert [row["id"] for row in test_only] == ["test0", "test1"]
    # a row goes straight into the feature extractor
    features = UniSignPoseFeatureExtractor().extract(sample_from_row(test_only.with_format("torch")[0]))
    assert features["pose_values"].shape == (7, 69, 3)


def test_bad_dataset_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no `data/\\*.parquet` files"):
        load_pose_dataset(tmp_path)
    with pytest.raises(ValueError, match="at least one split"):
        samples_to_dataset_dict({})
    with pytest.raises(ValueError, match="may not contain '-'"):
        save_pose_dataset(samples_to_dataset_dict({"dev-clean": make_samples("d", [2], 0)}), tmp_path / "out")
