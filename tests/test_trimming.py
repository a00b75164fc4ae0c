"""Vocabulary trimming (`unisign trim-vocab`, `unisign export-onnx --trim-vocab`): the untrimmed model's ids and texts
from PyTorch, ONNX (float32 and int8) and remote code; trimmed folders say so; bad inputs get one line."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoTokenizer, pipeline

from unisign import UniSignForConditionalGeneration, UniSignProcessor, convert_reference_checkpoint
from unisign.apps.trimming import training_texts, trim_model
from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

from .conftest import require_shared
from .modeling_helpers import load_golden_batch
from .reliability_helpers import assert_one_line_error, command_runner, make_model_folder, recorded_then_changed
from .test_golden_parity import RGB_PREFIXES
from .test_remote_code import FRESH_ENV_SCRIPT, POSE_FILE, clip_arrays, linked_python, run_fresh  # noqa: F401  (fixture)
from .training_helpers import WORDS, make_pose_dataset, write_run_config


pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: pip install unisign[onnx]")

from unisign.onnx import UniSignOnnxModel, export_onnx  # noqa: E402

from .test_onnx import scores, trained, translate  # noqa: E402, F401  (fixture: the tiny trained model)


def test_golden_model_trimmed_to_its_tokens_gives_the_reference_ids_in_pytorch_and_onnx(golden_dir, tmp_path):
    """Trimmed to the tokens of the golden prompts and of the reference's generations, the golden model (and its
    ONNX export) writes the reference's greedy ids; the processor maps them back."""
    state_dict = load_file(golden_dir / "official_state_dict.safetensors")
    pose_only = {key: value.float() for key, value in state_dict.items() if not key.startswith(RGB_PREFIXES)}
    model = convert_reference_checkpoint(pose_only, AutoConfig.from_pretrained(golden_dir / "tiny-mt5")).eval()
    io, inputs, _ = load_golden_batch(golden_dir)
    expected = io["pose_only.eval.generate_greedy"]
    used = torch.cat([inputs["input_ids"].flatten(), expected.flatten(), torch.tensor([0, 1, 2])])
    kept = sorted(set(used.tolist()))
    assert len(kept) < model.config.text_config.vocab_size / 4  # a real cut
    trim_model(model, kept)
    assert model.get_output_embeddings().weight.shape[0] == len(kept) == model.config.text_config.vocab_size
    processor = UniSignProcessor(
        UniSignPoseFeatureExtractor(), AutoTokenizer.from_pretrained(golden_dir / "tiny-mt5"), kept_token_ids=kept
    )
    compact = {**inputs, "input_ids": torch.from_numpy(processor.to_model_ids(inputs["input_ids"]))}
    assert compact["input_ids"].max() < len(kept)
    generated = model.generate(**compact, max_new_tokens=12, num_beams=1)
    assert torch.equal(torch.from_numpy(processor.from_model_ids(generated)), expected)
    assert generated.max() < len(kept) < expected.max()  # the model's ids are not the tokenizer's
    assert processor.batch_decode(generated) == processor.tokenizer.batch_decode(expected, skip_special_tokens=True)
    onnx_model = UniSignOnnxModel.from_pretrained(export_onnx(model, tmp_path / "onnx"))
    for num_beams in (1, 4):
        assert torch.equal(
            onnx_model.generate(**compact, max_new_tokens=12, num_beams=num_beams),
            model.generate(**compact, max_new_tokens=12, num_beams=num_beams),
        )


@pytest.fixture(scope="module")
def trimmed(trained, tmp_path_factory):  # noqa: F811
    """The tiny trained model trimmed to its training words: a PyTorch folder and float32 and int8 ONNX exports."""
    from unisign.apps import cli

    root, *_ = trained
    out = tmp_path_factory.mktemp("trimmed")
    texts = out / "texts.txt"
    texts.write_text("\n".join(" ".join(WORDS[start:] + WORDS[:start]) for start in range(len(WORDS))) + "\n")
    cli.main(["trim-vocab", str(root / "model"), "--out", str(out / "model"), "--texts", str(texts)])
    for name, quantize in (("onnx", []), ("int8", ["--quantize", "int8"])):
        export = ["export-onnx", str(root / "model"), "--out", str(out / name), *quantize]
        cli.main([*export, "--trim-vocab", "--texts", str(texts)])
    return out


