"""Bad input from a careless user: never a lost file, never a silent wrong result, always one clear line.

Each test covers one class of the reliability probe (issue 14); the commands run in-process (`unisign.apps.cli.main`).
"""

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from unisign.apps import cli
from unisign.utils.checksums import write_checksums
from unisign.utils.validation import TOKENIZER_VOCABULARY_FILES

from .conftest import require_deepspeed
from .reliability_helpers import (
    assert_one_line_error,
    command_runner,
    make_model_folder,
    recorded_then_changed,
    run_command,
)


@pytest.fixture
def unisign(capsys):
    """`unisign(*argv)` -> `Outcome` of `unisign.apps.cli.main(argv)`."""
    return command_runner(capsys)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return make_model_folder(tmp_path_factory.mktemp("tiny-unisign"))


@pytest.fixture(scope="module")
def pose_file(data_dir) -> Path:
    return data_dir / "pose-format" / "mediapipe.pose"


@pytest.fixture
def video(data_dir, tmp_path) -> Path:
    copy = tmp_path / "clip.mp4"
    shutil.copy(data_dir / "pose-format" / "test_video.mp4", copy)
    return copy


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def translate_args(model: Path | str, clip: Path, *extra) -> list[str]:
    arguments = ["translate", clip, "--model", model, "--device", "cpu", "--num-beams", "1", "--max-new-tokens", "4"]
    return [str(argument) for argument in [*arguments, *extra]]


# -- 1. lost data, writes that did not happen, output locations --------------------------------------------------


def test_visualize_and_extract_never_overwrite_their_input(unisign, video, pose_file, tmp_path):
    digest = sha256(video)
    (tmp_path / "link.mp4").symlink_to(video)
    os.link(video, tmp_path / "hard.mp4")
    os.link(video, tmp_path / "hard.pose")
    for out in (video, tmp_path / "link.mp4", tmp_path / "hard.mp4"):
        assert_one_line_error(unisign("visualize", video, "--out", out, "--no-progress"), "input")
    assert_one_line_error(unisign("visualize", pose_file, "--video", video, "--out", tmp_path / "hard.mp4"), "input")
    assert_one_line_error(unisign("extract", video, "--out", tmp_path / "hard.pose", "--no-progress"), "input")
    assert sha256(video) == digest


@pytest.mark.parametrize("command", ["extract", "visualize"])
def test_output_locations_are_checked_before_any_extraction(command, unisign, video, tmp_path, monkeypatch):
    from unisign import extraction

    def no_extraction(*args, **kwargs):
        raise AssertionError("the poses were extracted before the output location was checked")

    monkeypatch.setattr(extraction, "extract_poses", no_extraction)
    monkeypatch.setattr(extraction, "load_poses", no_extraction)
    suffix = ".pose" if command == "extract" else ".png"
    (tmp_path / f"folder{suffix}").mkdir()
    (tmp_path / "a-file").write_text("x")
    cases = {
        tmp_path / "missing" / f"out{suffix}": "does not exist",
        tmp_path / f"folder{suffix}": "is a folder",
        tmp_path / "a-file" / f"out{suffix}": "not a folder",
    }
    for out, message in cases.items():
        assert_one_line_error(unisign(command, video, "--out", out, "--no-progress"), message, status=1)


def test_convert_never_reports_a_write_that_did_not_happen(unisign, golden_dir, tmp_path):
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save({"model": {"w": torch.zeros(1)}}, checkpoint)
    text_config = golden_dir / "tiny-mt5"
    existing = tmp_path / "model.safetensors"
    existing.write_text("a file that is not a folder")
    base = ["convert", checkpoint, "--text-config", text_config]
    outcome = unisign(*base, "--out", existing)
    assert_one_line_error(outcome, "is a file")
    assert "Wrote" not in outcome.out and existing.read_text() == "a file that is not a folder"
    assert_one_line_error(unisign(*base, "--out", checkpoint), "input")
    assert_one_line_error(unisign(*base, "--out", text_config), "input")
    assert_one_line_error(
        unisign(*base, "--out", tmp_path / "out", "--tokenizer", tmp_path / "no" / "tok"), "--tokenizer"
    )
    assert_one_line_error(unisign(*base, "--out", tmp_path / "out", "--max-frames", "0"), "--max-frames", status=2)
    assert not (tmp_path / "out").exists()


