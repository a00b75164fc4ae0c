"""Hub sharing: what an upload of a model or dataset folder holds, the dry run, and the upload calls (never sent)."""

import json
import shutil

import huggingface_hub
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from unisign import PoseSample, UniSignForConditionalGeneration, UniSignProcessor
from unisign.data import samples_to_dataset_dict, save_pose_dataset
from unisign.hub.push import main, push_to_hub, upload_plan
from unisign.training.arguments import TrainConfig, config_to_dict
from unisign.training.export import write_model_card

from .modeling_helpers import tiny_config
from .training_helpers import make_tokenizer, random_clip


class NoNetwork:
    """Stands in for `HfApi`: records the calls a real upload would make, sends nothing."""

    calls: list = []

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))

    def create_commit(self, repo_id, operations, **kwargs):  # a Space upload (tests/test_space.py)
        self.calls.append(("create_commit", repo_id, operations, kwargs))


@pytest.fixture
def no_network(monkeypatch):
    NoNetwork.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", NoNetwork)
    return NoNetwork.calls


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A tiny exported model: weights, config, remote code, processor with its tokenizer, card, scores."""
    root = tmp_path_factory.mktemp("export")
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(root / "tokenizer"))
    torch.manual_seed(0)
    config = tiny_config()
    model = UniSignForConditionalGeneration(config)
    folder = root / "best"
    model.save_pretrained(folder)
    UniSignProcessor.from_model_config(config, tokenizer, language="en").save_pretrained(folder)
    (folder / "eval_results.json").write_text(json.dumps({"bleu4": 1.0}))
    write_model_card(folder, config_to_dict(TrainConfig()))
    (root / "best.tmp").mkdir()  # an interrupted export beside it is not part of the folder
    (folder / ".cache").mkdir()
    (folder / ".cache" / "lock").write_text("x")
    return folder


def test_the_dry_run_lists_every_file_a_model_needs_with_its_size_and_uploads_nothing(
    model_folder, no_network, tmp_path
):
    from unisign.hub.model_card import make_shareable

    plan = push_to_hub(model_folder, "someone/tiny", dry_run=True)
    assert no_network == []  # no Hub client was even created
    listed = {file.path_in_repo: file for file in plan.files}
    expected = {path.name for path in model_folder.iterdir() if path.is_file()}
    scores = {f".eval_results/{path.name}" for path in (model_folder / ".eval_results").glob("*.yaml")}
    # all but hidden files, the Hub's `.eval_results` excepted (none here: the default settings name no dataset that
    # others can find, so the card claims no `model-index`; tests/test_hub_metadata.py covers a run with them)
    assert set(listed) == expected | scores
    kinds = {file.kind for file in plan.files}
    assert {"config", "weights", "processor", "tokenizer", "model card", "code"} <= kinds
    assert listed["config.json"].kind == "config" and listed["model.safetensors"].kind == "weights"
    assert {listed[name].kind for name in ("modeling_unisign.py", "configuration_unisign.py", "keypoints.py")} == {
        "code"
    }
    assert listed["processor_config.json"].kind == "processor" and listed["tokenizer.json"].kind == "tokenizer"
    assert listed["README.md"].kind == "model card"
    written = tmp_path / "written"  # the placeholder card is replaced by the upload: the listing gives the new one
    shutil.copytree(model_folder, written)
    make_shareable(written, "someone/tiny")
    assert listed["README.md"].size == (written / "README.md").stat().st_size
    for name, file in listed.items():
        if name not in ("README.md", "config.json", "processor_config.json"):  # the last two gain `auto_map` entries
            assert file.size == (model_folder / name).stat().st_size
    assert plan.total_size == sum(file.size for file in plan.files)
    summary = plan.summary()
    assert "model repository someone/tiny" in summary and f"{len(listed)} files" in summary
    assert all(name in summary for name in listed)


def test_a_folder_without_a_card_has_its_weights_checked_once(model_folder, tmp_path, no_network, monkeypatch, capsys):
    """`push` first writes the missing card (`make_shareable`, which checks the folder before writing): the listing
    does not read and check the weights a second time. With its card, the listing checks them itself."""
    import unisign.utils.validation

    folder = tmp_path / "without-card"
    shutil.copytree(model_folder, folder)
    (folder / "README.md").unlink()
    checked = []
    check = unisign.utils.validation.check_safetensors_file
    monkeypatch.setattr(
        unisign.utils.validation,
        "check_safetensors_file",
        lambda path, **options: checked.append(path.name) or check(path, **options),
    )
    main([str(folder), "someone/tiny", "--dry-run"])
    assert capsys.readouterr().out.startswith("Dry run: nothing was uploaded.")
    assert not (folder / "README.md").exists()  # a dry run writes nothing
    assert checked == ["model.safetensors"]
    main([str(folder), "someone/tiny", "--dry-run"])
    assert checked == ["model.safetensors"] * 2
    assert no_network == []


def test_an_upload_sends_exactly_the_planned_files(model_folder, no_network):
    plan = push_to_hub(model_folder, "someone/tiny", private=True, token="hf_test", commit_message="tiny")
    assert no_network[0] == ("init", "hf_test")
    assert no_network[1] == ("create_repo", "someone/tiny", {"repo_type": "model", "private": True, "exist_ok": True})
    ((_, upload),) = no_network[2:]
    assert upload["repo_id"] == "someone/tiny" and upload["repo_type"] == "model"
    assert upload["folder_path"] == str(model_folder) and upload["commit_message"] == "tiny"
    assert upload["allow_patterns"] == [file.path_in_repo for file in plan.files]


def test_a_folder_missing_what_from_pretrained_needs_is_refused(model_folder, tmp_path, no_network):
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    for name in ("config.json", "model.safetensors", "README.md"):
        (incomplete / name).write_bytes((model_folder / name).read_bytes())
    with pytest.raises(ValueError, match="processor, tokenizer, code"):
        push_to_hub(incomplete, "someone/tiny", dry_run=True)
    with pytest.raises(ValueError, match="user/name"):
        push_to_hub(model_folder, "no-namespace", dry_run=True)
    with pytest.raises(ValueError, match="neither a model folder"):
        upload_plan(tmp_path / "incomplete" / "..", "someone/tiny")
    with pytest.raises(ValueError, match="not a folder"):
        upload_plan(tmp_path / "missing", "someone/tiny")
    assert no_network == []


def test_a_generated_dataset_uploads_its_card_and_parquet_files(tmp_path, no_network):
    from unisign.synthetic import generate_dataset

    folder = tmp_path / "synthetic"
    generate_dataset(folder, num_train=4, num_validation=2, num_test=2, num_train_signers=1)
    plan = push_to_hub(folder, "someone/synthetic-signs", dry_run=True)
    assert plan.repo_type == "dataset"
    kinds = {file.path_in_repo: file.kind for file in plan.files}
    assert kinds["README.md"] == "dataset card" and kinds["generation.json"] == "other"
    assert sorted(path for path, kind in kinds.items() if kind == "data") == sorted(
        path.relative_to(folder).as_posix() for path in folder.glob("data/*.parquet")
    )
    push_to_hub(folder, "someone/synthetic-signs")
    assert no_network[1][2]["repo_type"] == "dataset"


def test_a_saved_pose_dataset_without_card_is_refused(tmp_path):
    keypoints, scores = random_clip(np.random.default_rng(0), frames=4)
    sample = PoseSample("a", keypoints, scores, 64, 48, text="hi")
    save_pose_dataset(samples_to_dataset_dict({"train": [sample]}), tmp_path / "poses")
    with pytest.raises(ValueError, match="dataset card"):
        upload_plan(tmp_path / "poses", "someone/poses")


def test_the_command_line_dry_run_prints_the_list(model_folder, no_network, capsys):
    main([str(model_folder), "someone/tiny", "--dry-run"])
    output = capsys.readouterr().out
    assert output.startswith("Dry run: nothing was uploaded.") and "model.safetensors" in output
    assert no_network == []


def folder_state(folder) -> dict:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def test_a_dry_run_writes_nothing_and_lists_what_the_upload_would_write(model_folder, tmp_path, no_network, capsys):
    from unisign.models.unisign.remote_code import SHIPPED_MODULES

    folder = tmp_path / "bare"
    shutil.copytree(model_folder, folder)
    (folder / "README.md").unlink()
    for name in SHIPPED_MODULES:
        (folder / name).unlink()
    before = folder_state(folder)
    plan = push_to_hub(folder, "someone/tiny", dry_run=True)
    assert folder_state(folder) == before
    listed = {file.path_in_repo: file for file in plan.files}
    assert {"README.md", *SHIPPED_MODULES} <= set(listed) and listed["README.md"].kind == "model card"
    assert listed["modeling_unisign.py"].kind == "code" and listed["README.md"].size > 1000
    assert no_network == []


@pytest.mark.parametrize("repo", ["a/b/c", "user/na--me", "user/-model", "user/model.git", "user/" + "x" * 100])
def test_hub_ids_the_hub_would_refuse_are_refused_before_any_write(repo, model_folder, tmp_path, capsys):
    from unisign.apps import cli

    folder = tmp_path / "folder"
    shutil.copytree(model_folder, folder)
    (folder / "README.md").unlink()
    before = folder_state(folder)
    for argv in (["card", str(folder), "--repo", repo], ["push", str(folder), repo, "--dry-run"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
        assert "is not a valid Hub id" in capsys.readouterr().err or "user/name" in str(exit_info.value)
    assert folder_state(folder) == before


def test_card_refuses_symlinks_and_other_models_before_writing(model_folder, tmp_path, capsys):
    from unisign.apps import cli

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "README.md").write_text("my notes\n")
    (outside / "pipeline_unisign.py").write_text("# mine\n")
    folder = tmp_path / "linked"
    shutil.copytree(model_folder, folder)
    for name in ("README.md", "pipeline_unisign.py"):
        (folder / name).unlink()
        (folder / name).symlink_to(outside / name)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["card", str(folder), "--repo", "someone/tiny"])
    assert "symbolic links" in str(exit_info.value.code) and "\n" not in str(exit_info.value.code)
    assert (outside / "README.md").read_text() == "my notes\n"
    assert (outside / "pipeline_unisign.py").read_text() == "# mine\n"

    mt5 = tmp_path / "mt5"
    mt5.mkdir()
    (mt5 / "config.json").write_text(json.dumps({"model_type": "mt5", "d_model": 8}))
    (mt5 / "README.md").write_text("the user's card\n")
    before = folder_state(mt5)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["card", str(mt5)])
    assert "'mt5' model, not a Uni-Sign one" in str(exit_info.value.code)
    assert folder_state(mt5) == before


def test_card_on_a_full_disk_leaves_the_old_card_whole(model_folder, tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    from unisign.apps import cli

    folder = tmp_path / "folder"
    shutil.copytree(model_folder, folder)
    old = (folder / "README.md").read_bytes()

    write_text = Path.write_text

    def full_disk(self, text, *args, **kwargs):  # the card's temporary file (`write_text_atomic`) fills the disk
        if not self.name.startswith(".README.md."):
            return write_text(self, text, *args, **kwargs)
        write_text(self, text[:100], *args, **kwargs)  # what fitted
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["card", str(folder), "--repo", "someone/tiny"])
    assert "No space left on device" in str(exit_info.value.code)
    assert (folder / "README.md").read_bytes() == old
    assert not [path for path in folder.iterdir() if path.name.endswith(".tmp")]


def test_a_truncated_remote_code_file_is_refused_by_the_dry_run(model_folder, tmp_path, no_network):
    folder = tmp_path / "folder"
    shutil.copytree(model_folder, folder)
    from unisign.hub.model_card import make_shareable

    make_shareable(folder, "someone/tiny")  # a real card: the dry run lists the folder as it is
    code = (folder / "modeling_unisign.py").read_text()
    cut = code.index("\n    def ", len(code) // 3) + len("\n    def ") + 3  # in the middle of a `def` line
    (folder / "modeling_unisign.py").write_text(code[:cut])
    with pytest.raises(ValueError, match=r"modeling_unisign.py` is damaged \(cut short\?\)"):
        push_to_hub(folder, "someone/tiny", dry_run=True)
