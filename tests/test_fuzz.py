"""Fuzzing, deterministic and fast: generated inputs for the processor and the readers, and a corpus of damaged files.

The property tests use hypothesis with `derandomize=True` (the same cases on every run: 1,200 in all). The corpus
test damages real files from the shared test data (truncations, flipped bytes, wrong and upper-case extensions,
empty files, folders) and runs every command on them in-process: each run must end in a correct result or in one
clear `error:` line, never in a traceback, and never in exit 0 without output.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unisign.models.unisign.keypoints import NUM_WHOLEBODY_KEYPOINTS

from .reliability_helpers import assert_one_line_error, command_runner, make_model_folder, run_command
from .training_helpers import make_tokenizer


def fuzz_settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


# -- property tests over the processor and the readers ------------------------------------------------------------

DAMAGE = st.sampled_from(["none", "none", "nan", "inf", "huge", "pixels", "negative", "scores"])


@st.composite
def clips(draw):
    """`(keypoints (T, 133, 2), scores (T, 133))`: mostly plausible, sometimes NaN, infinite, huge or misshapen.

    Hypothesis draws the shape, the kind and place of damage and a seed; numpy fills the arrays (drawing each of
    the thousands of numbers through hypothesis would take ~40 ms a clip).
    """
    frames = draw(st.integers(0, 12))
    points = draw(st.sampled_from([NUM_WHOLEBODY_KEYPOINTS] * 6 + [0, 17, 134]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    keypoints = rng.uniform(-0.2, 1.2, (frames, points, 2)).astype(np.float32)
    scores = rng.uniform(0, 1, (frames, points)).astype(np.float32)
    damage, share = draw(DAMAGE), draw(st.sampled_from([0.01, 0.3, 1.0]))
    where = rng.uniform(size=(frames, points)) < share
    if damage in ("nan", "inf", "huge", "negative"):
        keypoints[where] = {"nan": np.nan, "inf": np.inf, "huge": 3e38, "negative": -5.0}[damage]
    elif damage == "pixels":
        keypoints *= np.float32(720)
    elif damage == "scores":
        scores[where] = draw(st.sampled_from([np.nan, -1.0, 7.0, 0.0]))
    return keypoints, scores


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    from transformers import AutoTokenizer

    from unisign import UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    return UniSignProcessor(UniSignPoseFeatureExtractor(max_frames=8), tokenizer, language="en")


def check_features(features) -> None:
    values = torch.as_tensor(features["pose_values"])
    assert values.ndim == 4 and values.shape[1] <= 8 and torch.isfinite(values).all()
    mask = torch.as_tensor(features["pose_attention_mask"])
    assert mask.shape == values.shape[:2] and mask.sum(1).min() >= 1


@fuzz_settings(500)
@given(clip=clips(), frame_size=st.none() | st.tuples(st.floats(width=32), st.floats(width=32)))
def test_the_feature_extractor_returns_finite_features_or_a_clear_error(processor, clip, frame_size):
    try:
        features = processor.feature_extractor([clip], frame_size=frame_size, return_tensors="pt")
    except ValueError as error:
        assert str(error) and "\n" not in str(error).strip()
        return
    check_features(features)
    keypoints, scores = clip
    assert keypoints.shape[1:] == (NUM_WHOLEBODY_KEYPOINTS, 2) and len(keypoints) > 0
    assert np.isfinite(keypoints).all() and np.isfinite(scores).all()
    if frame_size is None:  # pixel coordinates are refused without the frame size
        assert np.abs(keypoints[scores > 0]).max(initial=0) <= 10


@fuzz_settings(250)
@given(
    batch=st.lists(clips(), min_size=1, max_size=3),
    texts=st.none() | st.lists(st.text(max_size=30), min_size=1, max_size=3),
    language=st.none() | st.sampled_from(["en", "zh", "xx", ""]),
)
def test_the_processor_returns_a_consistent_batch_or_a_clear_error(processor, batch, texts, language):
    try:
        features = processor(poses=batch, text=texts, language=language, return_tensors="pt")
    except ValueError as error:
        assert str(error)
        return
    check_features(features)
    assert len(features["input_ids"]) == len(batch) == len(features["pose_values"])
    if texts is not None:
        assert features["labels"].shape[0] == len(batch)


@st.composite
def damaged(draw, data: bytes):
    """`data` truncated somewhere, with a few bytes overwritten, or both."""
    length = draw(st.integers(0, len(data)) | st.just(len(data)))
    damaged = bytearray(data[:length])
    for _ in range(draw(st.integers(0 if length < len(data) else 1, 4))):
        if damaged:
            damaged[draw(st.integers(0, len(damaged) - 1))] = draw(st.integers(0, 255))
    return bytes(damaged)


@pytest.fixture(scope="module")
def pose_bytes(data_dir) -> bytes:
    return (data_dir / "pose-format" / "6fb01565da31c5500d1ef2cd2906b06b.pose").read_bytes()


@pytest.fixture(scope="module")
def pickle_bytes(data_dir, tmp_path_factory) -> bytes:
    from unisign import read_pose_file
    from unisign.extraction import save_poses

    sample = read_pose_file(data_dir / "pose-format" / "mediapipe.pose")
    sample.keypoints, sample.scores = sample.keypoints[:6], sample.scores[:6]
    path = tmp_path_factory.mktemp("pickle") / "clip.pkl"
    save_poses(sample, path)
    return path.read_bytes()


def read_or_refuse(reader, path: Path, processor) -> None:
    """The reader gives a sample the processor turns into finite features or refuses clearly; or it refuses."""
    try:
        sample = reader(path)
    except (ValueError, OSError) as error:  # what the commands report as the file's error (`input_errors`)
        assert str(error)
        return
    try:
        features = processor.feature_extractor([sample], return_tensors="pt")
    except ValueError:
        return
    check_features(features)


@pytest.mark.parametrize("suffix", [".pose", ".pkl"])
@fuzz_settings(225)
@given(data=st.data())
def test_the_readers_read_or_refuse_damaged_files(suffix, data, pose_bytes, pickle_bytes, processor, tmp_path_factory):
    from unisign.extraction import load_poses

    path = tmp_path_factory.getbasetemp() / f"fuzz{suffix}"
    path.write_bytes(data.draw(damaged(pose_bytes if suffix == ".pose" else pickle_bytes)))
    read_or_refuse(load_poses, path, processor)


@fuzz_settings(100)
@given(predictions=st.text(max_size=200), references=st.text(max_size=200))
def test_prediction_files_pair_or_refuse(predictions, references, tmp_path_factory):
    from unisign.evaluation.cli import read_prediction_and_reference_files

    folder = tmp_path_factory.getbasetemp()
    (folder / "pres.txt").write_text(predictions, encoding="utf-8")
    (folder / "refs.txt").write_text(references, encoding="utf-8")
    try:
        paired = read_prediction_and_reference_files(folder / "pres.txt", folder / "refs.txt")
    except ValueError as error:
        assert str(error)
        return
    assert len(paired.predictions) == len(paired.references)


# -- a corpus of damaged files, through every command --------------------------------------------------------------


def variants(source: Path, folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Damaged copies of `source`: truncated (empty, 1 byte, half, one byte short), bytes flipped (near the start,
    in the middle), the same bytes under an upper-case and under a wrong suffix, and a folder under its name."""
    data = source.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    copies = {
        "empty": data[:0],
        "one-byte": data[:1],
        "half": data[: len(data) // 2],
        "short": data[:-1],
    }
    for name, position in (("flip-start", min(20, len(data) - 1)), ("flip-middle", len(data) // 2)):
        flipped = bytearray(data)
        flipped[position] ^= 0xFF
        copies[name] = bytes(flipped)
    paths = []
    for name, content in copies.items():
        path = folder / f"{name}{source.suffix}"
        path.write_bytes(content)
        paths.append(path)
    for name, suffix in (
        ("upper", source.suffix.upper()),
        ("renamed", next(s for s in suffixes if s != source.suffix)),
    ):
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    (folder / f"a-folder{source.suffix}").mkdir()
    paths.append(folder / f"a-folder{source.suffix}")
    return paths


def clear_error_or_result(outcome, out: Path | None = None) -> None:
    """Exit 0 with output (printed, or the `out` file), or a one-line error without a traceback."""
    if outcome.status == 0:
        assert outcome.out.strip() or (out is not None and out.exists()), "exit 0 with no output"
        assert "Traceback" not in outcome.err
        return
    assert_one_line_error(outcome)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return make_model_folder(tmp_path_factory.mktemp("corpus-model"))


def test_damaged_pose_files_through_translate_visualize_and_extract(data_dir, model_dir, tmp_path, capsys):
    from unisign import read_pose_file
    from unisign.extraction import save_poses

    unisign = command_runner(capsys)
    sample = read_pose_file(data_dir / "pose-format" / "mediapipe.pose")
    sample.keypoints, sample.scores = sample.keypoints[:8], sample.scores[:8]
    save_poses(sample, tmp_path / "clip.pkl")
    sources = [data_dir / "pose-format" / "6fb01565da31c5500d1ef2cd2906b06b.pose", tmp_path / "clip.pkl"]
    runs = 0
    for source in sources:
        for path in variants(source, tmp_path / source.suffix[1:], (".pose", ".pkl", ".mp4")):
            translate = ["translate", path, "--model", model_dir, "--device", "cpu", "--num-beams", "1"]
            clear_error_or_result(unisign(*translate, "--max-new-tokens", "3", "--no-progress"))
            sheet = tmp_path / "sheet.png"
            sheet.unlink(missing_ok=True)
            visualize = ["visualize", path, "--out", sheet, "--frames", "2", "--canvas-size", "64x64"]
            clear_error_or_result(unisign(*visualize, "--no-progress"), sheet)
            # a pose file given where a video is expected
            clear_error_or_result(unisign("extract", path, "--out", tmp_path / "x.pose", "--no-progress"))
            runs += 3
    assert runs == 54


def test_damaged_videos_through_extract(data_dir, tmp_path, capsys):
    pytest.importorskip("mediapipe")
    unisign = command_runner(capsys)
    for path in variants(data_dir / "pose-format" / "test_video.mp4", tmp_path / "videos", (".mp4", ".pose")):
        if path.stem in ("one-byte", "short"):  # like `empty` and `half` for the reader: each run starts MediaPipe
            continue
        out = tmp_path / "out.pkl"
        out.unlink(missing_ok=True)
        outcome = unisign("extract", path, "--out", out, "--max-frames", "2", "--no-progress")
        clear_error_or_result(outcome, out)


def damage_file(folder: Path, name: str, how: str) -> None:
    path = folder / name
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flip-start":
        path.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])
    elif how == "flip-middle":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif how == "folder":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "tokenizer.json", "processor_config.json"])