def test_convert_on_a_full_disk_leaves_no_folder_without_weights(unisign, golden_dir, tmp_path, monkeypatch):
    import errno

    from unisign import UniSignForConditionalGeneration

    def full_disk(self, folder, **kwargs):
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(folder)  # the config fitted, the weights did not
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(folder) / "model.safetensors"))

    monkeypatch.setattr(UniSignForConditionalGeneration, "save_pretrained", full_disk)
    out = tmp_path / "out" / "converted"
    convert = ["convert", golden_dir / "official_state_dict.safetensors", "--text-config", golden_dir / "tiny-mt5"]
    assert_one_line_error(unisign(*convert, "--out", out, "--language", "en"), "No space left on device", status=1)
    assert list((tmp_path / "out").iterdir()) == []  # neither `out` nor a temporary folder is left
    monkeypatch.undo()
    outcome = unisign(*convert, "--out", out, "--language", "en")
    assert outcome.status == 0, outcome.err
    assert {"config.json", "model.safetensors", "README.md"} <= {path.name for path in out.iterdir()}
    assert list((tmp_path / "out").iterdir()) == [out]


# -- 2. garbage in: damaged model folders -------------------------------------------------------------------------


def damaged_copy(model_dir: Path, tmp_path: Path, damage) -> Path:
    folder = tmp_path / "damaged"
    shutil.copytree(model_dir, folder)
    damage(folder)
    return folder


def without_tokenizer(folder: Path) -> None:
    for name in TOKENIZER_VOCABULARY_FILES:
        (folder / name).unlink(missing_ok=True)


