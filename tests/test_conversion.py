"""Converting the authors' checkpoints: key layout, duplicates, safe loading, and the `unisign convert` command."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoProcessor

from unisign import convert_reference_checkpoint
from unisign.models.unisign.convert_unisign_original_checkpoint import (
    convert_reference_state_dict,
    load_reference_state_dict,
)

from .modeling_helpers import load_golden_batch
from .test_golden_parity import RGB_PREFIXES


@pytest.fixture(scope="module")
def reference_state_dict(golden_dir):
    return load_file(golden_dir / "official_state_dict.safetensors")  # bf16, as the released files


@pytest.fixture(scope="module")
def text_config(golden_dir):
    return AutoConfig.from_pretrained(golden_dir / "tiny-mt5")


def test_pth_file_converts_like_the_state_dict(tmp_path, golden_dir, reference_state_dict, text_config):
    path = tmp_path / "csl_daily_rgb_pose_slt.pth"
    torch.save({"model": reference_state_dict}, path)
    from_file = convert_reference_checkpoint(path, text_config)
    from_dict = convert_reference_checkpoint(dict(reference_state_dict), text_config)
    assert from_file.config.use_rgb
    expected, actual = from_dict.state_dict(), from_file.state_dict()
    assert expected.keys() == actual.keys() and all(torch.equal(expected[k], actual[k]) for k in expected)
    _, _, rgb_inputs = load_golden_batch(golden_dir)
    assert torch.equal(
        from_file.generate(**rgb_inputs, max_new_tokens=5), from_dict.generate(**rgb_inputs, max_new_tokens=5)
    )


def test_every_kept_weight_is_used_and_duplicates_are_dropped(reference_state_dict):
    converted = convert_reference_state_dict(reference_state_dict)
    assert not any("left" in key or "fusion_pose_rgb_linear" in key for key in converted)
    assert not any(key.endswith(("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")) for key in converted)
    dropped = [
        k for k in reference_state_dict if ".left." in k or "embed_tokens" in k or "fusion_pose_rgb_linear" in k
    ]
    assert len(converted) == len(reference_state_dict) - len(dropped)


def test_duplicates_that_differ_are_refused(reference_state_dict):
    tampered = dict(reference_state_dict)
    tampered["proj_linear.left.weight"] = tampered["proj_linear.left.weight"] + 1
    with pytest.raises(ValueError, match="proj_linear.left.weight.*should equal.*proj_linear.right.weight"):
        convert_reference_state_dict(tampered)


def test_unknown_and_missing_keys_are_reported(reference_state_dict, text_config):
    with pytest.raises(ValueError, match="not part of Uni-Sign.*mystery.weight"):
        convert_reference_state_dict({**reference_state_dict, "mystery.weight": torch.zeros(1)})
    incomplete = {k: v for k, v in reference_state_dict.items() if k != "pose_proj.weight"}
    with pytest.raises(ValueError, match="missing.*pose_projection.weight"):
        convert_reference_checkpoint(incomplete, text_config)


def test_pose_only_checkpoint_in_an_rgb_model_keeps_pose_only_outputs(golden_dir, reference_state_dict, text_config):
    pose_only_state = {k: v.float() for k, v in reference_state_dict.items() if not k.startswith(RGB_PREFIXES)}
    pose_only = convert_reference_checkpoint(pose_only_state, text_config)
    with_rgb = convert_reference_checkpoint(pose_only_state, text_config, use_rgb=True)
    assert with_rgb.config.use_rgb and not pose_only.config.use_rgb
    io, pose_inputs, rgb_inputs = load_golden_batch(golden_dir)
    with torch.no_grad():
        expected = pose_only(**pose_inputs, labels=io["labels"]).logits
        actual = with_rgb(**rgb_inputs, labels=io["labels"]).logits
    torch.testing.assert_close(actual, expected)


class WritesAFile:
    """An object whose unpickling would run code: it creates a file."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_pickles_that_run_code_are_refused(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pth"
    with open(path, "wb") as file:
        pickle.dump({"model": WritesAFile(str(target))}, file)
    with pytest.raises(ValueError, match="weights_only=True"):
        load_reference_state_dict(path)
    assert not target.exists()


