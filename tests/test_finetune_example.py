"""The fine-tuning recipe (`examples/finetune_with_trainer.py`) on tiny data: loss falls, generation settings hold."""

import json
import logging
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, GenerationConfig
from transformers.utils import logging as hf_logging

from unisign import UniSignForConditionalGeneration, UniSignProcessor
from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor

from .modeling_helpers import tiny_config
from .training_helpers import load_script, make_pose_dataset, make_tokenizer


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "finetune_with_trainer.py"


@pytest.fixture(scope="module")
def example():
    return load_script(EXAMPLE, "finetune_with_trainer")


@pytest.fixture(scope="module")
def tiny_model_folder(tmp_path_factory):
    """A small random Uni-Sign model with an English processor, as docs/finetune.md builds one for CPU experiments."""
    root = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(root / "tokenizer"))
    text_config = {"vocab_size": len(tokenizer), "d_model": 32, "d_kv": 8, "d_ff": 64, "num_heads": 2}
    text_config.update(num_layers=1, num_decoder_layers=1, dropout_rate=0.0)
    config = tiny_config(text_config=text_config)
    torch.manual_seed(0)
    UniSignForConditionalGeneration(config).save_pretrained(root / "model")
    UniSignProcessor(UniSignPoseFeatureExtractor(max_frames=16), tokenizer, language="en").save_pretrained(
        root / "model"
    )
    return root / "model", make_pose_dataset(root / "data", num_train=8, num_dev=4)


@pytest.mark.parametrize("lora", [False, True])
def test_the_recipe_trains_scores_and_honours_the_generation_settings(
    example, tiny_model_folder, tmp_path, lora, caplog
):
    model, data = tiny_model_folder
    arguments = ["--model", str(model), "--data", str(data), "--output-dir", str(tmp_path), "--max-steps", "12"]
    arguments += ["--batch-size", "4", "--learning-rate", "1e-2", "--eval-steps", "12"]
    arguments += ["--generation-max-length", "3", "--generation-num-beams", "2", *(["--lora"] if lora else [])]
    hf_logging.enable_propagation()  # transformers' loggers do not reach pytest's otherwise
    try:
        with caplog.at_level(logging.WARNING):
            trainer = example.main(arguments)
    finally:
        hf_logging.disable_propagation()
    losses = [record["loss"] for record in trainer.state.log_history if "loss" in record]
    assert len(losses) >= 3 and losses[-1] < 0.7 * losses[0]
    assert "max_new_tokens" not in caplog.text  # no "both max_new_tokens and max_length" warning per batch
    generated = trainer.predict(trainer.eval_dataset).predictions  # padded by the Trainer to 20 columns
    pad_token_id = trainer.processing_class.tokenizer.pad_token_id
    assert (generated[:, 3:] == pad_token_id).all()  # `generation_max_length` 3: start token and two more at most
    assert (generated[:, 1:3] != pad_token_id).any()
    saved = GenerationConfig.from_pretrained(tmp_path)  # what `generate` and `pipeline()` use with the shared folder
    assert (saved.max_length, saved.max_new_tokens, saved.num_beams) == (3, None, 2)
    scores = json.loads((tmp_path / "eval_results.json").read_text())
    assert {"eval_bleu4", "eval_rouge_l"} <= set(scores)
    assert (tmp_path / ("adapter_config.json" if lora else "config.json")).is_file()
    assert (tmp_path / "processor_config.json").is_file()
