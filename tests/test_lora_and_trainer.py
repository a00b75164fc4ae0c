"""LoRA (PEFT) on Uni-Sign, and the model + collator inside `Seq2SeqTrainer`."""

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from peft import AutoPeftModelForSeq2SeqLM, PeftModel
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, Seq2SeqTrainer, Seq2SeqTrainingArguments

from unisign import UniSignForConditionalGeneration, UniSignProcessor
from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor
from unisign.models.unisign.processing_unisign import UniSignDataCollator
from unisign.training.arguments import TrainConfig
from unisign.training.setup import apply_lora
from unisign.utils.checksums import write_checksums

from .modeling_helpers import tiny_config
from .training_helpers import WORDS, make_tokenizer, random_clip


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    return UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="en")


def encoded_samples(processor, count, seed=0, frames=None):
    """`count` processed clips (of `frames` frames, or 5 to 8) whose targets all have 3 tokens (two words, </s>)."""
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        keypoints, scores = random_clip(rng, frames=frames or int(rng.integers(5, 9)))
        text = f"{WORDS[index % len(WORDS)]} {WORDS[(index + 3) % len(WORDS)]}"
        samples.append(processor.encode_sample((keypoints, scores), text=text))
    return samples


def tiny_model(processor, seed=0, **overrides):
    torch.manual_seed(seed)
    text_config = {"vocab_size": len(processor.tokenizer), "d_model": 16, "d_kv": 8, "d_ff": 32, "num_heads": 2}
    text_config.update(num_layers=1, num_decoder_layers=1, dropout_rate=0.0)
    return UniSignForConditionalGeneration(tiny_config(text_config=text_config, **overrides))


@pytest.fixture(scope="module")
def lora_setup(processor, tmp_path_factory):
    """A LoRA model after two SGD steps (so adapters and saved modules differ from the base), saved as an adapter."""
    root = tmp_path_factory.mktemp("lora")
    base = tiny_model(processor)
    base.save_pretrained(root / "base")
    base.name_or_path = base.config._name_or_path = str(root / "base")
    config = TrainConfig()
    config.lora.enabled = True
    model = apply_lora(base, config)
    batch = UniSignDataCollator(processor)(encoded_samples(processor, 4))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for _ in range(2):
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(root / "adapter")
    return model, batch, root


def test_only_adapters_and_saved_modules_are_trained(lora_setup, processor):
    model, batch, _ = lora_setup
    model = copy.deepcopy(model)  # a training forward updates batch-norm statistics: keep the fixture's model intact
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable
    assert all("lora_" in name or ".modules_to_save." in name for name in trainable)
    assert any("pose_encoder.modules_to_save" in name for name in trainable)
    model.train()
    model.zero_grad()
    model(**batch).loss.backward()
    with_gradient = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_gradient and with_gradient <= trainable
    frozen = [p for name, p in model.named_parameters() if name not in trainable]
    assert all(p.grad is None for p in frozen)


def test_the_four_peft_load_paths_give_identical_logits(lora_setup):
    model, batch, root = lora_setup
    with torch.no_grad():
        expected = model(**batch).logits
        loaded = {
            "PeftModel.from_pretrained": PeftModel.from_pretrained(
                UniSignForConditionalGeneration.from_pretrained(root / "base"), root / "adapter"
            ),
            "AutoPeftModelForSeq2SeqLM": AutoPeftModelForSeq2SeqLM.from_pretrained(root / "adapter"),
            "AutoModelForSeq2SeqLM": AutoModelForSeq2SeqLM.from_pretrained(root / "adapter"),
        }
        base = UniSignForConditionalGeneration.from_pretrained(root / "base")
        base.load_adapter(str(root / "adapter"))
        loaded["load_adapter"] = base
        logits = {name: other.eval()(**batch).logits for name, other in loaded.items()}
        without_adapter = UniSignForConditionalGeneration.from_pretrained(root / "base").eval()(**batch).logits
    # Equal to float32 rounding, not bitwise: the CPU's matrix kernels can round differently for tensors of another
    # memory layout (trained in place vs loaded; seen on AVX-512 Xeons, not on an AMD EPYC). The adapters moved the
    # logits far more than that, so a load path that missed them fails.
    assert (without_adapter - expected).abs().max() > 1e-2
    for name, other in logits.items():
        torch.testing.assert_close(other, expected, rtol=1e-4, atol=1e-5, msg=name)


def test_merge_and_unload_matches_the_adapter_model(lora_setup):
    model, batch, _ = lora_setup
    merged = copy.deepcopy(model).merge_and_unload()
    assert type(merged) is UniSignForConditionalGeneration
    with torch.no_grad():
        torch.testing.assert_close(merged(**batch).logits, model(**batch).logits, rtol=1e-5, atol=1e-5)