def test_trimmed_folder_says_so_and_loads_with_from_pretrained(trained, trimmed):  # noqa: F811
    root, model, processor, _ = trained
    config = json.loads((trimmed / "model" / "config.json").read_text())
    kept = config["kept_token_ids"]
    assert len(kept) == config["text_config"]["vocab_size"] < model.config.text_config.vocab_size
    assert kept[:3] == [0, 1, 2] and kept == sorted(set(kept))
    assert json.loads((trimmed / "model" / "processor_config.json").read_text())["kept_token_ids"] == kept
    words = {f"\u2581{word}" for word in WORDS}
    assert words <= set(processor.tokenizer.convert_ids_to_tokens(kept))  # every training word kept
    card = (trimmed / "model" / "README.md").read_text()
    assert "trimmed-vocabulary" in card and f"keeps {len(kept)} tokens" in card
    assert "A tiny test model" in card  # the untrimmed folder's card, marked
    assert "**Trimmed vocabulary**" in (trimmed / "onnx" / "README.md").read_text()
    loaded = UniSignForConditionalGeneration.from_pretrained(trimmed / "model")
    assert loaded.config.kept_token_ids == kept
    assert torch.equal(loaded.get_output_embeddings().weight, model.get_output_embeddings().weight[kept])
    assert UniSignProcessor.from_pretrained(root / "model").kept_token_ids is None  # untrimmed: none recorded
    assert "kept_token_ids" not in json.loads((root / "model" / "processor_config.json").read_text())


def test_trimmed_pytorch_and_onnx_give_the_untrimmed_texts_and_scores(trained, trimmed):  # noqa: F811
    root, model, processor, clips = trained
    sentences = clips["sentences"][0]
    expected = translate(model, processor, sentences)
    trimmed_model = UniSignForConditionalGeneration.from_pretrained(trimmed / "model").eval()
    trimmed_processor = UniSignProcessor.from_pretrained(trimmed / "model")
    assert translate(trimmed_model, trimmed_processor, sentences) == expected
    assert translate(UniSignOnnxModel.from_pretrained(trimmed / "onnx"), trimmed_processor, sentences) == expected
    int8 = translate(UniSignOnnxModel.from_pretrained(trimmed / "int8"), trimmed_processor, sentences)
    assert int8 == translate(UniSignOnnxModel.from_pretrained(root / "int8"), processor, sentences)
    untrimmed_scores = scores(model, processor, clips)
    trimmed_scores = scores(trimmed_model, trimmed_processor, clips)
    for name, value in untrimmed_scores.items():
        assert abs(trimmed_scores[name] - value) <= 1.0, (name, trimmed_scores, untrimmed_scores)