def test_damaged_model_folders_through_translate_push_and_evaluate(name, model_dir, data_dir, tmp_path, capsys):
    unisign = command_runner(capsys)
    clip = data_dir / "pose-format" / "mediapipe.pose"
    for how in ("empty", "half", "flip-start", "flip-middle", "folder"):
        folder = tmp_path / how
        shutil.copytree(model_dir, folder)
        damage_file(folder, name, how)
        translate = ["translate", clip, "--model", folder, "--device", "cpu", "--num-beams", "1"]
        clear_error_or_result(unisign(*translate, "--max-new-tokens", "3"))
        clear_error_or_result(unisign("push", folder, "someone/model", "--dry-run"))
        evaluate = ["evaluate", "--model", folder, "--data", tmp_path / "no-data", "--split", "dev", "--device", "cpu"]
        assert_one_line_error(unisign(*evaluate, "--output-dir", tmp_path / "eval"))  # no data: never a success


def test_damaged_checkpoints_through_convert(golden_dir, tmp_path, capsys):
    unisign = command_runner(capsys)
    paths = variants(golden_dir / "official_state_dict.safetensors", tmp_path / "st", (".safetensors", ".pth"))
    for path in paths:
        if path.stem in ("upper", "renamed") or path.stem.startswith("flip-middle"):
            continue  # intact bytes (a full conversion: test_conversion.py) or weights that may stay plausible
        outcome = unisign("convert", path, "--text-config", golden_dir / "tiny-mt5", "--out", tmp_path / "out")
        clear_error_or_result(outcome, tmp_path / "out" / "config.json")


