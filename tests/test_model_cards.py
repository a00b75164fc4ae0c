"""Model cards: the template renders, `model-index` parses back with huggingface_hub, and the eight released cards."""

import re
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from unisign.hub.model_card import TEMPLATE_PATH, export_card, reference_card, scores_by_task
from unisign.hub.released_checkpoints import REFERENCE_CHECKPOINTS
from unisign.training.arguments import TrainConfig, config_to_dict


REPO = Path(__file__).resolve().parents[1]
CARDS = REPO / "model_cards"
RELEASED = [
    "csl_stage1_weight",
    "csl_stage2_weight",
    "csl_daily_pose_only_slt",
    "csl_daily_rgb_pose_slt",
    "wlasl_pose_only_islr",
    "wlasl_rgb_pose_islr",
    "how2sign_pose_only_slt",
    "openasl_pose_only_slt",
]
# The published numbers (../shared/reference/UNISIGN.md, section 8), typed here independently of model_card.py:
# {checkpoint: (task name, {metric name: value})}
PUBLISHED = {
    "csl_daily_pose_only_slt": ("Sign language translation", {"BLEU-4": 25.61, "ROUGE-L": 54.92}),
    "csl_daily_rgb_pose_slt": ("Sign language translation", {"BLEU-4": 26.36, "ROUGE-L": 56.51}),
    "how2sign_pose_only_slt": ("Sign language translation", {"BLEU-4": 14.5, "ROUGE-L": 34.3}),
    "wlasl_rgb_pose_islr": (
        "Isolated sign language recognition",
        {"Top-1 accuracy per instance (%)": 63.52, "Top-1 accuracy per class (%)": 61.32},
    ),
}


def parsed_results(path: Path) -> list:
    """The `model-index` results of a card, parsed back by huggingface_hub."""
    metadata = metadata_load(path)
    name, results = model_index_to_eval_results(metadata["model-index"])
    assert name == ModelCard.load(path).data.model_name
    return results


def multitask_settings() -> dict:
    config = TrainConfig()
    config.data.task = ["ISLR", "CSLR", "SLT"]
    config.data.format, config.data.path = "synthetic", "/nowhere/synthetic"
    config.data.eval_split, config.data.test_split, config.data.language = "validation", "test", "en"
    config.model.text_config = {"d_model": 16}
    return config_to_dict(config)


def test_an_export_card_renders_and_its_model_index_parses_back(tmp_path):
    validation = {"islr/top1_per_instance": 71.0, "cslr/wer": 33.3333, "slt/bleu4": 45.678, "slt/rouge_l": 60.0}
    validation |= {"loss": 2.1, "score": 61.0}
    test = {
        "ISLR": {"top1_per_instance": 70.5, "top1_per_class": 69.25},
        "CSLR": {"wer": 35.125, "del_rate": 1.0},
        "SLT": {"bleu4": 41.0, "rouge_l": 62.5, "bleu1": 80.0},
    }
    card = export_card(multitask_settings(), validation, test, repo="user/model", num_parameters=1234)
    card.save(tmp_path / "README.md")
    results = parsed_results(tmp_path / "README.md")
    found = {(r.dataset_split, r.task_name, r.metric_name): r.metric_value for r in results}
    assert found == {
        ("test", "Isolated sign language recognition", "Top-1 accuracy per instance (%)"): 70.5,
        ("test", "Isolated sign language recognition", "Top-1 accuracy per class (%)"): 69.25,
        ("test", "Continuous sign language recognition (glosses)", "Word error rate (%)"): 35.12,
        ("test", "Sign language translation", "BLEU-4"): 41.0,
        ("test", "Sign language translation", "ROUGE-L"): 62.5,
        ("validation", "Isolated sign language recognition", "Top-1 accuracy per instance (%)"): 71.0,
        ("validation", "Continuous sign language recognition (glosses)", "Word error rate (%)"): 33.33,
        ("validation", "Sign language translation", "BLEU-4"): 45.68,
        ("validation", "Sign language translation", "ROUGE-L"): 60.0,
    }
    text = (tmp_path / "README.md").read_text()
    for section in (
        "## How to load and use it",
        "## Intended use",
        "## Training data",
        "## Limitations",
        "## Licence",
    ):
        assert section in text
    assert 'from_pretrained("user/model")' in text and "https://arxiv.org/abs/2501.15187" in text
    assert "@inproceedings{li2025unisign" in text and "1,234 parameters" in text
    assert ModelCard.load(tmp_path / "README.md").data.license == "apache-2.0"  # trained from scratch