def test_trimmed_folder_works_as_remote_code_in_a_fresh_environment(trained, trimmed, linked_python, tmp_path):  # noqa: F811
    """The remote code's processor maps prompts and labels (a dropped token becomes `<unk>`) and its pipeline maps
    the generated ids back: the same tensors, logits and texts as the package, which match the untrimmed model's."""
    root = trained[0]
    pose_file = require_shared(POSE_FILE)
    folder = trimmed / "model"
    processor = UniSignProcessor.from_pretrained(folder)
    arrays = clip_arrays(20, seed=1)
    call = {"poses": [arrays, arrays[:9]], "text": ["go home", "xyz"], "language": "en"}
    inputs = processor(**call)
    unknown = processor.to_model_ids(processor.tokenizer.unk_token_id)
    assert (inputs["labels"][1, :3] == torch.from_numpy(unknown)).all()  # characters dropped: `<unk>`
    model = UniSignForConditionalGeneration.from_pretrained(folder).eval()
    with torch.no_grad():
        logits = model(**inputs).logits
    translator = pipeline("sign-language-translation", model=folder)
    untrimmed = pipeline("sign-language-translation", model=root / "model")
    clips = {"arrays": arrays, "pose_file": str(pose_file)}
    settings = {"max_new_tokens": 6, "num_beams": 2}  # those of the fresh environment's script
    texts = {name: translator(clip, **settings) for name, clip in clips.items()}
    assert texts == {name: untrimmed(clip, **settings) for name, clip in clips.items()}
    expected = {"call": call, "inputs": dict(inputs), "logits": logits, "texts": texts}
    expected["pipeline_inputs"] = {"arrays": arrays, "pose_file": "POSE_FILE"}
    torch.save(expected, tmp_path / "expected.pt")
    (tmp_path / "check.py").write_text(FRESH_ENV_SCRIPT)
    completed = run_fresh(linked_python, tmp_path, tmp_path / "check.py", folder, tmp_path / "expected.pt", pose_file)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "remote code OK" in completed.stdout


def test_default_texts_are_those_of_the_run_that_trained_the_folder(tmp_path, monkeypatch, capsys):  # noqa: F811
    """A `train.py` export trims to its run's training targets and prompts (`train_config.yaml` beside it), with the
    run's relative data path read from where `train.py` ran."""
    from unisign.data import load_pose_dataset

    make_pose_dataset(tmp_path / "data")
    run = tmp_path / "outputs" / "run"
    run.mkdir(parents=True)
    write_run_config(run / "train_config.yaml", data={"path": "data"}, training={"output_dir": "outputs/run"})
    folder = make_model_folder(run)
    (run / "model").rename(run / "best")
    shutil.rmtree(run / "tokenizer")
    monkeypatch.chdir(tmp_path / "outputs")  # elsewhere than where the run started: `data` is not here
    targets = list(load_pose_dataset(tmp_path / "data", split="train")["text"])
    texts = training_texts(run / "best")
    assert set(targets) <= set(texts) and len(set(targets)) > 3
    assert UniSignProcessor.from_pretrained(run / "best").prompt_text("en") in texts
    outcome = command_runner(capsys)("trim-vocab", run / "best", "--out", tmp_path / "trimmed")
    assert outcome.status == 0 and "token rows kept" in outcome.out, outcome.err
    processor = UniSignProcessor.from_pretrained(tmp_path / "trimmed")
    used = {token for text in targets for token in processor.tokenizer(text)["input_ids"]}
    assert used <= set(processor.kept_token_ids) and folder.name == "model"
    (tmp_path / "data").rename(tmp_path / "moved")
    outcome = command_runner(capsys)("trim-vocab", run / "best", "--out", tmp_path / "again")
    moved = tmp_path.resolve() / "data"
    assert_one_line_error(outcome, f"The run's training data `{moved}`", "is not there", "--texts")


def test_default_texts_come_from_where_the_run_started_not_from_the_current_directory(tmp_path, monkeypatch):
    """A `data` folder in the current directory is another dataset: the run's own, where `train.py` ran, is read
    (the current directory was once tried first, and trimmed the vocabulary to the wrong texts)."""
    from unisign.data import load_pose_dataset

    make_pose_dataset(tmp_path / "project" / "data", num_train=2)
    run = tmp_path / "project" / "outputs" / "run"
    run.mkdir(parents=True)
    write_run_config(run / "train_config.yaml", data={"path": "data"}, training={"output_dir": "outputs/run"})
    make_model_folder(run)
    make_pose_dataset(tmp_path / "elsewhere" / "data", num_train=6)
    monkeypatch.chdir(tmp_path / "elsewhere")
    targets = set(load_pose_dataset(tmp_path / "project" / "data", split="train")["text"])
    others = set(load_pose_dataset("data", split="train")["text"]) - targets
    texts = set(training_texts(run / "model"))
    assert targets <= texts and others and not others & texts


