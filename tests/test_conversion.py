"""Converting the authors' checkpoints: key layout, duplicates, safe loading, and the `unisign convert` command."""

import json
import pickle
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoProcessor

from unisign import convert_reference_checkpoint
from unisign.convert_unisign_original_checkpoint import convert_reference_state_dict, load_reference_state_dict

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
    command = [sys.executable, "-m", "unisign.cli", "convert", str(checkpoint)]
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
