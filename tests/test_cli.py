"""The `unisign` command line: every subcommand is listed, and `train`/`evaluate`/`push` run the root scripts' code."""

import importlib.util
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from unisign.apps import cli


REPO_ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    output = capsys.readouterr().out
    for command in ("convert", "extract", "visualize", "translate", "train", "evaluate", "push"):
        assert f"    {command} " in output  # listed with its one-line description


@pytest.fixture
def score_files(tmp_path) -> list[str]:
    predictions, references = tmp_path / "pres.txt", tmp_path / "refs.txt"
    predictions.write_text("a cat sat on the mat\nhello there\n", encoding="utf-8")
    references.write_text("the cat sat on the mat\nhello there\n", encoding="utf-8")
    return ["--predictions", str(predictions), "--references", str(references)]


def test_evaluate_score_prints_what_evaluate_py_prints(score_files, capsys):
    spec = importlib.util.spec_from_file_location("unisign_evaluate_script", REPO_ROOT / "evaluate.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for task in ("slt", "cslr"):
        assert script.main(["score", *score_files, "--task", task]) == 0
        expected = capsys.readouterr().out
        cli.main(["evaluate", "score", *score_files, "--task", task])
        assert capsys.readouterr().out == expected
        assert expected.startswith("{")


def test_evaluate_errors_name_the_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate"])
    assert exit_info.value.code == 2
    assert "unisign evaluate: error: nothing to do" in capsys.readouterr().err


def test_train_hands_its_arguments_to_the_training_command_line(monkeypatch, capsys):
    from unisign.training import cli as training_cli

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # a wait policy chosen: no fresh process
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    output = capsys.readouterr().out
    assert output.startswith("usage: unisign train") and "--config" in output and "--push-to-hub" in output

    received = []
    monkeypatch.setattr(training_cli, "main", received.append)
    cli.main(["train", "--config", "run.yaml", "training.seed=1"])
    assert received == [["--config", "run.yaml", "training.seed=1"]]


def test_openmp_environment_leaves_a_chosen_wait_policy_alone():
    from unisign.training.cli import OPENMP_ENVIRONMENT, openmp_environment

    assert openmp_environment({}) == OPENMP_ENVIRONMENT == {"GOMP_SPINCOUNT": "1000"}
    assert openmp_environment({"OMP_WAIT_POLICY": "PASSIVE"}) == {}
    assert openmp_environment({"GOMP_SPINCOUNT": "0"}) == {}


@pytest.mark.parametrize("environment", [{}, {"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "0"}])
def test_train_py_sets_the_openmp_environment_of_unisign_train(environment, monkeypatch):
    from unisign.training.cli import openmp_environment

    monkeypatch.setattr(os, "environ", dict(environment))
    runpy.run_path(str(REPO_ROOT / "train.py"), run_name="train")  # its settings, without running `main`
    assert os.environ == {**environment, **openmp_environment(environment)}


def test_train_restarts_itself_with_the_openmp_environment(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda *arguments: calls.append(arguments))
    monkeypatch.setattr("unisign.training.cli.main", lambda argv: None)
    cli.main(["train", "training.seed=1"])
    ((executable, argv, environment),) = calls
    assert argv == [executable, "-m", "unisign.training.cli", "training.seed=1"]
    assert environment["GOMP_SPINCOUNT"] == "1000"


def test_unisign_train_restarted_in_a_fresh_process_reports_a_missing_config_in_one_line(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    command = [sys.executable, "-m", "unisign.apps.cli", "train", "--config", str(tmp_path / "missing.yaml")]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0
    assert "unisign train: error: No config file" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_push_dry_run_lists_the_files(tmp_path, capsys):
    import torch
    from transformers import AutoTokenizer

    from unisign import UniSignForConditionalGeneration, UniSignProcessor
    from unisign.training.arguments import TrainConfig, config_to_dict
    from unisign.training.export import write_model_card

    from .modeling_helpers import tiny_config
    from .training_helpers import make_tokenizer

    folder = tmp_path / "model"
    torch.manual_seed(0)
    config = tiny_config()
    UniSignForConditionalGeneration(config).save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path / "tokenizer"))
    UniSignProcessor.from_model_config(config, tokenizer, language="en").save_pretrained(folder)
    write_model_card(folder, config_to_dict(TrainConfig()))

    cli.main(["push", str(folder), "someone/tiny", "--dry-run"])
    output = capsys.readouterr().out
    assert output.startswith("Dry run: nothing was uploaded.")
    assert "model.safetensors" in output and "README.md" in output
    with pytest.raises(SystemExit):
        cli.main(["push", str(folder), "no-namespace", "--dry-run"])
    assert "unisign push: error:" in capsys.readouterr().err