def overwrite_tensor_bytes(folder: Path, pattern: bytes) -> None:
    """Overwrite 64 bytes in the middle of the first float tensor's data; the header stays intact."""
    path = folder / "model.safetensors"
    data = bytearray(path.read_bytes())
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    entry = max(
        (v for k, v in header.items() if k != "__metadata__"),
        key=lambda v: v["data_offsets"][1] - v["data_offsets"][0],
    )
    start = 8 + header_length + (entry["data_offsets"][0] + entry["data_offsets"][1]) // 2 // 4 * 4
    data[start : start + 64] = pattern * (64 // len(pattern))
    path.write_bytes(bytes(data))


def truncated(folder: Path) -> None:
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 3 // 5])


DAMAGES = {
    "no tokenizer files": (without_tokenizer, "no tokenizer vocabulary"),
    "NaN tensor bytes": (lambda folder: overwrite_tensor_bytes(folder, b"\xff\xff\xff\xff"), "non-finite"),
    "huge tensor bytes": (lambda folder: overwrite_tensor_bytes(folder, b"\x7f\x7f\x7f\x7f"), "values up to"),
    "truncated weights": (truncated, "truncated"),
    "changed after its checksum": (recorded_then_changed, "SHA-256"),
    "config not JSON": (lambda folder: (folder / "config.json").write_text("{not json"), "config.json"),
}


# a plausible weight changed after its checksum: only the SHA-256 that `--verify` (and `push`) compute tells
FOUND_ONLY_BY_VERIFY = {"changed after its checksum"}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_model_folders_are_refused_by_every_command(damage, unisign, model_dir, pose_file, tmp_path):
    damage_function, message = DAMAGES[damage]
    folder = damaged_copy(model_dir, tmp_path, damage_function)
    for flags in [["--verify"]] if damage in FOUND_ONLY_BY_VERIFY else [[], ["--verify"]]:
        outcome = unisign(*translate_args(folder, pose_file, *flags))
        line = assert_one_line_error(outcome, "Could not load", message, status=1)
        assert len(line) < 700
    assert_one_line_error(unisign("push", folder, "someone/model", "--dry-run"), message, status=1)


def test_start_up_neither_hashes_nor_scans_weights_unless_asked(unisign, model_dir, pose_file, tmp_path, monkeypatch):
    """Issue 27: by default `translate` reads the weights once (`from_pretrained`), with `--verify` it first hashes
    every recorded file and reads every tensor of the weights file. Counted: the files hashed, the tensors read."""
    import safetensors
    import transformers.modeling_utils  # noqa: F401  (imported first: it keeps its own, uncounted `safe_open`)

    from unisign.apps import inference
    from unisign.utils import checksums, validation

    folder = damaged_copy(model_dir, tmp_path, write_checksums)  # every file recorded: none damaged
    hashed, tensors_read = [], []
    sha256_of, safe_open = checksums.sha256_of, safetensors.safe_open

    class CountedSafeOpen:
        """`safe_open` counting the tensors read through it."""

        def __init__(self, *args, **kwargs):
            self.file = safe_open(*args, **kwargs)

        def __enter__(self):
            self.file.__enter__()
            return self

        def __exit__(self, *exception):
            return self.file.__exit__(*exception)

        def keys(self):
            return self.file.keys()

        def get_tensor(self, name):
            tensors_read.append(name)
            return self.file.get_tensor(name)

    monkeypatch.setattr(checksums, "sha256_of", lambda path: hashed.append(path.name) or sha256_of(path))
    monkeypatch.setattr(safetensors, "safe_open", CountedSafeOpen)
    folder_checks = []  # the folder's files are checked once per start-up, not before and again in the loader
    check_model_folder = validation.check_model_folder

    def counted_check(path, *args, **kwargs):
        folder_checks.append(Path(path))
        return check_model_folder(path, *args, **kwargs)

    for module in (validation, inference):
        monkeypatch.setattr(module, "check_model_folder", counted_check)
    default = unisign(*translate_args(folder, pose_file))
    assert default.status == 0, default.err
    assert hashed == [] and tensors_read == []
    assert folder_checks == [folder]
    verified = unisign(*translate_args(folder, pose_file, "--verify"))
    assert verified.status == 0, verified.err
    assert verified.out == default.out
    recorded = json.loads((folder / "checksums.json").read_text())["files"]
    assert sorted(hashed) == sorted(recorded) and "model.safetensors" in hashed
    with safe_open(folder / "model.safetensors", framework="pt") as weights:
        assert sorted(tensors_read) == sorted(weights.keys())


@pytest.mark.parametrize("command", [["translate"], ["export-onnx"], ["evaluate"], ["demo"]])
def test_every_model_loading_command_takes_verify(command, unisign):
    """`--verify` is the same option on each command that loads a model (`add_verify_argument`)."""
    outcome = unisign(*command, "--help")
    assert outcome.status == 0, outcome.err
    assert "--verify" in outcome.out and "SHA-256" in outcome.out


def test_the_intact_folder_passes_the_same_checks(unisign, model_dir, pose_file, tmp_path):
    folder = damaged_copy(model_dir, tmp_path, lambda folder: write_checksums(folder, "*.safetensors"))
    outcome = unisign(*translate_args(folder, pose_file))
    assert outcome.status == 0, outcome.err
    assert outcome.out.strip() or outcome.out == "\n"  # the tiny random model may print an empty line
    assert unisign("push", folder, "someone/model", "--dry-run").status == 0


# -- 4. numbers out of range, wrong types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, option",
    [
        (["extract", "{video}", "--out", "{tmp}/x.pose", "--max-frames", "0"], "--max-frames"),
        (["visualize", "{poses}", "--out", "{tmp}/x.png", "--threshold", "nan"], "--threshold"),
        (["visualize", "{poses}", "--out", "{tmp}/x.png", "--threshold", "1.5"], "--threshold"),
        (["visualize", "{poses}", "--out", "{tmp}/x.png", "--frames", "0"], "--frames"),
        (["translate", "{poses}", "--model", "{model}", "--num-beams", "0"], "--num-beams"),
        (["translate", "{poses}", "--model", "{model}", "--max-new-tokens", "-3"], "--max-new-tokens"),
        (["translate", "--stream", "{video}", "--model", "{model}", "--step-frames", "0"], "--step-frames"),
        (["translate", "{poses}", "--model", "{model}", "--device", "banana"], "--device"),
        (["evaluate", "--model", "{model}", "--data", "{tmp}", "--split", "dev", "--num-beams", "0"], "--num-beams"),
        (["evaluate", "--model", "{model}", "--data", "{tmp}", "--split", "dev", "--batch-size", "x"], "--batch-size"),
    ],
)
def test_options_out_of_range_are_usage_errors(arguments, option, unisign, video, pose_file, model_dir, tmp_path):
    values = {"video": video, "poses": pose_file, "model": model_dir, "tmp": tmp_path}
    outcome = unisign(*[argument.format(**values) for argument in arguments])
    assert_one_line_error(outcome, option, status=2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a GPU")
def test_a_gpu_device_without_a_gpu_is_a_usage_error(unisign, model_dir, pose_file):
    assert_one_line_error(unisign(*translate_args(model_dir, pose_file, "--device", "cuda")), "no CUDA GPU", status=2)


def test_pixel_coordinates_need_the_frame_size(pose_file):
    from unisign import read_pose_file
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

    sample = read_pose_file(pose_file)
    extractor = UniSignPoseFeatureExtractor()
    pixels = (sample.keypoints * np.array([540.0, 720.0], dtype=np.float32), sample.scores)
    with pytest.raises(ValueError, match="frame_size"):
        extractor([pixels])
    with pytest.raises(ValueError, match="frame_size"):
        extractor([pixels], frame_size=(float("nan"), float("nan")))
    by_size = extractor([pixels], frame_size=(540, 720), return_tensors="pt")["pose_values"]
    normalised = extractor([sample], return_tensors="pt")["pose_values"]
    torch.testing.assert_close(by_size, normalised)


def test_labels_of_another_batch_size_are_refused(model_dir):
    from transformers import AutoModelForSeq2SeqLM

    from .modeling_helpers import random_inputs

    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    inputs = random_inputs(model.config, lengths=(7, 5))
    labels = torch.ones(3, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="`labels` has 3 rows but the inputs have 2 clips"):
        model(**inputs, labels=labels)
    assert model(**inputs, labels=labels[:2]).loss.isfinite()


# -- 5. one line for expected errors; tracebacks on request and for bugs --------------------------------------------


def test_debug_flag_and_environment_show_the_traceback(unisign, model_dir, tmp_path, monkeypatch):
    missing = tmp_path / "missing.pose"
    assert_one_line_error(unisign(*translate_args(model_dir, missing)), "does not exist")
    assert "Traceback" in unisign(*translate_args(model_dir, missing, "--debug")).err
    monkeypatch.setenv("UNISIGN_DEBUG", "1")
    assert "Traceback" in unisign(*translate_args(model_dir, missing)).err


def test_genuine_bugs_keep_their_traceback(model_dir, pose_file, monkeypatch):
    def buggy(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "translate", buggy)
    with pytest.raises(KeyError, match="a bug"):
        cli.main(translate_args(model_dir, pose_file))


def test_a_plain_value_error_or_os_error_deep_inside_a_command_keeps_its_traceback(model_dir, pose_file, monkeypatch):
    """Only the package's own errors are one line: a `ValueError` or errno-less `OSError` from the model is a bug."""
    import errno

    from unisign.models.unisign.modeling_unisign import UniSignForConditionalGeneration

    def buggy(*args, **kwargs):
        raise ValueError("a bug deep in generation")

    monkeypatch.setattr(UniSignForConditionalGeneration, "generate", buggy)
    with pytest.raises(ValueError, match="a bug deep in generation"):
        cli.main(translate_args(model_dir, pose_file))

    def no_errno(*args, **kwargs):
        raise OSError("a bug that is not the machine's")

    monkeypatch.setattr(UniSignForConditionalGeneration, "generate", no_errno)
    with pytest.raises(OSError, match="not the machine's"):
        cli.main(translate_args(model_dir, pose_file))

    def disk_full(*args, **kwargs):  # the machine's report: one line
        raise OSError(errno.ENOSPC, "No space left on device", "out.txt")

    monkeypatch.setattr(UniSignForConditionalGeneration, "generate", disk_full)
    with pytest.raises(SystemExit, match="No space left on device: out.txt"):
        cli.main(translate_args(model_dir, pose_file))


def test_user_errors_stay_one_line_with_their_exit_status(unisign, model_dir, pose_file, tmp_path, capsys):
    assert_one_line_error(unisign(*translate_args(model_dir, tmp_path / "missing.pose")), "does not exist", status=1)
    assert_one_line_error(unisign(*translate_args(model_dir, pose_file, "--threads", "0")), "--threads", status=2)
    utf16 = tmp_path / "pres.txt"
    utf16.write_text("hello\n", encoding="utf-16")
    refs = tmp_path / "refs.txt"
    refs.write_text("hello\n")
    outcome = unisign("evaluate", "score", "--predictions", utf16, "--references", refs)
    assert_one_line_error(outcome, "pres.txt", "UTF-8", status=1)
    from unisign.training.cli import main as train_main

    # docs/errors.md: a setting of the wrong type is a usage error, exit status 2
    outcome = run_command(train_main, ["training.max_steps=ten"], capsys)
    assert_one_line_error(outcome, "training.max_steps", status=2)
    latin1 = tmp_path / "run.yaml"
    latin1.write_bytes("data: {language: fran\xe7ais}\n".encode("latin-1"))
    assert_one_line_error(run_command(train_main, ["--config", str(latin1)], capsys), "run.yaml", status=1)


def write_pose_pickle(path: Path, keypoints: np.ndarray, scores: np.ndarray) -> Path:
    """A reference pose pickle of one person (`(T, 1, 133, 2)` keypoints, `(T, 1, 133)` scores)."""
    import pickle

    path.write_bytes(pickle.dumps({"keypoints": keypoints[:, None], "scores": scores[:, None]}))
    return path


# clips the model unit refuses (its `UniSignInputError`s): what each is, and a word of the one line it gets
BAD_CLIPS = {
    "NaN keypoints": (lambda frames: np.full((frames, 133, 2), np.nan, np.float32), 5, "NaN"),
    "pixels without a frame size": (lambda frames: np.full((frames, 133, 2), 800.0, np.float32), 5, "far outside"),
    "no frames": (lambda frames: np.zeros((frames, 133, 2), np.float32), 0, "has no frames"),
}


@pytest.mark.parametrize("bad", list(BAD_CLIPS))
def test_clips_the_model_unit_refuses_are_one_line(bad, unisign, model_dir, tmp_path):
    """The shipped unit's checks (it cannot import the package's errors) reach `unisign translate` as one line."""
    make_keypoints, frames, message = BAD_CLIPS[bad]
    clip = write_pose_pickle(tmp_path / "clip.pkl", make_keypoints(frames), np.ones((frames, 133), np.float32))
    assert_one_line_error(unisign(*translate_args(model_dir, clip)), message, status=1)


def test_a_plain_value_error_of_the_model_unit_keeps_its_traceback(model_dir, tmp_path, monkeypatch):
    """Only the unit's marked refusals are one line: its other `ValueError`s are bugs."""
    from unisign.models.unisign import feature_extraction_unisign

    def buggy(keypoints, scores):
        raise ValueError("a bug in the feature extractor")

    monkeypatch.setattr(feature_extraction_unisign, "check_keypoints", buggy)
    clip = write_pose_pickle(tmp_path / "clip.pkl", np.zeros((5, 133, 2), np.float32), np.ones((5, 133), np.float32))
    with pytest.raises(ValueError, match="a bug in the feature extractor"):
        cli.main(translate_args(model_dir, clip))


def test_a_loader_bug_keeps_its_traceback_and_a_bad_folder_is_one_line(unisign, model_dir, pose_file, tmp_path):
    from unisign.apps import inference

    def set_config(folder: Path, **values) -> None:
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, **values}))

    # each a traceback without the checks: plain `ValueError`s of the loaders (and `pipeline()`'s `TypeError`)
    damages = {
        "processor_config.json not JSON": (lambda f: (f / "processor_config.json").write_text("{not json"), "JSON"),
        "a config value the unit refuses": (lambda f: set_config(f, pose_temporal_kernel_size=2), "kernel_size"),
        "no weights": (lambda f: (f / "model.safetensors").unlink(), "has no weights"),
        "another model's config": (lambda f: set_config(f, model_type="mt5"), "of type 'mt5', not a Uni-Sign"),
    }
    for damage, (damage_function, message) in damages.items():
        folder = damaged_copy(model_dir, tmp_path / damage.replace(" ", "-"), damage_function)
        assert_one_line_error(unisign(*translate_args(folder, pose_file)), "Could not load", message, status=1)

    def buggy(*args, **kwargs):
        raise ValueError("a bug in the loader")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inference, "pipeline", buggy)
        with pytest.raises(ValueError, match="a bug in the loader"):
            cli.main(translate_args(model_dir, pose_file))


