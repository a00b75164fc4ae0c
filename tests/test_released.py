"""The authors' checkpoints in one call (`unisign.from_released`), offline, from a simulated Hugging Face cache.

The cache is written in `huggingface_hub`'s layout (`models--org--name/refs/main` and `snapshots/<commit>/<file>`):
the authors' repository holds the tiny reference checkpoint under a released file name, `google/mt5-base` the tiny
mT5's config and tokenizer. `HF_HUB_OFFLINE` is on throughout, so nothing can come from the network.
"""

import shutil

import pytest
import torch
from huggingface_hub import ModelCard, constants
from safetensors.torch import load_file
from transformers import AutoProcessor

import unisign
from unisign.hub import released
from unisign.models.unisign import convert_unisign_original_checkpoint as converter
from unisign.utils.errors import InvalidInputError

from .modeling_helpers import load_golden_batch
from .test_golden_parity import RGB_PREFIXES


NAME = "how2sign_pose_only_slt"
AUTHORS_COMMIT = "a" * 40
MT5_COMMIT = "b" * 40


def cache_repo(cache, repo_id: str, commit: str):
    """The snapshot folder of `repo_id` at `commit` in a Hub cache, with `refs/main` pointing at it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    return snapshot


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty Hub cache and assets cache under `tmp_path`, with `HF_HUB_OFFLINE` on."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_ASSETS_CACHE", str(tmp_path / "assets"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"


def add_authors_checkpoint(cache, golden_dir) -> None:
    state = load_file(golden_dir / "official_state_dict.safetensors")
    pose_only = {key: value for key, value in state.items() if not key.startswith(RGB_PREFIXES)}
    torch.save({"model": pose_only}, cache_repo(cache, "ZechengLi19/Uni-Sign", AUTHORS_COMMIT) / f"{NAME}.pth")


def add_text_model(cache, golden_dir) -> None:
    shutil.copytree(golden_dir / "tiny-mt5", cache_repo(cache, "google/mt5-base", MT5_COMMIT), dirs_exist_ok=True)


@pytest.fixture
def released_cache(offline_cache, golden_dir):
    add_authors_checkpoint(offline_cache, golden_dir)
    add_text_model(offline_cache, golden_dir)
    return offline_cache


@pytest.fixture
def conversions(monkeypatch):
    """The calls of `convert_reference_checkpoint` (the released path imports it from the converter module)."""
    calls = []
    convert = converter.convert_reference_checkpoint

    def counting_convert(*args, **kwargs):
        calls.append(args[0])
        return convert(*args, **kwargs)

    monkeypatch.setattr(converter, "convert_reference_checkpoint", counting_convert)
    return calls


def test_one_call_converts_once_and_then_loads_from_the_cache(released_cache, golden_dir, conversions, monkeypatch):
    notices = []
    monkeypatch.setattr(released.logger, "warning", notices.append)
    model, processor = unisign.from_released(NAME)
    assert len(conversions) == 1 and conversions[0].name == f"{NAME}.pth"
    again, processor_again = unisign.from_released(f"released:{NAME}")
    assert len(conversions) == 1  # the second call loaded the cached folder
    assert len(notices) == 1 and "CC BY-NC 4.0" in notices[0]  # the licence, once, at the first download
    folder = constants.HF_ASSETS_CACHE + f"/unisign/converted/{NAME}-{AUTHORS_COMMIT}"
    assert str(again.name_or_path) == folder
    card = ModelCard.load(f"{folder}/README.md")
    assert card.data.license == "cc-by-nc-4.0" and card.data.language == ["en", "ase"]
    assert processor.language == processor_again.language == "en"  # How2Sign: English targets
    assert processor.prompt_text() == "Translate sign language video to English: "
    assert not model.config.use_rgb
    io, pose_inputs, _ = load_golden_batch(golden_dir)
    # the reference model's own beam-search output on the golden clips (computed by the authors' code)
    assert torch.equal(again.generate(**pose_inputs, max_new_tokens=12), io["pose_only.eval.generate_beam4"])


def test_the_command_line_takes_a_released_name(released_cache, tmp_path, conversions, capsys):
    from unisign.apps import cli

    cli.main(["convert", NAME, "--out", str(tmp_path / "out")])
    assert AutoProcessor.from_pretrained(tmp_path / "out").language == "en"
    assert ModelCard.load(tmp_path / "out" / "README.md").data.license == "cc-by-nc-4.0"
    folder = released.resolve_released_model(NAME)  # what `--model NAME` of translate, demo and evaluate use
    assert len(conversions) == 1 and released.resolve_released_model(NAME) == folder
    assert released.resolve_released_model(str(tmp_path / "out")) == str(tmp_path / "out")
    assert len(conversions) == 1


def test_a_local_folder_of_a_released_name_is_that_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert released.released_name(NAME) == NAME
    (tmp_path / NAME).mkdir()
    assert released.released_name(NAME) is None and released.released_name(f"released:{NAME}") == NAME
    with pytest.raises(InvalidInputError, match="No released Uni-Sign checkpoint is called 'how2sign'"):
        released.released_name("released:how2sign")


def test_offline_without_the_files_is_one_line_naming_them(offline_cache):
    with pytest.raises(InvalidInputError) as missing:
        unisign.from_released(NAME)
    message = str(missing.value)
    assert "\n" not in message and f"`{NAME}.pth` of ZechengLi19/Uni-Sign" in message
    assert "HF_HUB_OFFLINE=1" in message and f"hf download ZechengLi19/Uni-Sign {NAME}.pth" in message


def test_offline_without_the_text_model_names_it(offline_cache, golden_dir):
    add_authors_checkpoint(offline_cache, golden_dir)
    with pytest.raises(InvalidInputError, match=r"google/mt5-base.*hf download google/mt5-base config.json"):
        unisign.from_released(NAME)


def test_translate_reports_a_missing_released_checkpoint_in_one_line(offline_cache, tmp_path):
    from unisign.apps import cli

    clip = tmp_path / "clip.pkl"
    clip.write_bytes(b"")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["translate", str(clip), "--model", NAME, "--device", "cpu"])
    error = str(exit_info.value.code)
    assert error.startswith("unisign translate: error: ") and "\n" not in error
    assert f"hf download ZechengLi19/Uni-Sign {NAME}.pth" in error


def test_an_interrupted_conversion_leaves_nothing_that_looks_converted(released_cache, conversions, monkeypatch):
    save_converted = released.save_converted

    def interrupted(model, processor, out, *args):
        save_converted(model, processor, out, *args)
        raise KeyboardInterrupt  # after the folder is complete but before it is renamed into place

    monkeypatch.setattr(released, "save_converted", interrupted)
    with pytest.raises(KeyboardInterrupt):
        unisign.from_released(NAME)
    root = released.converted_root()
    assert list(root.iterdir()) == []  # neither the folder nor its partial copy
    monkeypatch.setattr(released, "save_converted", save_converted)
    model, _ = unisign.from_released(NAME)
    assert len(conversions) == 2 and [path.name for path in root.iterdir()] == [f"{NAME}-{AUTHORS_COMMIT}"]


def test_convert_of_a_file_still_needs_its_text_config(tmp_path):
    from unisign.apps import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["convert", str(tmp_path / "my_model.pth"), "--out", str(tmp_path / "out")])
    error = str(exit_info.value)
    assert error.startswith("unisign convert: error: `--text-config` is required") and "\n" not in error
