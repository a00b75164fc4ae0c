"""Tests of the root evaluate.py: the `score` subcommand, its errors, and that it does not shadow `evaluate`."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unisign.evaluation.cli import read_prediction_and_reference_files
from unisign.evaluation.metrics import compute_metrics

from .training_helpers import load_script


REPO_ROOT = Path(__file__).resolve().parents[1]
EVALUATE_MODULE_DIR = REPO_ROOT / "spaces" / "unisign_metric"  # the `evaluate` metric Space
SCRIPT = REPO_ROOT / "evaluate.py"


@pytest.fixture(scope="module")
def cli():
    """The script loaded as a module under a name of its own (as `evaluate` it would refuse to load)."""
    return load_script(SCRIPT, "unisign_evaluate_script")


def official_files(data_dir, split="dev"):
    directory = data_dir / "official-predictions" / "eval_csl_daily_pose_only"
    return directory / f"{split}_tmp_pres.txt", directory / f"{split}_tmp_refs.txt"


def test_score_prints_one_json_object(cli, capsys, data_dir):
    predictions, references = official_files(data_dir)
    status = cli.main(["score", "--predictions", str(predictions), "--references", str(references), "--lang", "zh"])
    output = capsys.readouterr().out
    assert status == 0
    assert output.count("\n") == 1
    scores = json.loads(output)
    paired = read_prediction_and_reference_files(predictions, references)
    assert scores == compute_metrics("slt", paired.predictions, paired.references, lang="zh")
    # ../shared/data/README.md: CSL-Daily dev BLEU-4 25.27, ROUGE-L 54.30.
    assert (round(scores["bleu4"], 2), round(scores["rouge_l"], 2)) == (25.27, 54.30)


def test_score_cslr_and_islr_tasks(cli, capsys, tmp_path):
    predictions = tmp_path / "pres.txt"
    references = tmp_path / "refs.txt"
    predictions.write_text("c c c a a\nb c\n", encoding="utf-8")
    references.write_text("a a b b b\na b\n", encoding="utf-8")
    cli.main(["score", "--predictions", str(predictions), "--references", str(references), "--task", "cslr"])
    # 6 + 2 weighted-alignment errors, 5 + 2 unit-cost errors, 7 reference words (see test_metrics.py).
    assert json.loads(capsys.readouterr().out) == pytest.approx(
        {"wer": 800 / 7, "del_rate": 400 / 7, "ins_rate": 400 / 7, "sub_rate": 0.0, "wer_unit_cost": 100.0}
    )
    predictions.write_text("Book\ngo\n", encoding="utf-8")
    references.write_text("book\ngo\n", encoding="utf-8")
    arguments = ["score", "--predictions", str(predictions), "--references", str(references), "--task", "islr"]
    cli.main(arguments)
    assert json.loads(capsys.readouterr().out) == {"top1_per_instance": 50.0, "top1_per_class": 50.0}
    cli.main([*arguments, "--islr-normalize", "lower"])
    assert json.loads(capsys.readouterr().out) == {"top1_per_instance": 100.0, "top1_per_class": 100.0}


def test_score_reports_mismatched_files(cli, capsys, data_dir):
    predictions, _ = official_files(data_dir, "dev")
    _, references = official_files(data_dir, "test")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["score", "--predictions", str(predictions), "--references", str(references)])
    error = str(exit_info.value.code)  # exit status 1: Python prints the message to stderr
    assert error.startswith("evaluate.py: error: ")
    assert "1176 references have no prediction" in error
    assert "1077 predictions have no reference" in error


def test_model_options_are_checked(cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--model", "some/model", "--data", "csl_daily"])
    assert exit_info.value.code == 2
    assert "needs `--model`, `--data` and `--split`" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--model", "some/model", "score", "--predictions", "p", "--references", "r"])
    assert "cannot be combined with `score`" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([])
    assert "nothing to do" in capsys.readouterr().err


def test_importing_the_script_as_evaluate_is_refused():
    spec = importlib.util.spec_from_file_location("evaluate", SCRIPT)
    with pytest.raises(ImportError, match="instead of the Hugging Face `evaluate` library"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_run_from_repository_root_uses_the_evaluate_library(tmp_path, data_dir):
    # Run as users do, from the repository root, where Python puts evaluate.py's folder first on sys.path; the
    # `--metric-module` path imports the `evaluate` library and loads the metric module offline.
    predictions, references = official_files(data_dir)
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf_home"),  # evaluate copies the module and makes a cache folder there
    }
    command = [
        sys.executable,
        "evaluate.py",
        "score",
        "--predictions",
        str(predictions),
        "--references",
        str(references),
        "--lang",
        "zh",
        "--metric-module",
        str(EVALUATE_MODULE_DIR.relative_to(REPO_ROOT)),
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    paired = read_prediction_and_reference_files(predictions, references)
    assert json.loads(result.stdout) == compute_metrics("slt", paired.predictions, paired.references, lang="zh")


def test_model_mode_writes_predictions_references_and_scores(cli, capsys, caplog, tmp_path, monkeypatch):
    import torch
    from transformers import AutoTokenizer

    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

    from .training_helpers import TINY_LM, TINY_POSE, make_pose_dataset, make_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path / "tokenizer"))
    torch.manual_seed(0)
    config = UniSignConfig(text_config={**TINY_LM, "vocab_size": len(tokenizer)}, **TINY_POSE)
    UniSignForConditionalGeneration(config).save_pretrained(tmp_path / "model")
    UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="en").save_pretrained(tmp_path / "model")
    data = make_pose_dataset(tmp_path / "data", num_train=1, num_dev=5)
    arguments = ["--model", str(tmp_path / "model"), "--data", str(data), "--split", "dev", "--num-beams", "2"]
    arguments += ["--max-new-tokens", "4", "--batch-size", "2"]

    outputs = {}
    for run in ("first", "second"):
        assert cli.main([*arguments, "--output-dir", str(tmp_path / run)]) == 0
        outputs[run] = json.loads(capsys.readouterr().out)
    assert outputs["first"] == outputs["second"]  # deterministic frame sampling and decoding
    # the references' language (here the prompt's: the dataset names none) and BLEU's tokenisation are reported
    assert outputs["first"].pop("lang") == "en" and outputs["first"].pop("bleu_tokenizer") == "13a"
    assert set(outputs["first"]) == {"bleu1", "bleu2", "bleu3", "bleu4", "rouge_l"}
    predictions, references = tmp_path / "first" / "dev_predictions.txt", tmp_path / "first" / "dev_references.txt"
    assert (tmp_path / "first" / "dev_predictions.txt").read_text() == (
        tmp_path / "second" / "dev_predictions.txt"
    ).read_text()
    paired = read_prediction_and_reference_files(predictions, references)
    assert paired.names == [f"dev-{index}" for index in range(5)]
    assert paired.references[0] == "I you"  # the raw targets of make_pose_dataset
    written = json.loads((tmp_path / "first" / "dev_scores.json").read_text())
    assert written == {**outputs["first"], "lang": "en", "bleu_tokenizer": "13a"}
    assert compute_metrics("slt", paired.predictions, paired.references, lang="en") == outputs["first"]

    # references said to be Chinese: scored per character, reported, and the English prompt is warned about
    assert cli.main([*arguments, "--output-dir", str(tmp_path / "zh"), "--lang", "zh"]) == 0
    captured = capsys.readouterr()
    chinese = json.loads(captured.out)
    assert chinese.pop("lang") == "zh" and chinese.pop("bleu_tokenizer").startswith("characters")
    assert chinese == compute_metrics("slt", paired.predictions, paired.references, lang="zh")
    assert "references are in `zh` but the prompt asks for `en`" in caplog.text

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--model", str(tmp_path / "missing"), "--data", str(data), "--split", "dev"])
    assert "error: `--model" in str(exit_info.value.code)  # exit status 1, the message on stderr

    # earlier results are not overwritten without a word
    before = {path.name: path.read_bytes() for path in (tmp_path / "first").iterdir()}
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*arguments, "--output-dir", str(tmp_path / "first")])
    assert "holds the results of an earlier evaluation" in str(exit_info.value.code)
    assert {path.name: path.read_bytes() for path in (tmp_path / "first").iterdir()} == before
    assert cli.main([*arguments, "--output-dir", str(tmp_path / "first"), "--overwrite"]) == 0
    assert json.loads(capsys.readouterr().out) == {**outputs["first"], "lang": "en", "bleu_tokenizer": "13a"}

    # a prompt language the model has no prompt for: a usage error; references in German: BLEU's 13a, with a warning
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*arguments, "--output-dir", str(tmp_path / "de"), "--language", "de"])
    assert exit_info.value.code == 2 and "`--language de`" in capsys.readouterr().err
    from unisign.evaluation import cli as evaluation

    monkeypatch.setattr(evaluation, "dataset_language", lambda data, samples: "de")
    assert cli.main([*arguments, "--output-dir", str(tmp_path / "german")]) == 0
    german = json.loads(capsys.readouterr().out)
    assert (german.pop("lang"), german.pop("bleu_tokenizer")) == ("en", "13a")
    assert german == compute_metrics("slt", paired.predictions, paired.references, lang="en")
    assert "references are in `de`" in caplog.text


def test_a_dataset_in_another_language_than_en_or_zh(cli, capsys, tmp_path):
    """Sign words and glosses are compared as given in any language; translations need a known tokenisation."""
    import torch
    from transformers import AutoTokenizer

    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

    from .training_helpers import TINY_LM, TINY_POSE, make_pose_dataset, make_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path / "tokenizer"))
    torch.manual_seed(0)
    config = UniSignConfig(text_config={**TINY_LM, "vocab_size": len(tokenizer)}, **TINY_POSE)
    UniSignForConditionalGeneration(config).save_pretrained(tmp_path / "model")
    german = UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, prompts={"de": "Gebärden: "}, language="de")
    german.save_pretrained(tmp_path / "model")
    data = make_pose_dataset(tmp_path / "data", num_train=1, num_dev=3)
    arguments = ["--model", str(tmp_path / "model"), "--data", str(data), "--split", "dev", "--num-beams", "1"]
    arguments += ["--max-new-tokens", "3"]

    assert cli.main([*arguments, "--task", "islr", "--output-dir", str(tmp_path / "islr")]) == 0
    scores = json.loads(capsys.readouterr().out)
    paired = read_prediction_and_reference_files(
        tmp_path / "islr" / "dev_predictions.txt", tmp_path / "islr" / "dev_references.txt"
    )
    assert scores == compute_metrics("islr", paired.predictions, paired.references)

    # translations in German: scored with the `en` (13a) tokenisation of words, as documented
    assert cli.main([*arguments, "--task", "slt", "--output-dir", str(tmp_path / "slt")]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert (scores.pop("lang"), scores.pop("bleu_tokenizer")) == ("en", "13a")
    paired = read_prediction_and_reference_files(
        tmp_path / "slt" / "dev_predictions.txt", tmp_path / "slt" / "dev_references.txt"
    )
    assert scores == compute_metrics("slt", paired.predictions, paired.references, lang="en")


def test_model_mode_refuses_nan_weights_and_hashes_only_with_verify(cli, capsys, tmp_path, monkeypatch):
    """Issue 27: a `--model` run hashes the recorded weights only with `--verify`, and refuses NaN weights either way
    (by default in the loaded model: generation would score them as wrong text without an error)."""
    from safetensors.torch import load_file, save_file

    from unisign.utils import checksums

    from .reliability_helpers import make_model_folder
    from .training_helpers import make_pose_dataset

    model = make_model_folder(tmp_path)
    checksums.write_checksums(model, "*.safetensors")
    data = make_pose_dataset(tmp_path / "data", num_train=1, num_dev=2)
    arguments = ["--model", str(model), "--data", str(data), "--split", "dev", "--num-beams", "1"]
    arguments += ["--max-new-tokens", "2"]
    hashed, sha256_of = [], checksums.sha256_of
    monkeypatch.setattr(checksums, "sha256_of", lambda path: hashed.append(path.name) or sha256_of(path))
    assert cli.main([*arguments, "--output-dir", str(tmp_path / "default")]) == 0
    assert hashed == []
    assert cli.main([*arguments, "--output-dir", str(tmp_path / "verify"), "--verify"]) == 0
    assert hashed == ["model.safetensors"]
    capsys.readouterr()

    weights = load_file(model / "model.safetensors")
    name = next(name for name, tensor in weights.items() if tensor.is_floating_point() and tensor.numel() > 1)
    weights[name].view(-1)[1] = float("nan")
    save_file(weights, model / "model.safetensors", metadata={"format": "pt"})
    (model / "checksums.json").unlink()  # no recorded hash to tell: only the weights' values do
    for flags in ([], ["--verify"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([*arguments, "--output-dir", str(tmp_path / f"nan{len(flags)}"), *flags])
        message = str(exit_info.value.code)
        assert "non-finite" in message and name in message and "\n" not in message