def cut_short(path: Path, parses: bool) -> None:
    """Keep about the first half of a Python file: cut mid-line, or (`parses`) after the last line that leaves a
    module which still parses (a cut a syntax check alone lets through)."""
    import ast

    data = path.read_bytes()
    end = len(data) // 2
    while parses:
        end = data.rindex(b"\n", 0, end - 1) + 1
        try:
            ast.parse(data[:end])
            break
        except SyntaxError:
            continue
    path.write_bytes(data[:end] if parses else data[: end - 3])


@pytest.mark.parametrize("parses", [False, True], ids=["mid-line", "at-a-line-that-parses"])
def test_a_cut_short_copy_of_the_model_code_is_refused_by_the_loader(parses, unisign, model_dir, pose_file, tmp_path):
    """`translate` (and the demo) loaded the folder, and `push` uploaded a copy cut at a line that parses: both
    refuse it in one line naming the file."""
    from unisign.hub.model_card import make_shareable

    def shareable_then_cut(folder):  # with its card for the repository, `push` uploads the folder's own copies
        make_shareable(folder, "someone/model")
        cut_short(folder / "modeling_unisign.py", parses)

    folder = damaged_copy(model_dir, tmp_path, shareable_then_cut)
    outcome = unisign(*translate_args(folder, pose_file))
    assert_one_line_error(outcome, "Could not load", "modeling_unisign.py", "cut short", status=1)
    assert_one_line_error(unisign("push", folder, "someone/model", "--dry-run"), "modeling_unisign.py", status=1)
    assert unisign(*translate_args(model_dir, pose_file)).status == 0  # the intact copies pass