def without_batch_norm(model):
    """Batch-norm statistics depend on the micro-batch size, so accumulation can only equal a bigger batch without
    them; this takes them out to test the Trainer's accumulation arithmetic itself."""
    for name, module in list(model.named_modules()):
        if isinstance(module, torch.nn.BatchNorm2d):
            parent, child = name.rsplit(".", 1)
            setattr(model.get_submodule(parent), child, torch.nn.Identity())
    return model


def run_trainer(processor, tmp_path, batch_size, accumulation, samples):
    model = without_batch_norm(tiny_model(processor))
    arguments = Seq2SeqTrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        max_steps=2,
        learning_rate=1e-2,
        lr_scheduler_type="constant",
        remove_unused_columns=False,
        report_to=[],
        use_cpu=True,
        seed=0,
        save_strategy="no",
        predict_with_generate=True,
        generation_max_length=6,
        generation_num_beams=1,
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=arguments,
        train_dataset=samples,
        eval_dataset=samples[:3],
        data_collator=UniSignDataCollator(processor),
        processing_class=processor,
    )
    trainer.train()
    return trainer


def test_trainer_accumulation_equals_the_bigger_batch_and_generates(processor, tmp_path):
    # equal clip lengths: padding would otherwise differ between batches of 2 and of 4 (see README, padding)
    samples = encoded_samples(processor, 8, frames=7)
    accumulated = run_trainer(processor, tmp_path / "accumulated", 2, 2, samples)
    bigger = run_trainer(processor, tmp_path / "bigger", 4, 1, samples)
    expected, actual = bigger.model.state_dict(), accumulated.model.state_dict()
    initial = without_batch_norm(tiny_model(processor)).state_dict()
    assert any(not torch.equal(initial[key], expected[key]) for key in expected)  # training changed the weights
    # Adam steps are about lr = 1e-2 each; summation order differs between the two runs, and Adam's normalisation
    # magnifies the rounding of near-zero gradients, so allow 0.5% of one step
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-5, atol=5e-5)
    predictions = accumulated.predict(samples[:3])
    assert predictions.predictions.shape[0] == 3
    texts = processor.batch_decode(np.where(predictions.predictions < 0, 0, predictions.predictions))
    assert len(texts) == 3 and all(isinstance(text, str) for text in texts)


def export_lora_run(model, processor, run) -> Path:
    """`train.py`'s LoRA export of `model` into the run folder `run`: `run/best` whose base is `run/base_model`."""
    from accelerate import Accelerator

    from unisign.training.arguments import config_to_dict
    from unisign.training.export import export_model

    shutil.copytree(Path(model.peft_config["default"].base_model_name_or_path), run / "base_model")
    exported = copy.deepcopy(model)
    exported.peft_config["default"].base_model_name_or_path = str((run / "base_model").resolve())  # PEFT's record
    config = TrainConfig()
    config.lora.enabled = True
    export_model(Accelerator(cpu=True), exported, processor, run / "best", {}, config_to_dict(config), False)
    return run / "best"


def test_a_lora_export_carries_its_base_and_loads_with_one_from_pretrained_anywhere(
    lora_setup, processor, tmp_path, monkeypatch
):
    model, batch, root = lora_setup
    run = tmp_path / "run"
    export_lora_run(model, processor, run)
    recorded = json.loads((run / "best" / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert recorded == "."  # the base is the adapter folder itself
    assert str(tmp_path) not in (run / "best" / "README.md").read_text()
    copied = tmp_path / "elsewhere" / "best"
    shutil.copytree(run / "best", copied)  # the export alone: no run folder, no `base_model/` beside it
    shutil.rmtree(run)
    (tmp_path / "third").mkdir()
    monkeypatch.chdir(tmp_path / "third")  # neither the export's folder nor its parent
    with torch.no_grad():
        loaded = AutoModelForSeq2SeqLM.from_pretrained(copied).eval()
        # the trained model itself, up to the rounding of other kernels (the weights are equal)
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, rtol=1e-4, atol=1e-4)


def test_a_lora_export_without_peft_refuses_in_one_line(lora_setup, processor, tmp_path, monkeypatch):
    """Without PEFT, transformers would load the export's base alone (another model): the model class refuses."""
    import unisign.models.unisign.modeling_unisign as modeling

    model, _, _ = lora_setup
    export = export_lora_run(model, processor, tmp_path / "run")
    for module in ("transformers.integrations.peft", "transformers.models.auto.auto_factory"):
        monkeypatch.setattr(f"{module}.is_peft_available", lambda: False)
    monkeypatch.setattr(modeling, "is_peft_available", lambda: False, raising=False)
    with pytest.raises(ImportError, match=r"holds a LoRA adapter beside its base model: .*`pip install peft`"):
        AutoModelForSeq2SeqLM.from_pretrained(export)
    AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "run" / "base_model")  # a folder without an adapter loads


