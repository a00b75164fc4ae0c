"""Any folder can be shared: `unisign card` then `unisign push --dry-run` for converted, `Seq2SeqTrainer` and PEFT
folders; the cards parse with huggingface_hub, say what is known and name no local path."""

import json

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard, ModelCardData
from safetensors.torch import load_file
from transformers import AutoTokenizer, Seq2SeqTrainer, Seq2SeqTrainingArguments

from unisign import UniSignForConditionalGeneration, UniSignProcessor
from unisign.apps import cli
from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor
from unisign.models.unisign.processing_unisign import UniSignDataCollator
from unisign.training.arguments import TrainConfig
from unisign.training.setup import apply_lora

from .modeling_helpers import tiny_config
from .test_golden_parity import RGB_PREFIXES
from .test_model_cards import assert_shareable
from .training_helpers import WORDS, make_tokenizer, random_clip


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    return UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, language="en")


def tiny_model(processor):
    torch.manual_seed(0)
    text_config = {"vocab_size": len(processor.tokenizer), "d_model": 16, "d_kv": 8, "d_ff": 32, "num_heads": 2}
    text_config.update(num_layers=1, num_decoder_layers=1, dropout_rate=0.0)
    return UniSignForConditionalGeneration(tiny_config(text_config=text_config))


def samples(processor, count=4):
    rng = np.random.default_rng(0)
    return [
        processor.encode_sample(random_clip(rng, frames=6), text=f"{WORDS[i]} {WORDS[i + 1]}") for i in range(count)
    ]


@pytest.fixture(scope="module")
def folders(tmp_path_factory, processor, golden_dir):
    """A converted folder, a `Seq2SeqTrainer` folder (with its evaluation scores) and a PEFT adapter folder."""
    root = tmp_path_factory.mktemp("share")
    weights = load_file(golden_dir / "official_state_dict.safetensors")
    torch.save({"model": {k: v for k, v in weights.items() if not k.startswith(RGB_PREFIXES)}}, root / "x.pth")
    (root / "x.pth").rename(root / "how2sign_pose_only_slt.pth")
    tiny_mt5 = str(golden_dir / "tiny-mt5")
    command = ["convert", str(root / "how2sign_pose_only_slt.pth"), "--text-config", tiny_mt5, "--tokenizer", tiny_mt5]
    cli.main([*command, "--out", str(root / "converted")])

    arguments = Seq2SeqTrainingArguments(
        output_dir=str(root / "trainer-run"),
        per_device_train_batch_size=2,
        max_steps=2,
        remove_unused_columns=False,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
    )
    encoded = samples(processor)
    trainer = Seq2SeqTrainer(
        model=tiny_model(processor),
        args=arguments,
        train_dataset=encoded,
        data_collator=UniSignDataCollator(processor),
        processing_class=processor,
    )
    trainer.train()
    trainer.save_model(root / "trainer")
    trainer.save_state()
    (root / "trainer" / "eval_results.json").write_text(json.dumps({"eval_loss": 3.2, "eval_bleu4": 12.5}))

    base = tiny_model(processor)
    base.save_pretrained(root / "base")
    base.name_or_path = base.config._name_or_path = str(root / "base")
    config = TrainConfig()
    config.lora.enabled = True
    apply_lora(base, config).save_pretrained(root / "adapter")
    return {name: root / name for name in ("converted", "trainer", "adapter")}


@pytest.mark.parametrize("kind", ["converted", "trainer", "adapter"])
def test_a_folder_gets_a_card_and_the_dry_run_accepts_it(folders, kind, capsys):
    folder = folders[kind]
    if kind == "trainer":
        assert not (folder / "README.md").exists()
    if kind == "adapter":  # PEFT saves a template card, which names the base by its absolute path
        assert "[More Information Needed]" in (folder / "README.md").read_text()
    cli.main(["card", str(folder), "--repo", "someone/tiny"])
    assert "Wrote README.md" in capsys.readouterr().out
    cli.main(["push", str(folder), "someone/tiny", "--dry-run"])
    listing = capsys.readouterr().out
    assert listing.startswith("Dry run: nothing was uploaded.") and "README.md" in listing

    text = (folder / "README.md").read_text()
    card = ModelCard.load(folder / "README.md")
    data = ModelCardData(**card.data.to_dict())  # the front matter round-trips through huggingface_hub's class
    assert data.pipeline_tag == "translation" and data.model_name
    assert 'from_pretrained("someone/tiny")' in text and "your-username" not in text
    assert_shareable(text, folder.parent)
    if kind == "converted":
        assert data.language == ["en", "ase"] and data.license == "cc-by-nc-4.0"
        assert data.base_model == "google/mt5-base" and len(data.eval_results) == 2  # How2Sign's published scores
    if kind == "trainer":
        assert data.language == ["en"] and data.library_name == "transformers"
        assert "Seq2SeqTrainer" in text and "| 12.50 |" in text  # its recorded score, with where it comes from
        assert data.eval_results is None  # the folder does not say which dataset the score is on
        assert "modeling_unisign.py" in listing  # remote code was added for the Hub
    if kind == "adapter":
        assert data.library_name == "peft" and data.base_model is None  # its base is a local folder
        assert "AutoPeftModelForSeq2SeqLM" in text and "./base" in text
