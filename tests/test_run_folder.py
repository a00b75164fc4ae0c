"""Run folders that cannot mix: another run's state, changed settings on resume, damaged checkpoints, the log.

The runs are a tiny mT5 with dropout (so that a resume must restore the RNG states too), 6 steps, a checkpoint every
2 steps, one thread (so that a run in a subprocess computes exactly what one in this process does).
"""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from safetensors.torch import load_file

from unisign.training import load_config, train
from unisign.training.arguments import config_to_dict
from unisign.utils.errors import RunFolderError, UsageError

from .training_helpers import make_language_model, make_pose_dataset, make_tokenizer


REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "finetune_slt_csl_daily.yaml"
# `python train.py`, its `Accelerator.save_state` killed (SIGKILL) half-way through writing one checkpoint
KILL_WHILE_SAVING = """
import os, runpy, signal, sys
from accelerate import Accelerator

save_state, kill_in = Accelerator.save_state, sys.argv[1]

def save_then_die(self, output_dir=None, **kwargs):
    save_state(self, output_dir, **kwargs)
    if str(output_dir).endswith(kill_in):
        weights = os.path.join(output_dir, "model.safetensors")
        os.truncate(weights, os.path.getsize(weights) // 2)
        os.kill(os.getpid(), signal.SIGKILL)

Accelerator.save_state = save_then_die
sys.argv = [sys.argv[2], "--config", sys.argv[3]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration

    root = tmp_path_factory.mktemp("run-folder-assets")
    tokenizer = make_tokenizer(root / "tokenizer")
    base = make_language_model(root / "mt5", vocab_size=len(AutoTokenizer.from_pretrained(tokenizer)))
    torch.manual_seed(1)
    config = MT5Config.from_pretrained(base)
    config.dropout_rate = 0.1
    MT5ForConditionalGeneration(config).save_pretrained(root / "mt5_dropout")
    return SimpleNamespace(
        tokenizer=tokenizer, language_model=root / "mt5_dropout", data=make_pose_dataset(root / "data")
    )


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the runs set 1


def run_config(assets, output_dir: Path, *extra: str):
    overrides = [
        "data.format=parquet",
        f"data.path={assets.data}",
        "data.language=en",
        "data.eval_split=null",
        "model.init_from=null",
        f"model.language_model={assets.language_model}",
        f"model.tokenizer={assets.tokenizer}",
        "model.config={pose_embed_dim: 8, pose_spatial_channels: [8, 16, 16], pose_num_temporal_blocks: 1, "
        "pgf_head_dim: 2}",
        f"training.output_dir={output_dir}",
        "training.max_steps=6",
        "training.save_every=2",
        "training.keep_checkpoints=5",
        "training.batch_size=2",
        "training.learning_rate=0.01",
        "training.log_with=null",
        "training.log_every=1",
        "training.mixed_precision=no",
        "training.num_threads=1",
        "training.seed=0",
        *extra,
    ]
    return load_config(CONFIG, overrides)


def logged_steps(output_dir: Path) -> list[int]:
    lines = (output_dir / "logs" / "train_log.jsonl").read_text().splitlines()
    return [record["step"] for record in map(json.loads, lines) if "train/loss" in record]


def checkpoints(output_dir: Path) -> list[str]:
    return sorted(path.name for path in (output_dir / "checkpoints").iterdir())


def assert_same_weights(folder: Path, expected: dict) -> None:
    actual = load_file(folder / "model.safetensors")
    assert actual.keys() == expected.keys()
    assert all(torch.equal(actual[key], expected[key]) for key in expected)


@pytest.fixture(scope="module")
def straight(assets, tmp_path_factory):
    """An uninterrupted run: its final weights, and its folder (checkpoints at steps 2, 4 and 6)."""
    output_dir = tmp_path_factory.mktemp("straight") / "run"
    train(run_config(assets, output_dir))
    return SimpleNamespace(output_dir=output_dir, weights=load_file(output_dir / "last" / "model.safetensors"))


def test_checkpoints_record_their_checksums(straight):
    from unisign.utils.checksums import verify_checksums

    assert checkpoints(straight.output_dir) == ["step-00000002", "step-00000004", "step-00000006"]
    for name in checkpoints(straight.output_dir):
        checkpoint = straight.output_dir / "checkpoints" / name
        assert (checkpoint / "checksums.json").is_file() and verify_checksums(checkpoint, required=True) is None
    assert logged_steps(straight.output_dir) == [1, 2, 3, 4, 5, 6]


def test_a_new_run_refuses_a_folder_holding_another_run(assets, straight, tmp_path):
    output_dir = tmp_path / "run"
    shutil.copytree(straight.output_dir, output_dir)
    before = {path: path.stat().st_mtime_ns for path in output_dir.rglob("*")}
    with pytest.raises(RunFolderError, match="holds another run's state .*--overwrite"):
        train(run_config(assets, output_dir, "training.seed=1", "training.max_steps=2"))
    assert {path: path.stat().st_mtime_ns for path in output_dir.rglob("*")} == before  # nothing touched
    with pytest.raises(UsageError, match="give one"):
        train(run_config(assets, output_dir), resume=True, overwrite=True)

    train(run_config(assets, output_dir, "training.seed=1", "training.max_steps=2"), overwrite=True)
    assert checkpoints(output_dir) == ["step-00000002"]  # only the new run's
    assert logged_steps(output_dir) == [1, 2]
    saved = yaml.safe_load((output_dir / "train_config.yaml").read_text())
    assert saved["training"]["seed"] == 1


def test_resume_refuses_changed_settings_unless_allowed(assets, straight, tmp_path, caplog):
    output_dir = tmp_path / "run"
    shutil.copytree(straight.output_dir, output_dir)
    changed = run_config(assets, output_dir, "training.batch_size=4", "training.max_steps=8")
    with pytest.raises(RunFolderError, match=r"training.batch_size: 2 -> 4; training.max_steps: 6 -> 8"):
        train(changed, resume=True)
    with caplog.at_level(logging.WARNING, logger="unisign.training.run_folder"):
        train(changed, resume=True, allow_changed_settings=True)
    assert "Resuming with changed settings" in caplog.text
    assert logged_steps(output_dir) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert yaml.safe_load((output_dir / "train_config.yaml").read_text())["training"]["batch_size"] == 4


def test_damaged_latest_checkpoints_fall_back_to_an_intact_one(assets, straight, tmp_path, caplog, capsys):
    output_dir = tmp_path / "run"
    shutil.copytree(straight.output_dir, output_dir)
    shutil.rmtree(output_dir / "last")
    step6, step4 = (output_dir / "checkpoints" / name for name in ("step-00000006", "step-00000004"))
    weights = step6 / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0x01  # one flipped bit: the size stays, the hash does not
    weights.write_bytes(bytes(data))
    optimizer = next(step4.glob("optimizer*"))
    os.truncate(optimizer, optimizer.stat().st_size - 100)
    with caplog.at_level(logging.WARNING, logger="unisign.training.run_folder"):
        train(run_config(assets, output_dir), resume=True)
    assert "step-00000006 is damaged (`model.safetensors` does not match its recorded SHA-256" in caplog.text
    assert "step-00000004 is damaged (`optimizer.bin` has" in caplog.text
    assert "step-00000002 at step 2" in capsys.readouterr().out  # "Resumed from <folder>/step-00000002 at step 2."
    assert_same_weights(output_dir / "last", straight.weights)
    assert logged_steps(output_dir) == [1, 2, 3, 4, 5, 6]  # cut back to step 2, then logged again


def test_a_kill_while_a_checkpoint_is_written_resumes_from_the_one_before(assets, straight, tmp_path):
    output_dir = tmp_path / "run"
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(config_to_dict(run_config(assets, output_dir))))
    command = [sys.executable, "-c", KILL_WHILE_SAVING, "step-00000004.tmp", str(REPO / "train.py"), str(config_file)]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "UNISIGN_DEBUG": "1"}
    killed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600, cwd=REPO)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert checkpoints(output_dir) == ["step-00000002", "step-00000004.tmp"]  # the half-written one never published
    assert logged_steps(output_dir) == [1, 2, 3, 4]

    train(run_config(assets, output_dir), resume=True)
    assert checkpoints(output_dir) == ["step-00000002", "step-00000004", "step-00000006"]
    assert_same_weights(output_dir / "last", straight.weights)
    assert logged_steps(output_dir) == [1, 2, 3, 4, 5, 6]


def test_overwrite_removes_only_what_a_run_marked_as_its_own(assets, straight, tmp_path):
    """A user's `logs/`, `test/` and `tokenizer/` in `output_dir` are never deleted; a marked run's state is."""
    users = tmp_path / "dataset"
    files = {"logs/labelling-notes.txt": "who labelled what", "test/clip.pose": "pose", "tokenizer/vocab.txt": "a"}
    for name, text in files.items():
        (users / name).parent.mkdir(parents=True, exist_ok=True)
        (users / name).write_text(text)
    with pytest.raises(RunFolderError, match=r"holds logs, test, tokenizer, which no run marked"):
        train(run_config(assets, users, "training.max_steps=2"), overwrite=True)
    assert {name: (users / name).read_text() for name in files} == files

    output_dir = tmp_path / "run"  # a run's folder, with a user's notes beside the run's state
    shutil.copytree(straight.output_dir, output_dir)
    (output_dir / "notes.txt").write_text("mine")
    train(run_config(assets, output_dir, "training.max_steps=2"), overwrite=True)
    assert checkpoints(output_dir) == ["step-00000002"] and (output_dir / "notes.txt").read_text() == "mine"

    (output_dir / ".unisign-run.json").unlink()  # a run that marked nothing (older)
    with pytest.raises(RunFolderError, match=r"holds checkpoints, last, logs, train_config.yaml, which no run marked"):
        train(run_config(assets, output_dir, "training.max_steps=2"), overwrite=True)
    assert checkpoints(output_dir) == ["step-00000002"]


def test_a_second_run_in_a_locked_folder_stops_in_one_line(assets, tmp_path):
    from filelock import FileLock

    from .training_helpers import run_train_script

    output_dir = tmp_path / "run"
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(config_to_dict(run_config(assets, output_dir, "training.max_steps=2"))))
    output_dir.mkdir()
    with FileLock(output_dir / ".unisign-run.lock"):  # the first run, still training
        second = run_train_script(config_file)
    assert second.returncode != 0 and "Traceback" not in second.stderr
    assert f"Another run is training in `{output_dir}`" in second.stderr.strip().splitlines()[-1]
    assert sorted(path.name for path in output_dir.iterdir()) == [".unisign-run.lock"]  # nothing written


class RunsCode:
    """A pickle that creates a file when it is unpickled (what a crafted checkpoint could do with `os.system`)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("name", ["custom_checkpoint_0.pkl", "optimizer.bin", "random_states_0.pkl"])