def test_copies_of_the_model_code_are_written_whole_or_not_at_all(model_dir, tmp_path, monkeypatch):
    """A full disk while `add_remote_code` (`unisign card`, `save_pretrained`) copies the code left a cut file."""
    import errno

    from unisign.models.unisign import remote_code

    folder = damaged_copy(model_dir, tmp_path, lambda folder: None)
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}

    def full_disk(source, target):
        Path(target).write_bytes(Path(source).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(remote_code.shutil, "copyfile", full_disk)
    with pytest.raises(OSError, match="No space left"):
        remote_code.add_remote_code(folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before  # old copies, whole


def test_hub_ids_fail_fast_offline_and_without_network(unisign, pose_file, monkeypatch):
    import huggingface_hub

    from unisign.utils import validation

    started = time.perf_counter()
    monkeypatch.setattr(huggingface_hub.constants, "is_offline_mode", lambda: True)
    assert_one_line_error(unisign(*translate_args("nobody/no-such-model", pose_file)), "HF_HUB_OFFLINE", status=1)
    monkeypatch.setattr(huggingface_hub.constants, "is_offline_mode", lambda: False)
    monkeypatch.setattr(validation, "_hub_reachable", lambda: False)
    assert_one_line_error(unisign(*translate_args("nobody/no-such-model", pose_file)), "cannot be reached", status=1)
    assert time.perf_counter() - started < 10


def test_the_hub_probe_asks_through_huggingface_hub_with_its_timeout(monkeypatch):
    import huggingface_hub.utils
    from huggingface_hub import constants

    from unisign.utils import validation

    asked = []

    class Session:  # what huggingface_hub's session does without a network (its proxies and endpoint apply)
        def head(self, url, timeout):
            asked.append((url, timeout))
            raise ConnectionError("no network")

    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 2)
    monkeypatch.setattr(huggingface_hub.utils, "get_session", Session)
    assert validation._hub_reachable() is False
    assert asked == [(constants.ENDPOINT, 2)]


def test_folders_where_files_are_expected(unisign, model_dir, tmp_path):
    (tmp_path / "clip.pose").mkdir()
    assert_one_line_error(unisign(*translate_args(model_dir, tmp_path / "clip.pose")), "is a folder")
    assert_one_line_error(unisign("visualize", tmp_path / "clip.pose", "--out", tmp_path / "x.png"), "clip.pose")
    refs = tmp_path / "refs.txt"
    refs.write_text("hello\n")
    outcome = unisign("evaluate", "score", "--predictions", tmp_path / "clip.pose", "--references", refs)
    assert_one_line_error(outcome, "clip.pose")
    assert_one_line_error(unisign(*translate_args(refs, tmp_path / "x.pose")), "is a file")
    evaluate = ["evaluate", "--model", model_dir, "--data", tmp_path, "--split", "dev", "--output-dir", refs]
    assert_one_line_error(unisign(*evaluate), "--output-dir", "is a file")


def test_upper_case_suffixes_are_pose_files(unisign, model_dir, pose_file, tmp_path):
    upper = tmp_path / "CLIP.POSE"
    shutil.copy(pose_file, upper)
    lower = unisign(*translate_args(model_dir, pose_file))
    assert lower.status == 0, lower.err
    outcome = unisign(*translate_args(model_dir, upper))
    assert outcome.status == 0, outcome.err
    assert outcome.out == lower.out
    outcome = unisign("visualize", upper, "--out", tmp_path / "SHEET.PNG", "--frames", "2")
    assert outcome.status == 0, outcome.err
    assert "blank canvas" in outcome.out and (tmp_path / "SHEET.PNG").is_file()


def test_training_settings_and_files_get_one_line(capsys, tmp_path):
    from unisign.training.cli import main as train_main

    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("training: {batch_size: 2\n  max_steps: [\n")
    assert_one_line_error(run_command(train_main, ["--config", str(bad_yaml)], capsys), status=1)
    config = tmp_path / "run.yaml"
    config.write_text("stage: finetune\n")
    for override, fragment in [
        ("training.max_steps=ten", "`training.max_steps`: Value 'ten' of type 'str' could not be converted"),
        ("training.max_steps=0", "`training.max_steps` must be >= 1, got 0"),
        ("training.max_steps=-5", "`training.max_steps` must be >= 1, got -5"),
        ("training.keep_checkpoints=0", "`training.keep_checkpoints` must be >= 1, got 0"),
        ("training.keep_checkpoints=-1", "`training.keep_checkpoints` must be >= 1"),
        ("training.save_every=-1", "`training.save_every` must be >= 1"),
        ("training.eval_every=-1", "`training.eval_every` must be >= 1"),
        ("training.log_every=0", "`training.log_every` must be >= 1"),
        ("training.gradient_accumulation_steps=0", "`training.gradient_accumulation_steps` must be >= 1"),
        ("training.batch_size=[2]", "`training.batch_size`: Value '[2]' of type 'ListConfig' could not be converted"),
        ("training.learning_rate=.nan", "`training.learning_rate` must be a finite number > 0"),
        (
            "data.language=[en, zh]",
            "`data.language`: Cannot convert 'ListConfig' to string",
        ),
        ("training.adam_betas=[0.9", ""),  # malformed YAML
        # OmegaConf names no setting for these (a list for a mapping, a tuple's item, a whole section of a wrong type)
        ("model.config=[1]", "`model.config` has a wrong type ([1])"),
        ("training.adam_betas=[0.9, a]", "`training.adam_betas` has a wrong type ([0.9, 'a'])"),
        ("data.augmentation=5", "`data.augmentation` has a wrong type (5)"),
        ("data.task=[SLT, 5]", "`data.task` must be a task name or a non-empty list of them, got ['SLT', 5]"),
        ("data.task=5", "`data.task` must be a task name or a non-empty list of them, got 5"),
    ]:
        outcome = run_command(train_main, ["--config", str(config), override], capsys)
        assert_one_line_error(outcome, fragment)
    assert_one_line_error(run_command(train_main, ["--examples", "-1"], capsys), "--examples: must be at least 0")


@pytest.mark.parametrize(
    "section, settings, message",
    [
        ("OptimizationArguments", {"batch_size": "abc"}, "`training.batch_size`: Value 'abc' of type 'str'"),
        ("OptimizationArguments", {"adam_betas": (0.9,)}, "`training.adam_betas`: TupleConfig length 1"),
        ("DataArguments", {"in_memory": [1]}, "`data.in_memory`: Value '[1]' is not a valid bool"),
        ("LoraArguments", {"target_modules": "q"}, "`lora.target_modules`: Invalid value assigned: str"),
        ("LoraArguments", {"r": 0}, "`lora.r` must be >= 1, got 0"),
    ],
)
def test_settings_built_in_python_are_checked_by_the_same_types_and_ranges(section, settings, message):
    from unisign.training import arguments
    from unisign.utils.errors import UsageError

    with pytest.raises(UsageError) as error:
        getattr(arguments, section)(**settings)
    assert message in str(error.value) and "\n" not in str(error.value)


# -- 7. quieter logs ----------------------------------------------------------------------------------------------


def test_mediapipe_starts_without_messages_that_look_like_a_crash():
    pytest.importorskip("mediapipe")
    from unisign.utils.quiet_logs import MEDIAPIPE_NOISE

    code = (
        "import numpy as np\n"
        "from unisign.extraction import create_estimator\n"
        "estimator = create_estimator('mediapipe')\n"
        "estimator(np.zeros((64, 64, 3), np.uint8))\n"
        "estimator.close()\n"
        "print('done')\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0 and completed.stdout == "done\n", completed.stderr
    for fragment in MEDIAPIPE_NOISE:
        assert fragment not in completed.stderr


def test_filtered_output_keeps_every_other_line(capfd):
    from unisign.utils.quiet_logs import native_stderr_filtered

    with native_stderr_filtered(("noise",)):
        os.write(2, b"a C++ line\nsome noise\n")
        print("a Python line", file=sys.stderr)
    assert capfd.readouterr().err == "a Python line\na C++ line\n"


def test_the_shared_tensor_warning_of_each_checkpoint_is_dropped(caplog):
    from unisign.utils.quiet_logs import filter_library_warnings

    filter_library_warnings()
    filter_library_warnings()  # idempotent
    logger = logging.getLogger("accelerate.utils.other")  # what Accelerate's own logger adapter writes to
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING):
        logger.warning("[RANK 0] Removed shared tensor {'a'} while saving.")
        logger.warning("another warning")
    assert "Removed shared tensor" not in caplog.text and "another warning" in caplog.text


def test_deepspeed_says_nothing_on_stdout_when_a_model_is_saved(tmp_path):
    """Saving a model imports deepspeed (Accelerate's unwrapping); without an accelerator its import would log
    `Setting accelerator to CPU` on stdout, in front of a command's JSON."""
    require_deepspeed()
    code = (
        "import json, sys\n"
        "import unisign\n"
        "from tests.modeling_helpers import tiny_config\n"
        f"unisign.UniSignForConditionalGeneration(tiny_config()).save_pretrained({str(tmp_path)!r})\n"
        "print(json.dumps({'deepspeed imported': 'deepspeed' in sys.modules}))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DS_ACCELERATOR"}
    repository = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-c", code]
    completed = subprocess.run(command, cwd=repository, env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout) == {"deepspeed imported": True}


def test_deepspeed_is_told_the_cpu_only_where_torch_sees_no_accelerator(monkeypatch):
    from unisign.utils.quiet_logs import name_deepspeed_accelerator

    monkeypatch.delitem(sys.modules, "deepspeed", raising=False)  # as before anything imported it
    installed = {"deepspeed": True}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if installed[name] else None)
    for accelerator, expected in ((False, "cpu"), (True, None)):
        monkeypatch.delenv("DS_ACCELERATOR", raising=False)
        monkeypatch.setattr(torch.accelerator, "is_available", lambda accelerator=accelerator: accelerator)
        name_deepspeed_accelerator()
        assert os.environ.get("DS_ACCELERATOR") == expected
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    monkeypatch.setenv("DS_ACCELERATOR", "xpu")  # a choice of the user's stays
    name_deepspeed_accelerator()
    assert os.environ["DS_ACCELERATOR"] == "xpu"
    monkeypatch.delenv("DS_ACCELERATOR")
    installed["deepspeed"] = False
    name_deepspeed_accelerator()
    assert "DS_ACCELERATOR" not in os.environ