def old_layout_export(export: Path) -> Path:
    """`export` as exports were written before the base travelled inside: the adapter names `../base_model`."""
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        (export / name).unlink()
    config_file = export / "adapter_config.json"
    adapter_config = json.loads(config_file.read_text()) | {"base_model_name_or_path": "../base_model"}
    config_file.write_text(json.dumps(adapter_config))
    write_checksums(export, "*.safetensors")
    return export


def save_clip(path: Path) -> Path:
    """A 10-frame reference `.pkl` clip for `unisign translate`."""
    from unisign import PoseSample
    from unisign.extraction import save_poses

    rng = np.random.default_rng(0)
    keypoints = (0.5 + 0.1 * rng.standard_normal((10, 133, 2))).astype(np.float32)
    save_poses(PoseSample("clip", keypoints, np.ones((10, 133), np.float32)), path)
    return path


TRANSLATE_OPTIONS = ["--device", "cpu", "--num-beams", "1", "--max-new-tokens", "4", "--no-progress"]


@pytest.mark.parametrize("layout", ["with-base", "old-beside-base"])
def test_a_copied_lora_export_loads_and_translates_from_another_folder(
    lora_setup, processor, tmp_path, monkeypatch, capsys, layout
):
    """`train.py`'s export copied alone; an older export (its base in `../base_model`) copied with its run."""
    from transformers import pipeline

    from unisign.apps import cli
    from unisign.apps.demo import DemoTranslator
    from unisign.models.unisign.pipeline_unisign import TASK

    model, batch, _ = lora_setup
    clip = save_clip(tmp_path / "clip.pkl")
    with torch.no_grad():  # the text the trained model itself gives, through a pipeline built on it in memory
        merged = copy.deepcopy(model).merge_and_unload()
        expected = pipeline(TASK, model=merged, processor=processor)(str(clip), num_beams=1, max_new_tokens=4)
    export = export_lora_run(model, processor, tmp_path / "run")
    if layout == "with-base":
        shutil.copytree(export, tmp_path / "copies" / "run" / "best")
    else:
        shutil.copytree(old_layout_export(export).parent, tmp_path / "copies" / "run")
    shutil.rmtree(tmp_path / "run")  # only the copy is left
    (tmp_path / "somewhere").mkdir()
    monkeypatch.chdir(tmp_path / "somewhere")  # neither the adapter's folder nor its parent
    adapter = Path("..", "copies", "run", "best")  # given relative to the current directory, as from a repository
    from unisign.apps import inference

    checked = []  # each folder's files are checked once: the adapter (with its base, exported together) and a base
    check_model_folder = inference.check_model_folder
    monkeypatch.setattr(
        inference,
        "check_model_folder",
        lambda path, **kwargs: checked.append(Path(path).resolve()) or check_model_folder(path, **kwargs),
    )
    cli.main(["translate", str(clip), "--model", str(adapter), *TRANSLATE_OPTIONS, "--verify"])
    assert capsys.readouterr().out == expected["translation_text"] + "\n"
    base = [] if layout == "with-base" else [(tmp_path / "copies" / "run" / "base_model").resolve()]
    assert checked == [adapter.resolve(), *base]
    monkeypatch.setattr(inference, "check_model_folder", check_model_folder)
    cli.main(["push", str(adapter), "someone/tiny-adapter", "--dry-run"])
    assert capsys.readouterr().out.startswith("Dry run: nothing was uploaded.")
    demo = DemoTranslator(str(adapter), workdir=tmp_path / "demo")
    assert demo.pipeline(str(clip), num_beams=1, max_new_tokens=4) == expected

    from unisign.apps.inference import load_adapter_model  # the one call that loads the model itself

    with torch.no_grad():
        loaded = load_adapter_model(adapter).eval()
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, rtol=1e-4, atol=1e-4)


def test_a_lora_export_without_its_base_gives_one_line_naming_it(lora_setup, processor, tmp_path, monkeypatch):
    from unisign.apps import cli

    model, _, _ = lora_setup
    clip = save_clip(tmp_path / "clip.pkl")
    old_layout_export(export_lora_run(model, processor, tmp_path / "run"))
    shutil.copytree(tmp_path / "run" / "best", tmp_path / "copied")  # the adapter without the base beside it
    monkeypatch.chdir(tmp_path / "run" / "best")  # where the relative base would be found from the current directory
    with pytest.raises(SystemExit) as raised:
        cli.main(["translate", str(clip), "--model", str(tmp_path / "copied"), *TRANSLATE_OPTIONS])
    message = raised.value.code
    assert isinstance(message, str) and "\n" not in message  # exit status 1 with one line, no traceback
    assert "LoRA adapter" in message and "`../base_model`" in message and str(tmp_path / "copied") in message