def test_a_fine_tune_of_released_weights_carries_their_licence(tmp_path):
    settings = multitask_settings()
    settings["model"]["init_from"] = "converted/csl_stage1_weight"  # named as the released file
    card = export_card(settings, {})
    assert card.data.license == "cc-by-nc-4.0" and "CC BY-NC 4.0" in card.text
    assert card.data.eval_results is None
    parent = tmp_path / "best"  # a local parent: its card's licence
    parent.mkdir()
    (parent / "README.md").write_text("---\nlicense: cc-by-nc-sa-4.0\n---\n# parent\n")
    settings["model"]["init_from"] = str(parent)
    card = export_card(settings, {})
    assert card.data.license == "cc-by-nc-sa-4.0"
    prose = card.text.split("<details>")[0]  # the text; the settings record below it keeps them as given
    assert "./best" not in prose and str(tmp_path) not in card.text  # no local path names the parent
    (parent / "README.md").unlink()  # nothing records it: `other`, never no licence at all
    assert export_card(settings, {}).data.license == "other"


def test_a_shipped_config_pointed_at_own_data_claims_no_benchmark(tmp_path):
    settings = config_to_dict(TrainConfig())
    settings["data"].update(format="reference", dataset="WLASL", task="ISLR", language="en")
    settings["data"].update(train_labels="data/WLASL/labels-2000.train", eval_labels="data/WLASL/labels-2000.dev")
    shipped = export_card(settings, {"top1_per_instance": 50.0})
    assert {result.dataset_name for result in shipped.data.eval_results} == {"WLASL"}
    assert shipped.data.language == ["en", "ase"]
    own = tmp_path / "my-signs"
    settings["data"].update(train_labels=str(own / "labels.train"), eval_labels=str(own / "labels.dev"))
    card = export_card(settings, {"top1_per_instance": 50.0})
    assert card.data.eval_results is None and "model-index" not in str(card)
    assert "WLASL" not in str(card).split("<details>")[0]  # only the settings name the layout
    assert card.data.language == ["en"]  # which sign language own data holds is not recorded


def test_single_task_metrics_are_not_prefixed():
    assert scores_by_task({"bleu4": 3.0}, ("SLT",)) == {"SLT": {"bleu4": 3.0}}
    assert scores_by_task({"islr/top1_per_instance": 1.0, "loss": 2.0}, ("ISLR", "SLT")) == {
        "ISLR": {"top1_per_instance": 1.0}
    }


def test_the_template_is_in_model_cards():
    assert (CARDS / "template.md").resolve() == TEMPLATE_PATH.resolve()


@pytest.mark.parametrize("name", RELEASED)
def test_the_released_checkpoint_cards_parse_and_quote_only_published_numbers(name, tmp_path):
    path = CARDS / name / "README.md"
    card = ModelCard.load(path)
    assert card.data.license == "cc-by-nc-4.0" and card.data.base_model == "google/mt5-base"
    assert card.data.pipeline_tag == ("video-classification" if name.endswith("_islr") else "translation")
    assert card.data.library_name == "transformers"
    assert_shareable(path.read_text(), REPO)
    assert "@inproceedings{li2025unisign" in card.text and f"unisign convert {name}.pth" in card.text
    checkpoint = next(checkpoint for checkpoint in REFERENCE_CHECKPOINTS if checkpoint.name == name)
    reference_card(checkpoint).save(tmp_path / "README.md")
    assert path.read_text() == (tmp_path / "README.md").read_text()  # the committed card is what the code renders
    if name not in PUBLISHED:
        assert "model-index" not in metadata_load(path)
        assert checkpoint.no_score_reason and " ".join(checkpoint.no_score_reason.split()) in " ".join(
            card.text.split()
        )
        return
    task_name, metrics = PUBLISHED[name]
    results = parsed_results(path)
    assert {result.metric_name: result.metric_value for result in results} == metrics
    assert all(result.task_name == task_name and result.dataset_split == "test" for result in results)
    assert all(result.source_url == "https://arxiv.org/abs/2501.15187" for result in results)