def test_resume_refuses_a_crafted_checkpoint_in_one_line_without_running_it(name, assets, straight, tmp_path):
    from unisign.utils.checksums import write_checksums

    output_dir, marker = tmp_path / "run", tmp_path / "ran"
    shutil.copytree(straight.output_dir, output_dir)
    checkpoint = output_dir / "checkpoints" / "step-00000006"
    torch.save(RunsCode(marker), checkpoint / name)
    (checkpoint / "checksums.json").unlink()
    write_checksums(checkpoint)  # the checksums rewritten too: the checkpoint looks intact
    with pytest.raises(RunFolderError, match=r"holds more than training state \(Unsupported global: GLOBAL io.open"):
        train(run_config(assets, output_dir), resume=True)
    assert not marker.exists()


def test_a_batch_without_target_tokens_stops_the_run_instead_of_training_on_nan(assets, tmp_path, monkeypatch):
    from unisign.models.unisign.processing_unisign import UniSignDataCollator
    from unisign.utils.errors import InvalidInputError

    collate = UniSignDataCollator.__call__

    def without_targets(self, samples):
        batch = collate(self, samples)
        batch["labels"][:] = -100
        return batch

    monkeypatch.setattr(UniSignDataCollator, "__call__", without_targets)
    with pytest.raises(InvalidInputError, match=r"batch 1\) has no target token \(every label is -100\)"):
        train(run_config(assets, tmp_path / "run", "training.max_steps=2"))