def test_bad_checkpoint_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_reference_state_dict(tmp_path / "missing.pth")
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="Expected a `.pth` or `.safetensors`"):
        load_reference_state_dict(tmp_path / "weights.npz")
    torch.save({"model": {"a": 1}}, tmp_path / "not_tensors.pth")
    with pytest.raises(ValueError, match="not a Uni-Sign checkpoint"):
        load_reference_state_dict(tmp_path / "not_tensors.pth")
    (tmp_path / "truncated.pth").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="could not be read"):
        load_reference_state_dict(tmp_path / "truncated.pth")


def test_convert_command_writes_a_folder_that_loads_in_one_call(tmp_path, golden_dir, reference_state_dict):
    checkpoint = tmp_path / "wlasl_pose_only_islr.pth"
    pose_only_state = {k: v for k, v in reference_state_dict.items() if not k.startswith(RGB_PREFIXES)}
    torch.save({"model": pose_only_state}, checkpoint)
    out = tmp_path / "converted"
    command = [sys.executable, "-m", "unisign.apps.cli", "convert", str(checkpoint)]
    command += ["--text-config", str(golden_dir / "tiny-mt5"), "--tokenizer", str(golden_dir / "tiny-mt5")]
    command += ["--out", str(out), "--max-frames", "64"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert {"config.json", "generation_config.json", "model.safetensors", "modeling_unisign.py"} <= {
        p.name for p in out.iterdir()
    }
    model = AutoModelForSeq2SeqLM.from_pretrained(out).eval()
    assert AutoProcessor.from_pretrained(out).feature_extractor.max_frames == 64 and not model.config.use_rgb
    io, pose_inputs, _ = load_golden_batch(golden_dir)
    assert torch.equal(model.generate(**pose_inputs, max_new_tokens=12), io["pose_only.eval.generate_beam4"])


def test_conversion_with_a_tokenizer_gives_a_processor_that_reproduces_the_golden_prompt(
    tmp_path, golden_dir, reference_state_dict, text_config
):
    model, processor = convert_reference_checkpoint(
        dict(reference_state_dict), text_config, tokenizer=golden_dir / "tiny-mt5", language="zh"
    )
    io, _, rgb_inputs = load_golden_batch(golden_dir)
    prompt = processor.tokenizer(processor.prompt_text())["input_ids"]
    assert prompt == io["prompt_ids"][0].tolist()
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    reloaded = AutoProcessor.from_pretrained(tmp_path)
    assert reloaded.prompt_text() == "Translate sign language video to Chinese: "
    assert reloaded.feature_extractor.max_frames == 256 and reloaded.video_processor.hand_crop_size == 112
    texts = reloaded.batch_decode(model.generate(**rgb_inputs, max_new_tokens=12))
    assert texts == json.loads((golden_dir / "meta.json").read_text())["decoded_beam4"]["rgb_pose"]


# The language of each released checkpoint, from the datasets its name says (CSL-News / CSL-Daily: Chinese;
# WLASL, How2Sign, OpenASL: English), typed here independently of `unisign.hub.released_checkpoints`.
RELEASED_LANGUAGES = {
    "csl_stage1_weight": "zh",
    "csl_stage2_weight": "zh",
    "csl_daily_pose_only_slt": "zh",
    "csl_daily_rgb_pose_slt": "zh",
    "wlasl_pose_only_islr": "en",
    "wlasl_rgb_pose_islr": "en",
    "how2sign_pose_only_slt": "en",
    "openasl_pose_only_slt": "en",
}
PROMPT_WORDS = {"zh": "Chinese", "en": "English"}


def convert_command(checkpoint, out, golden_dir, *extra) -> list[str]:
    tiny_mt5 = str(golden_dir / "tiny-mt5")
    return ["convert", str(checkpoint), "--text-config", tiny_mt5, "--tokenizer", tiny_mt5, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def converted_released(tmp_path_factory, golden_dir, reference_state_dict):
    """Each of the eight released file names converted with `unisign convert` and no `--language` (tiny weights)."""
    from safetensors.torch import save_file

    from unisign.apps import cli

    root = tmp_path_factory.mktemp("released")
    weights = {
        "rgb": root / "rgb.safetensors",
        "pose": root / "pose.safetensors",
    }
    save_file(dict(reference_state_dict), weights["rgb"])
    save_file({k: v for k, v in reference_state_dict.items() if not k.startswith(RGB_PREFIXES)}, weights["pose"])
    folders = {}
    for name in RELEASED_LANGUAGES:
        checkpoint = root / f"{name}.safetensors"
        checkpoint.symlink_to(weights["rgb" if "stage2" in name or "rgb" in name else "pose"])
        cli.main(convert_command(checkpoint, root / name, golden_dir))
        folders[name] = root / name
    return folders


@pytest.mark.parametrize("name", sorted(RELEASED_LANGUAGES))
def test_each_released_name_converts_to_its_language(converted_released, name):
    from huggingface_hub import ModelCard

    folder = converted_released[name]
    language = RELEASED_LANGUAGES[name]
    processor = AutoProcessor.from_pretrained(folder)
    assert processor.language == language
    assert processor.prompt_text() == f"Translate sign language video to {PROMPT_WORDS[language]}: "
    assert processor.feature_extractor.max_frames == (64 if name.endswith("_islr") else 256)  # ISLR: 64 frames
    config = AutoConfig.from_pretrained(folder)
    assert config.use_rgb == ("rgb" in name or "stage2" in name)
    card = ModelCard.load(folder / "README.md")
    assert card.data.language == [language, {"zh": "csl", "en": "ase"}[language]]
    assert f"default language, {PROMPT_WORDS[language]} (`{language}`)" in card.text
    assert str(folder.parent) not in card.content


def test_a_file_of_another_name_needs_its_language(tmp_path, golden_dir, reference_state_dict):
    from huggingface_hub import ModelCard

    from unisign.apps import cli

    checkpoint = tmp_path / "my_finetune.pth"
    torch.save(
        {"model": {k: v for k, v in reference_state_dict.items() if not k.startswith(RGB_PREFIXES)}}, checkpoint
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main(convert_command(checkpoint, tmp_path / "unknown", golden_dir))
    error = str(exit_info.value)  # the one line printed (a usage error: exit status 2)
    assert exit_info.value.code == 2
    assert error.startswith("unisign convert: error: Cannot tell the language of my_finetune.pth")
    assert "--language" in error and "\n" not in error and not (tmp_path / "unknown").exists()
    cli.main(convert_command(checkpoint, tmp_path / "english", golden_dir, "--language", "en"))
    assert AutoProcessor.from_pretrained(tmp_path / "english").language == "en"
    card = ModelCard.load(tmp_path / "english" / "README.md")
    assert card.data.language == ["en"]  # no sign-language tag: the folder does not say what it was trained on
    assert "my_finetune" in card.text and card.data.pipeline_tag == "translation"


def test_translate_speaks_the_language_of_an_english_folder(converted_released, tmp_path, monkeypatch, capsys):
    from unisign import PoseSample, UniSignProcessor
    from unisign.apps import cli
    from unisign.extraction import save_poses

    prompts = []
    prompt_text = UniSignProcessor.prompt_text

    def recording_prompt_text(self, language=None, task=None):
        prompts.append(prompt_text(self, language, task))
        return prompts[-1]

    monkeypatch.setattr(UniSignProcessor, "prompt_text", recording_prompt_text)
    rng = np.random.default_rng(0)
    keypoints = (0.5 + 0.1 * rng.standard_normal((10, 133, 2))).astype(np.float32)
    save_poses(PoseSample("clip", keypoints, np.ones((10, 133), np.float32)), tmp_path / "clip.pkl")
    folder = converted_released["how2sign_pose_only_slt"]
    arguments = ["translate", str(tmp_path / "clip.pkl"), "--model", str(folder), "--device", "cpu"]
    cli.main([*arguments, "--num-beams", "1", "--max-new-tokens", "3", "--no-progress"])
    assert prompts == ["Translate sign language video to English: "]
    assert capsys.readouterr().out.strip() != ""
