"""Readers of the reference's files: the restricted unpickler, label files, pose pickles, CSL-News and MSASL lists.

The real label files are ../shared/data/official-labels/ (counts from that folder's README.md).
"""

import gzip
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from unisign import PoseSample
from unisign.data import (
    LabelRecord,
    UnsafePickleError,
    load_pose_samples,
    load_restricted_pickle,
    read_csl_news_labels,
    read_label_file,
    read_msasl_labels,
    read_pose_pickle,
    task_target,
)


OFFICIAL_LABELS = [
    ("CSL_Daily.labels.dev", "CSL_Daily", "dev", 1077),
    ("CSL_Daily.labels.test", "CSL_Daily", "test", 1176),
    ("WLASL.labels-2000.dev", "WLASL", "dev", 3916),
    ("How2Sign.labels.test", "How2Sign", "test", 2349),
]


# -- the restricted unpickler -----------------------------------------------------------------------------------------


class CreatesAFile:
    """Unpickling this runs `Path(target).touch()`: a real code-executing pickle."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return Path.touch, (self.target,)


class RunsEval:
    def __reduce__(self):
        return eval, ("__import__('os').getpid()",)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_pickle_is_refused_and_does_not_run(tmp_path, protocol):
    marker = tmp_path / "created_by_the_pickle"
    payload = pickle.dumps({"keypoints": CreatesAFile(marker)}, protocol=protocol)
    # the payload really runs code when unpickled normally
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(CreatesAFile(probe), protocol=protocol))
    assert probe.exists()

    for source in (payload, gzip.compress(payload)):
        with pytest.raises(UnsafePickleError, match="only plain containers"):
            load_restricted_pickle(source)
    pose_file = tmp_path / "clip.pkl"
    pose_file.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match="it references `(builtins|__builtin__|pathlib)"):
        read_pose_pickle(pose_file)
    label_file = tmp_path / "labels.dev"
    label_file.write_bytes(gzip.compress(pickle.dumps({"a": RunsEval()}, protocol=protocol)))
    with pytest.raises(UnsafePickleError, match=r"(builtins|__builtin__)\.eval"):
        read_label_file(label_file, "CSL_Daily", "dev")
    assert not marker.exists()


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_and_numpy_arrays_load(protocol):
    data = {
        "keypoints": [np.arange(6, dtype=np.float32).reshape(1, 3, 2)],
        "scores": np.ones((2, 1, 3), dtype=np.float64),
        "fps": np.float32(25.0),
        "count": np.int64(3),
        "names": ("a", "b"),
        "tags": {"x", "y"},
        "frozen": frozenset([1]),
        "raw": b"\x00\x01",
        "complex": 1 + 2j,
        "nested": [{"gloss": ["他", "今天"]}],
        "strings": np.array(["ab", "c"]),
    }
    loaded = load_restricted_pickle(pickle.dumps(data, protocol=protocol))
    assert loaded.keys() == data.keys()
    np.testing.assert_array_equal(loaded["keypoints"][0], data["keypoints"][0])
    assert loaded["keypoints"][0].dtype == np.float32 and loaded["scores"].dtype == np.float64
    assert loaded["fps"] == np.float32(25.0) and loaded["tags"] == {"x", "y"} and loaded["nested"] == data["nested"]
    np.testing.assert_array_equal(loaded["strings"], data["strings"])


@pytest.mark.parametrize("protocol", [0, 2])
def test_numpy_1_pickles_load(protocol):
    # numpy 1 named its module numpy.core (the reference's files were written with it); protocols <= 2 spell the
    # module in text, so a numpy 2 pickle becomes a numpy 1 one by renaming it
    array = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    payload = pickle.dumps({"keypoints": array, "fps": np.float64(30)}, protocol=protocol)
    assert b"numpy._core" in payload
    loaded = load_restricted_pickle(payload.replace(b"numpy._core", b"numpy.core"))
    np.testing.assert_array_equal(loaded["keypoints"], array)
    assert loaded["fps"] == 30


def test_truncated_or_foreign_files_give_clear_errors(tmp_path):
    data = pickle.dumps({"keypoints": np.zeros((4, 1, 133, 2))})
    with pytest.raises(ValueError, match="truncated or not a"):
        load_restricted_pickle(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or not a"):
        load_restricted_pickle(gzip.compress(data)[:40])
    with pytest.raises(ValueError, match="truncated or not a"):
        load_restricted_pickle(b"not a pickle at all")


# -- label files ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("file_name", "dataset", "split", "count"), OFFICIAL_LABELS)
def test_official_label_files(data_dir, file_name, dataset, split, count):
    records = read_label_file(data_dir / "official-labels" / file_name, dataset, split)
    assert len(records) == count
    assert len({record.id for record in records}) == count
    for record in records:
        assert isinstance(record, LabelRecord) and record.text and record.video_path.endswith(".mp4")
        assert record.extra == {
            "dataset": dataset,
            "split": split,
            "language": "zh" if dataset == "CSL_Daily" else "en",
        }
    first = records[0]
    if dataset == "CSL_Daily":
        assert all(record.gloss for record in records)  # CSL-Daily has gloss sequences
        assert first.pose_path == f"{first.video_path[:-4]}.pkl"  # flat pose folder
    else:
        assert all(record.gloss is None for record in records)  # stored as "" by the reference
        assert first.pose_path == f"{split}/{first.video_path[:-4]}.pkl"  # one pose folder per split


def test_official_label_contents(data_dir):
    csl = read_label_file(data_dir / "official-labels" / "CSL_Daily.labels.dev", "CSL_Daily", "dev")
    by_id = {record.id: record for record in csl}
    record = by_id["S000020_P0000_T00"]
    assert record.text == "他今年四岁。" and record.gloss == ["他", "今天", "年龄", "4"]
    assert task_target(record, "SLT") == "他今年四岁。" and task_target(record, "CSLR") == "他 今天 年龄 4"
    wlasl = read_label_file(data_dir / "official-labels" / "WLASL.labels-2000.dev", "WLASL", "dev")
    assert wlasl[0].text == "a" and task_target(wlasl[0], "ISLR") == "a"
    with pytest.raises(ValueError, match="no gloss sequence"):
        task_target(wlasl[0], "CSLR")


def test_label_file_errors(tmp_path):
    bad = tmp_path / "labels.dev"
    bad.write_bytes(gzip.compress(pickle.dumps({"a": {"name": "a", "text": "x"}})))
    with pytest.raises(ValueError, match="lacks \\['video_path'\\]"):
        read_label_file(bad, "CSL_Daily", "dev")
    bad.write_bytes(gzip.compress(pickle.dumps(["not", "a", "dict"])))
    with pytest.raises(ValueError, match="dict of label entries"):
        read_label_file(bad, "CSL_Daily", "dev")
    with pytest.raises(ValueError, match="Unknown dataset 'Phoenix'"):
        read_label_file(bad, "Phoenix", "dev")
    with pytest.raises(ValueError, match="Unknown split 'val'"):
        read_label_file(bad, "WLASL", "val")
    with pytest.raises(ValueError, match="Unknown task"):
        task_target(LabelRecord(id="a", pose_path="a.pkl", text="x"), "SLR")


def test_openasl_layout(tmp_path):
    labels = {"clip-1": {"name": "clip-1", "gloss": "", "text": "Hello there.", "video_path": "clip-1.mp4"}}
    path = tmp_path / "labels.test"
    path.write_bytes(gzip.compress(pickle.dumps(labels)))
    (record,) = read_label_file(path, "OpenASL", "test")
    assert record.pose_path == "test/clip-1.pkl" and record.gloss is None and record.extra["language"] == "en"


# -- pose pickles -----------------------------------------------------------------------------------------------------


def reference_pose(num_frames=6, people=2, seed=0, as_list=True):
    rng = np.random.default_rng(seed)
    keypoints = rng.random((num_frames, people, 133, 2)).astype(np.float32)
    scores = rng.random((num_frames, people, 133)).astype(np.float32)
    if as_list:  # the reference stores one (P, 133, 2) array per frame
        return {"keypoints": list(keypoints), "scores": list(scores)}, keypoints, scores
    return {"keypoints": keypoints, "scores": scores}, keypoints, scores


@pytest.mark.parametrize("as_list", [True, False])
def test_pose_pickle_keeps_the_first_person(tmp_path, as_list):
    pose, keypoints, scores = reference_pose(as_list=as_list)
    path = tmp_path / "S000020_P0000_T00.pkl"
    path.write_bytes(pickle.dumps(pose))
    sample = read_pose_pickle(path)
    assert sample.id == "S000020_P0000_T00" and sample.width == 0 and sample.extra == {}
    np.testing.assert_array_equal(sample.keypoints, keypoints[:, 0])
    np.testing.assert_array_equal(sample.scores, scores[:, 0])


def test_pose_pickle_frame_range_and_frame_size(tmp_path):
    pose, keypoints, _ = reference_pose(num_frames=10)
    pose.update(start=2, end=7, w_h=(1280, 720))
    path = tmp_path / "news.pkl"
    path.write_bytes(pickle.dumps(pose))
    sample = read_pose_pickle(path, sample_id="news")
    assert sample.num_frames == 5 and (sample.width, sample.height) == (1280, 720)
    assert sample.extra == {"video_frame_offset": 2}
    np.testing.assert_array_equal(sample.keypoints, keypoints[2:7, 0])


def test_pose_pickle_with_a_varying_number_of_people(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.random((people, 133, 2)) for people in (1, 3, 2)]
    scores = [rng.random((people, 133)) for people in (1, 3, 2)]
    path = tmp_path / "crowd.pkl"
    path.write_bytes(pickle.dumps({"keypoints": frames, "scores": scores}))
    sample = read_pose_pickle(path)
    np.testing.assert_allclose(sample.keypoints, np.stack([frame[0] for frame in frames]), rtol=1e-6)


@pytest.mark.parametrize(
    ("pose", "message"),
    [
        ({"keypoints": np.zeros((3, 1, 17, 2)), "scores": np.zeros((3, 1, 17))}, r"133, 2\)"),
        ({"scores": np.zeros((3, 1, 133))}, "with `keypoints` and `scores`"),
        ({"keypoints": np.zeros((3, 1, 133, 2)), "scores": np.zeros((3, 1, 133)), "start": 2, "end": 9}, r"\[2, 9\)"),
        ({"keypoints": [np.zeros((1, 133, 2)), np.zeros((1, 17, 2))], "scores": np.zeros((2, 1, 133))}, "shape"),
        ([1, 2, 3], "with `keypoints` and `scores`"),
    ],
)
def test_bad_pose_pickles(tmp_path, pose, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(pose))
    with pytest.raises(ValueError, match=message):
        read_pose_pickle(path)


def test_labels_join_their_pose_files(tmp_path):
    labels = {
        name: {"name": name, "gloss": "", "text": word, "video_path": f"{name}.mp4"}
        for name, word in (("00295", "a"), ("01613", "b"))
    }
    label_file = tmp_path / "labels-2000.test"
    label_file.write_bytes(gzip.compress(pickle.dumps(labels)))
    pose_dir = tmp_path / "pose_format"
    (pose_dir / "test").mkdir(parents=True)
    expected = {}
    for seed, name in enumerate(labels):
        pose, keypoints, _ = reference_pose(seed=seed)
        (pose_dir / "test" / f"{name}.pkl").write_bytes(pickle.dumps(pose))
        expected[name] = keypoints[:, 0]
    samples = list(load_pose_samples(read_label_file(label_file, "WLASL", "test"), pose_dir, progress=False))
    assert [sample.id for sample in samples] == ["00295", "01613"]
    assert [sample.text for sample in samples] == ["a", "b"]
    assert all(isinstance(sample, PoseSample) and sample.video_path.endswith(".mp4") for sample in samples)
    assert samples[0].extra == {"dataset": "WLASL", "split": "test", "language": "en"}
    for sample in samples:
        np.testing.assert_array_equal(sample.keypoints, expected[sample.id])
    (pose_dir / "test" / "01613.pkl").unlink()
    with pytest.raises(ValueError, match="pose file of '01613' is missing"):
        list(load_pose_samples(read_label_file(label_file, "WLASL", "test"), pose_dir, progress=False))


# -- CSL-News and MSASL -----------------------------------------------------------------------------------------------


def test_csl_news_split_is_the_reference_99_to_1(tmp_path):
    entries = [{"video": f"news_{i}.mp4", "pose": f"news_{i}.pkl", "text": f"第{i}句"} for i in range(250)]
    path = tmp_path / "CSL_News_Labels.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    train, dev, everything = (read_csl_news_labels(path, split) for split in ("train", "dev", None))
    assert (len(train), len(dev), len(everything)) == (247, 3, 250)  # int(250 * 0.99) = 247
    assert train[-1].id == "news_246" and dev[0].id == "news_247" and dev[0].pose_path == "news_247.pkl"
    assert dev[0].text == "第247句" and dev[0].extra["language"] == "zh"
    with pytest.raises(ValueError, match="Unknown split 'test'"):
        read_csl_news_labels(path, "test")
    path.write_text(json.dumps([{"video": "a.mp4", "text": "x"}]), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks \\['pose'\\]"):
        read_csl_news_labels(path)


def test_msasl_layout(tmp_path):
    entries = [
        {
            "org_text": "match [light a match]",
            "clean_text": "match",
            "start_time": 0.0,
            "signer_id": 4,
            "start": 0,
            "end": 62,
            "file": "match",
            "label": 830,
            "height": 360.0,
            "fps": 29.97,
            "end_time": 2.069,
            "url": "https://www.youtube.com/watch?v=abc123XYZ",
            "text": "match",
            "box": [0.0, 0.1, 1.0, 0.9],
            "width": 640.0,
        },
        {"url": "youtu.be/qwerty", "start": 10, "end": 40, "clean_text": "hello", "label": 1},
    ]
    path = tmp_path / "MSASL_val.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    first, second = read_msasl_labels(path, "dev")
    assert first.id == "abc123XYZ_0_62" and first.pose_path == "dev/abc123XYZ_0_62.pkl"
    assert first.text == "match" and first.video_path == "abc123XYZ_0_62.mp4"
    assert first.extra["label"] == 830 and first.extra["signer_id"] == 4 and first.extra["fps"] == 29.97
    assert second.id == "qwerty_10_40" and second.text == "hello"
    path.write_text(json.dumps([{"url": "x", "start": 0}]), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        read_msasl_labels(path, "dev")