def test_bad_inputs_get_one_line(trained, trimmed, tmp_path, capsys):  # noqa: F811
    runner = command_runner(capsys)
    zebra = tmp_path / "zebra.txt"
    zebra.write_text("go zebra\n")
    outcome = runner("trim-vocab", trimmed / "model", "--out", tmp_path / "again", "--texts", zebra)
    assert_one_line_error(outcome, "trimmed already", "trim the untrimmed model instead")
    assert not (tmp_path / "again").exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    outcome = runner("trim-vocab", trimmed / "model", "--out", tmp_path / "empty", "--texts", empty)
    assert_one_line_error(outcome, "No texts to trim the vocabulary to")
    outcome = runner("export-onnx", trimmed / "model", "--out", tmp_path / "onnx", "--texts", empty)
    assert_one_line_error(outcome, "add `--trim-vocab`", status=2)
    outcome = runner("trim-vocab", trimmed / "model", "--out", tmp_path / "no-run")
    assert_one_line_error(outcome, "records no training data", "--texts")
    outcome = runner("trim-vocab", trimmed / "onnx", "--out", tmp_path / "from-onnx", "--texts", zebra)
    assert_one_line_error(outcome, "is an ONNX export")
    # NaN weights behind an intact header: refused by both ways to trim, nothing written
    damaged = tmp_path / "nan-model"
    shutil.copytree(trained[0] / "model", damaged)
    weights = load_file(damaged / "model.safetensors")
    name = next(key for key, value in weights.items() if value.is_floating_point())
    weights[name][..., 0] = float("nan")
    save_file(weights, damaged / "model.safetensors", metadata={"format": "pt"})
    words = tmp_path / "words.txt"
    words.write_text(" ".join(WORDS) + "\n")
    outcome = runner("trim-vocab", damaged, "--out", tmp_path / "nan-trimmed", "--texts", words)
    assert_one_line_error(outcome, "non-finite")
    outcome = runner("export-onnx", damaged, "--out", tmp_path / "nan-onnx", "--trim-vocab", "--texts", words)
    assert_one_line_error(outcome, str(damaged), "non-finite")
    assert not (tmp_path / "nan-trimmed").exists() and not (tmp_path / "nan-onnx").exists()


def test_verify_reads_every_byte_before_trimming(trained, tmp_path, capsys):  # noqa: F811
    """`trim-vocab --verify` checks the recorded SHA-256s, as `export-onnx --trim-vocab --verify` does: a plausible
    weight changed after its checksum was recorded passes the default header check and is refused only with it."""
    changed = tmp_path / "changed"
    shutil.copytree(trained[0] / "model", changed)
    recorded_then_changed(changed)
    words = tmp_path / "words.txt"
    words.write_text(" ".join(WORDS) + "\n")
    runner = command_runner(capsys)
    outcome = runner("trim-vocab", changed, "--out", tmp_path / "verified", "--texts", words, "--verify")
    assert_one_line_error(outcome, "SHA-256")
    assert not (tmp_path / "verified").exists()
    outcome = runner("trim-vocab", changed, "--out", tmp_path / "unverified", "--texts", words)
    assert outcome.status == 0 and "token rows kept" in outcome.out, outcome.err


def test_default_texts_of_a_run_with_an_absolute_output_dir(tmp_path):
    """`train.py training.output_dir=/abs/path data.path=/abs/data`: the texts are found (the launch directory was
    once derived from the absolute output_dir's parts, which raised an IndexError)."""
    from unisign.data import load_pose_dataset

    make_pose_dataset(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    write_run_config(
        run / "train_config.yaml", data={"path": str(tmp_path / "data")}, training={"output_dir": str(run)}
    )
    make_model_folder(run)
    targets = set(load_pose_dataset(tmp_path / "data", split="train")["text"])
    assert targets <= set(training_texts(run / "model"))