def test_all_eight_released_checkpoints_have_a_card():
    assert sorted(checkpoint.name for checkpoint in REFERENCE_CHECKPOINTS) == sorted(RELEASED)
    assert sorted(path.parent.name for path in CARDS.glob("*/README.md")) == sorted(RELEASED)


# an absolute path as a card could show it: `/` after a space, quote, backtick or bracket (URLs have `://`)
ABSOLUTE_PATH = re.compile(r"(^|[\s`\"'(\[])/[\w.-]+/")


def assert_shareable(text: str, *local_roots: Path) -> None:
    """A card's text names no local path of this machine."""
    assert ABSOLUTE_PATH.search(text) is None, ABSOLUTE_PATH.search(text)
    assert not any(str(root) in text for root in local_roots)


def test_a_synthetic_run_is_not_tagged_as_a_sign_language_and_shows_no_local_path(tmp_path):
    settings = multitask_settings()
    settings["data"]["path"] = str(tmp_path / "synthetic-data")
    settings["training"]["output_dir"] = str(tmp_path / "run")
    settings["model"]["tokenizer"] = str(tmp_path / "run" / "tokenizer")
    card = export_card(settings, {"slt/bleu4": 3.0}, repo=None)
    assert card.data.language == ["en"]  # English text; the synthetic sign language is not ASL (`ase`)
    assert card.data.pipeline_tag == "translation"  # text for every task, not only ISLR's class
    assert card.data.library_name == "transformers" and card.data.datasets is None
    assert 'from_pretrained("your-username/' in card.text and "Replace `your-username/" in card.text
    assert_shareable(str(card), tmp_path)
    named = export_card(settings, {"slt/bleu4": 3.0}, repo="someone/tiny")
    assert 'from_pretrained("someone/tiny")' in named.text and "your-username" not in named.text


def test_real_data_gets_its_sign_language_and_a_hub_dataset_its_id(tmp_path):
    settings = config_to_dict(TrainConfig())
    settings["data"].update(format="reference", dataset="CSL_Daily", language="zh", pose_dir=str(tmp_path / "poses"))
    settings["model"]["init_from"] = str(tmp_path / "converted" / "csl_stage1_weight")
    card = export_card(settings, {"bleu4": 20.0, "rouge_l": 40.0})
    assert card.data.language == ["zh", "csl"] and card.data.pipeline_tag == "translation"
    assert card.data.base_model is None  # a local folder is not a Hub model
    assert "./csl_stage1_weight" not in card.text.split("<details>")[0] and card.data.license == "cc-by-nc-4.0"
    assert_shareable(str(card), tmp_path)
    (result,) = [r for r in card.data.eval_results if r.metric_type == "bleu"]
    assert (result.dataset_type, result.dataset_name, result.metric_value) == ("csl-daily", "CSL_Daily", 20.0)
    settings["data"].update(format="parquet", dataset=None, path="someone/pose-dataset", language="en")
    settings["model"].update(init_from=None, language_model="google/mt5-small")
    card = export_card(settings, {"bleu4": 20.0})
    assert card.data.datasets == ["someone/pose-dataset"] and card.data.base_model == "google/mt5-small"
    assert card.data.language == ["en"]  # which sign language a Parquet dataset holds is not recorded
