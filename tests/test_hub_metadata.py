"""Hub metadata the Hub reads: `.eval_results/*.yaml` beside `model-index`, tags, and `auto_map` to a code repository.

`huggingface_hub` ships the `.eval_results` format as code (`EvalResultEntry`, `eval_result_entries_to_yaml`,
`parse_eval_result_entries`), not as a schema file: the files are checked against its documented fields (a list of
entries, each `dataset.id`, `dataset.task_id` and a numeric `value`; a `source` has a `url`) and must read back
through `parse_eval_result_entries` to exactly what they hold (no field the format does not know).
"""

import json
import shutil
import textwrap

import pytest
import torch
import yaml
from huggingface_hub import ModelCard, eval_result_entries_to_yaml, metadata_load, parse_eval_result_entries
from huggingface_hub.repocard_data import model_index_to_eval_results

from unisign.hub.eval_results import write_eval_results
from unisign.hub.model_card import export_card, write_reference_cards
from unisign.hub.push import upload_plan
from unisign.models.unisign.remote_code import SHIPPED_MODULES

from .test_model_cards import CARDS, PUBLISHED, RELEASED, multitask_settings
from .test_released import cache_repo
from .test_remote_code import build_folder, clip_arrays, run_fresh


DOCUMENTED_FIELDS = {"dataset", "value", "verifyToken", "date", "source", "notes"}


def read_eval_results(folder) -> list[dict]:
    """Every entry of `folder/.eval_results/*.yaml`, checked against the format's documented fields."""
    entries = []
    for path in sorted((folder / ".eval_results").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, list) and data, path
        for entry in data:
            assert set(entry) <= DOCUMENTED_FIELDS and {"dataset", "value"} <= set(entry), entry
            assert set(entry["dataset"]) <= {"id", "task_id", "revision"} and entry["dataset"]["id"], entry
            assert entry["dataset"]["task_id"] and isinstance(entry["value"], int | float), entry
            assert "source" not in entry or entry["source"]["url"].startswith("https://"), entry
        assert eval_result_entries_to_yaml(parse_eval_result_entries(data)) == data  # nothing the format drops
        entries += data
    return entries


def model_index_values(readme) -> list[float]:
    _, results = model_index_to_eval_results(metadata_load(readme)["model-index"])
    return [result.metric_value for result in results]


@pytest.mark.parametrize("name", RELEASED)
def test_released_cards_carry_their_published_scores_as_eval_results(name, tmp_path):
    entries = read_eval_results(CARDS / name)
    published = PUBLISHED.get(name, (None, {}))[1]
    assert sorted(entry["value"] for entry in entries) == sorted(published.values())
    if published:
        assert sorted(entry["value"] for entry in entries) == sorted(model_index_values(CARDS / name / "README.md"))
        assert {entry["source"]["url"] for entry in entries} == {"https://arxiv.org/abs/2501.15187"}
    write_reference_cards(tmp_path)  # the committed files are what the code writes
    committed = sorted(path.relative_to(CARDS / name) for path in (CARDS / name).rglob("*") if path.is_file())
    written = (tmp_path / name).rglob("*")
    assert committed == sorted(path.relative_to(tmp_path / name) for path in written if path.is_file())
    for path in committed:
        assert (CARDS / name / path).read_text() == (tmp_path / name / path).read_text(), path


def test_released_cards_tag_the_sign_language():
    for name, code in (("how2sign_pose_only_slt", "ase"), ("csl_daily_pose_only_slt", "csl")):
        data = ModelCard.load(CARDS / name / "README.md").data
        assert "sign-language" in data.tags and code in data.tags and code in data.language


def test_a_run_card_writes_its_scores_as_eval_results(tmp_path):
    validation = {"islr/top1_per_instance": 71.0, "cslr/wer": 33.3333, "slt/bleu4": 45.678}
    card = export_card(multitask_settings(), validation, {"SLT": {"bleu4": 40.0, "rouge_l": 55.5}})
    card.save(tmp_path / "README.md")
    written = write_eval_results(tmp_path, card)
    assert [path.name for path in written] == ["unisign-synthetic.yaml"]
    entries = read_eval_results(tmp_path)
    assert sorted(entry["value"] for entry in entries) == [33.33, 40.0, 45.68, 55.5, 71.0]
    assert sorted(entry["value"] for entry in entries) == sorted(model_index_values(tmp_path / "README.md"))
    assert len({entry["dataset"]["task_id"] for entry in entries}) == len(entries)  # one task id per score
    assert all("source" not in entry for entry in entries)  # measured here, not quoted


FRESH_SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor, pipeline

    assert importlib.util.find_spec("unisign") is None
    folder, expected_path = sys.argv[1:3]
    expected = torch.load(expected_path, weights_only=False)
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, trust_remote_code=True).eval()
    assert type(model).__module__.startswith("transformers_modules.org."), type(model).__module__
    tokens = model.generate(**processor(poses=[expected["clip"]], return_tensors="pt"), max_new_tokens=6, num_beams=1)
    assert torch.equal(tokens, expected["tokens"]), (tokens, expected["tokens"])
    translator = pipeline("sign-language-translation", model=folder, trust_remote_code=True)
    assert type(translator).__module__.startswith("transformers_modules.org.")
    print("ok")
    """
)


def test_card_code_repo_points_auto_map_to_one_code_repository(tmp_path, golden_dir, monkeypatch, bare_python):
    from unisign.apps import cli

    folder = tmp_path / "weights"
    model, processor = build_folder(folder, use_rgb=False)
    hub = tmp_path / "hub"
    code = cache_repo(hub, "org/unisign-code", "c" * 40)
    for name in SHIPPED_MODULES:
        shutil.copyfile(folder / name, code / name)
    cli.main(["card", str(folder), "--repo", "org/uni-sign-tiny", "--code-repo", "org/unisign-code"])
    assert not any((folder / name).exists() for name in SHIPPED_MODULES)  # one copy of the code: the code repo's
    config = json.loads((folder / "config.json").read_text())
    references = [*config["auto_map"].values(), config["custom_pipelines"]["sign-language-translation"]["impl"]]
    references += json.loads((folder / "processor_config.json").read_text())["auto_map"].values()
    assert references and all(reference.startswith("org/unisign-code--") for reference in references)
    assert not any(file.path_in_repo.endswith(".py") for file in upload_plan(folder, "org/uni-sign-tiny").files)
    clip = clip_arrays(12)
    tokens = model.generate(**processor(poses=[clip], return_tensors="pt"), max_new_tokens=6, num_beams=1)
    torch.save({"clip": clip, "tokens": tokens}, tmp_path / "expected.pt")
    (tmp_path / "fresh.py").write_text(FRESH_SCRIPT)
    python = bare_python  # the documented bare install: no unisign
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))  # the code repository, from the cache (`run_fresh` is offline)
    completed = run_fresh(python, tmp_path, tmp_path / "fresh.py", folder, tmp_path / "expected.pt")
    assert completed.returncode == 0 and completed.stdout.strip() == "ok", completed.stderr[-3000:]