def test_damaged_settings_and_prediction_files(tmp_path, capsys, monkeypatch):
    from unisign import training
    from unisign.evaluation import cli as evaluation
    from unisign.training.cli import main as train_main

    accepted = []

    def accept(config, *args):
        accepted.append(config)
        raise SystemExit("the settings were accepted (training itself is not run here)")

    monkeypatch.setattr(training, "train", accept)
    repo = Path(__file__).resolve().parents[1]
    for path in variants(repo / "configs" / "finetune_slt_csl_daily.yaml", tmp_path / "configs", (".yaml", ".json")):
        outcome = run_command(train_main, ["--config", str(path)], capsys)
        if "the settings were accepted" not in outcome.err:
            assert_one_line_error(outcome)
    assert accepted  # the intact bytes under an upper-case suffix
    references = tmp_path / "refs.txt"
    references.write_text("the cat sat\nhello there\n", encoding="utf-8")
    predictions = tmp_path / "pres.txt"
    predictions.write_text("a cat sat\nhello there\n", encoding="utf-8")
    for path in variants(predictions, tmp_path / "predictions", (".txt", ".pose")):
        argv = ["score", "--predictions", str(path), "--references", str(references)]
        outcome = run_command(evaluation.main, argv, capsys)
        clear_error_or_result(outcome)
        if outcome.status == 0:
            assert set(json.loads(outcome.out)) >= {"bleu4"}