def test_a_full_disk_while_saving_a_checkpoint_stops_in_one_line_and_leaves_no_partial_checkpoint(
    assets, tmp_path, monkeypatch
):
    import errno

    from accelerate import Accelerator

    save_state = Accelerator.save_state

    def disk_fills_up(self, output_dir=None, **kwargs):
        if str(output_dir).endswith("step-00000004.tmp"):
            Path(output_dir).mkdir(parents=True)
            (Path(output_dir) / "model.safetensors").write_bytes(b"half")  # what the disk took before it was full
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_state(self, output_dir, **kwargs)

    monkeypatch.setattr(Accelerator, "save_state", disk_fills_up)
    output_dir = tmp_path / "run"
    with pytest.raises(RunFolderError, match=r"Could not write the checkpoint of step 4 \(\[Errno 28\] No space left"):
        train(run_config(assets, output_dir))
    assert checkpoints(output_dir) == ["step-00000002"]  # no `step-00000004.tmp`


def test_after_resuming_with_changed_settings_best_is_chosen_anew(assets, tmp_path, caplog):
    """`best/` holds the resumed run's evaluations only: not a later step of the interrupted run, nor its scores."""
    output_dir = tmp_path / "run"
    evaluating = ["data.eval_split=dev", "training.eval_every=2", "training.eval_batch_size=4"]
    evaluating += ["training.eval_num_beams=1", "training.eval_max_new_tokens=2"]
    train(run_config(assets, output_dir, *evaluating))
    shutil.rmtree(output_dir / "checkpoints" / "step-00000006")  # resumed from step 4
    with caplog.at_level(logging.WARNING, logger="unisign.training.loop"):
        train(run_config(assets, output_dir, *evaluating, "training.seed=1"), resume=True, allow_changed_settings=True)
    lines = (output_dir / "logs" / "train_log.jsonl").read_text().splitlines()
    evaluations = {record["step"]: record for record in map(json.loads, lines) if "eval/loss" in record}
    assert sorted(evaluations) == [2, 4, 6]
    best = json.loads((output_dir / "best" / "eval_results.json").read_text())
    resumed = [evaluations[6]]  # the only evaluation of the resumed run; the best of it is best/
    assert best["loss"] in [record["eval/loss"] for record in resumed]
    assert "`best/` is replaced at the next evaluation" in caplog.text
