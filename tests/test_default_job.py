"""The main job (`python train.py`: configs/default_synthetic.yaml) at a tiny size, and the multi-task pieces."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results
from PIL import Image
from transformers import AutoModelForSeq2SeqLM, AutoProcessor, AutoTokenizer

from unisign import PoseSample, UniSignConfig, UniSignProcessor
from unisign.training import load_config, train
from unisign.training.loop import multitask_score, selection_metric
from unisign.training.tokenizer import train_sentencepiece_tokenizer

from .training_helpers import TINY_POSE, make_tokenizer, random_clip


REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "default_synthetic.yaml"
TINY_LM = {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2}


def tiny_default_overrides(root: Path) -> list[str]:
    """The default job's settings, shrunk to seconds: a tiny dataset, model and run."""
    overrides = [
        f"data.path={root / 'data'}",
        "data.synthetic.num_train=40",
        "data.synthetic.num_validation=8",
        "data.synthetic.num_test=8",
        "data.synthetic.num_test2=6",
        "data.synthetic.num_train_signers=3",
        "data.synthetic.num_validation_signers=1",
        "data.synthetic.num_test_signers=1",
        "data.synthetic.num_test2_signers=1",
        f"training.output_dir={root / 'run'}",
        "training.max_steps=4",
        "training.eval_every=2",
        "training.batch_size=8",
        "training.eval_batch_size=8",
        "training.eval_max_new_tokens=6",
        "training.log_every=1",
        "model.new_tokenizer_vocab_size=120",
    ]
    overrides += [f"model.text_config.{key}={value}" for key, value in TINY_LM.items()]
    overrides += [f"model.config.{key}={json.dumps(value)}" for key, value in TINY_POSE.items()]
    return overrides


@pytest.fixture(scope="module")
def tiny_main_job(tmp_path_factory):
    """`python train.py` (no --config: the default job) at a tiny size, with a dry-run upload at the end."""
    root = tmp_path_factory.mktemp("main_job")
    command = [sys.executable, str(REPO / "train.py"), "--push-to-hub", "someone/tiny-unisign", "--dry-run"]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    completed = subprocess.run(
        command + tiny_default_overrides(root), capture_output=True, text=True, env=environment, timeout=600, cwd=REPO
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return root, completed.stdout


def test_the_default_job_generates_trains_tests_exports_and_prints_translations(tiny_main_job):
    root, stdout = tiny_main_job
    run = root / "run"
    assert (root / "data" / "generation.json").is_file()  # the generated data is cached there
    assert (run / "tokenizer" / "spiece.model").is_file()
    for task in ("ISLR", "CSLR", "SLT"):
        assert f"{task} examples (test split):" in stdout
    assert stdout.count("prediction:") == stdout.count("reference:") >= 3
    scores = json.loads((run / "test" / "scores.json").read_text())
    assert set(scores) == {"ISLR", "CSLR", "SLT"}
    assert {"top1_per_instance", "wer", "bleu4"} <= set(scores["ISLR"]) | set(scores["CSLR"]) | set(scores["SLT"])
    # every test clip was translated for each of its tasks: isolated clips for ISLR, sentences for CSLR and SLT
    references = {
        task: [line.split("ground-truth: ", 1)[1] for line in (run / "test" / task / "test_references.txt").open()]
        for task in ("islr", "cslr", "slt")
    }
    assert len(references["cslr"]) == len(references["slt"])
    assert len(references["islr"]) + len(references["slt"]) == 8
    # the second test set (another seed, other signers) is scored the same way, into its own folder
    second = json.loads((run / "test" / "test2" / "scores.json").read_text())
    assert set(second) == {"ISLR", "CSLR", "SLT"}
    second_clips = {
        line.split("sample: ", 1)[1].split(",", 1)[0]
        for task in ("islr", "slt")
        for line in (run / "test" / "test2" / task / "test2_references.txt").open()
    }
    assert len(second_clips) == 6 and all(name.startswith("test2-") for name in second_clips)
    assert "Scores on the test split" in stdout and "Scores on the test2 split" in stdout
    assert all(reference.strip().isupper() for reference in references["cslr"])  # glosses
    assert all(len(reference.split()) == 1 for reference in references["islr"])  # one word
    # the learning curves were logged per task and drawn
    logged = [json.loads(line) for line in (run / "logs" / "train_log.jsonl").read_text().splitlines()]
    assert any("eval/islr/top1_per_instance" in record and "eval/score" in record for record in logged)
    assert Image.open(run / "learning_curves.png").size == (1280, 420)
    assert "Dry run: nothing was uploaded." in stdout and "model repository someone/tiny-unisign" in stdout
    for listed in ("config.json", "model.safetensors", "processor_config.json", "tokenizer.json", "README.md"):
        assert f"  {listed} " in stdout


def test_the_export_reloads_with_one_call_and_translates_with_each_task_prompt(tiny_main_job):
    root, _ = tiny_main_job
    export = root / "run" / "best"
    model = AutoModelForSeq2SeqLM.from_pretrained(export).eval()
    processor = AutoProcessor.from_pretrained(export)
    keypoints, scores = random_clip(np.random.default_rng(0), frames=20)
    prompts = set()
    for task in ("ISLR", "CSLR", "SLT"):
        inputs = processor(poses=[(keypoints, scores)], language="en", task=task, return_tensors="pt")
        prompts.add(tuple(inputs["input_ids"][0].tolist()))
        (text,) = processor.batch_decode(model.generate(**inputs, max_new_tokens=5, num_beams=1))
        assert isinstance(text, str)
    assert len(prompts) == 3  # one prompt per task
    card = metadata_load(export / "README.md")
    results = model_index_to_eval_results(card["model-index"])[1]
    test_results = {(r.task_name, r.metric_type): r.metric_value for r in results if r.dataset_split == "test"}
    scores = json.loads((root / "run" / "test" / "scores.json").read_text())
    assert test_results[("Continuous sign language recognition (glosses)", "wer")] == round(scores["CSLR"]["wer"], 2)
    assert test_results[("Sign language translation", "bleu")] == round(scores["SLT"]["bleu4"], 2)
    assert card["license"] == "apache-2.0"
    # `--push-to-hub someone/tiny-unisign`: the card shows the Hub id, English text and no sign language (synthetic)
    text = (export / "README.md").read_text()
    assert 'from_pretrained("someone/tiny-unisign")' in text and str(root) not in text
    assert card["language"] == ["en"] and card["pipeline_tag"] == "translation"  # text for each of its tasks


def test_the_default_config_is_a_multitask_synthetic_run_with_a_prompt_per_task():
    config = load_config(DEFAULT_CONFIG)
    assert config.data.format == "synthetic" and config.data.tasks == ("ISLR", "CSLR", "SLT")
    assert config.data.test_split == "test" and config.data.eval_split == "validation"
    assert config.data.extra_test_splits == ["test2"] and config.data.synthetic["num_test2"] > 0
    prompts = config.model.prompts
    assert len({prompts[f"en/{task}"] for task in config.data.tasks}) == 3
    assert config.model.text_config and config.model.new_tokenizer_vocab_size and not config.model.tokenizer
    assert selection_metric(config.data) == ("score", True)


# -- multi-task dataset ------------------------------------------------------------------------------------------


def clip(index: int, tasks: list[str] | None, text: str, gloss: list[str]) -> PoseSample:
    keypoints, scores = random_clip(np.random.default_rng(index), frames=6)
    extra = {} if tasks is None else {"tasks": tasks}
    return PoseSample(f"clip-{index}", keypoints, scores, 64, 48, text=text, gloss=gloss, extra=extra)


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    tokenizer = AutoTokenizer.from_pretrained(make_tokenizer(tmp_path_factory.mktemp("tokenizer")))
    config = UniSignConfig(text_config={"vocab_size": len(tokenizer), **TINY_LM}, **TINY_POSE)
    prompts = {"en": "Translate sign language video to English: ", "en/ISLR": "sign", "en/CSLR": "video"}
    return UniSignProcessor.from_model_config(config, tokenizer, prompts=prompts, language="en")


def test_multitask_items_carry_their_task_prompt_and_target(processor):
    from unisign.data.dataset import SignDataset

    samples = [
        clip(0, ["islr"], "happy", ["HAPPY"]),
        clip(1, ["cslr", "slt"], "I go home", ["I", "GO", "HOME"]),
        clip(2, None, "you come", ["YOU", "COME"]),  # no task list: every task of the dataset
    ]
    dataset = SignDataset(samples, processor, ("ISLR", "CSLR", "SLT"), "en", train=False)
    expected = [
        ("clip-0", "ISLR", "happy"),
        ("clip-1", "CSLR", "I GO HOME"),
        ("clip-1", "SLT", "I go home"),
        ("clip-2", "ISLR", "you come"),
        ("clip-2", "CSLR", "YOU COME"),
        ("clip-2", "SLT", "you come"),
    ]
    assert [(dataset.sample(i).id, dataset.item_task(i), dataset.target(i)) for i in range(len(dataset))] == expected
    assert dataset.targets() == [target for _, _, target in expected]
    tokenizer = processor.tokenizer
    prompt_ids = {
        "ISLR": tokenizer("sign")["input_ids"],
        "CSLR": tokenizer("video")["input_ids"],
        "SLT": tokenizer("Translate sign language video to English: ")["input_ids"],
    }
    for index, (_, task, target) in enumerate(expected):
        item = dataset[index]
        assert item["input_ids"].tolist() == prompt_ids[task]
        assert item["labels"].tolist() == tokenizer(target)["input_ids"]
    slt = dataset.for_task("SLT")
    assert slt.task == "SLT" and [slt.sample(i).id for i in range(len(slt))] == ["clip-1", "clip-2"]
    with pytest.raises(ValueError, match="several tasks"):
        dataset.task  # noqa: B018


def test_every_task_of_a_dataset_needs_clips(processor):
    from unisign.data.dataset import SignDataset

    islr_only = [clip(0, ["islr"], "happy", ["HAPPY"])]
    with pytest.raises(ValueError, match=r"carries task\(s\) \['SLT'\]"):
        SignDataset(islr_only, processor, "SLT", "en", train=False)
    with pytest.raises(ValueError, match=r"carries task\(s\) \['CSLR'\]"):
        SignDataset(islr_only, processor, ("ISLR", "CSLR"), "en", train=False)


def test_the_multitask_selection_score_is_the_mean_of_higher_is_better_scores():
    metrics = {"islr/top1_per_instance": 80.0, "cslr/wer": 30.0, "slt/bleu4": 40.0}
    assert multitask_score(metrics, ("ISLR", "CSLR", "SLT")) == pytest.approx((80 + 70 + 40) / 3)
    metrics["cslr/wer"] = 250.0  # a WER over 100 counts as 0, not as a negative score
    assert multitask_score(metrics, ("ISLR", "CSLR", "SLT")) == pytest.approx((80 + 0 + 40) / 3)


# -- tokenizer and settings --------------------------------------------------------------------------------------


def test_a_new_sentencepiece_tokenizer_round_trips_its_texts_with_mt5_special_ids(tmp_path):
    texts = ["I went to the store yesterday.", "Do you like coffee?", "YESTERDAY STORE I GO", "happy"] * 5
    tokenizer = train_sentencepiece_tokenizer(texts, tmp_path / "tok", vocab_size=60)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "tok")
    for text in set(texts):
        ids = reloaded(text)["input_ids"]
        assert ids[-1] == 1 and 2 not in ids  # ends with </s>, nothing unknown
        assert reloaded.decode(ids, skip_special_tokens=True) == text
    with pytest.raises(ValueError, match="training texts"):
        train_sentencepiece_tokenizer(["  "], tmp_path / "empty", vocab_size=60)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.task=[ISLR, ISLR]"], "twice"),
        (["data.task=[ISLR, POSE]"], "POSE"),
        (["data.task=[]"], "data.task"),
        (["training.learning_rate=fast"], "training.learning_rate"),
    ],
)
def test_bad_multitask_settings_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_config(DEFAULT_CONFIG, overrides)


@pytest.mark.parametrize(
    "override, message",
    [
        ("training.batch_size=abc", "^`training.batch_size`: Value 'abc' of type 'str' could not be converted to Int"),
        ("lora.enabled=maybe", "^`lora.enabled`: Value 'maybe' is not a valid bool"),
        ("training.learning_rat=1", r"^`training.learning_rat`: .*Valid settings: \[.*'learning_rate'"),
        ("model=3", "ModelArguments"),
    ],
)
def test_unknown_settings_and_wrong_types_get_one_line_naming_the_setting(override, message):
    with pytest.raises(ValueError, match=message) as error:
        load_config(DEFAULT_CONFIG, [override])
    assert "\n" not in str(error.value)


def test_numbers_in_exponent_notation_are_numbers():
    assert load_config(DEFAULT_CONFIG, ["training.learning_rate=2e-3"]).training.learning_rate == 0.002


def test_override_values_with_a_colon_stay_text_unless_braced():
    config = load_config(DEFAULT_CONFIG, ["model.prompts.en/SLT=English: ", "model.processor={max_frames: 16}"])
    assert config.model.prompts["en/SLT"] == "English: "  # YAML alone reads it as {"English": None}
    assert config.model.processor["max_frames"] == 16


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.synthetic.num_trains=5"], "num_trains"),
        (["model.tokenizer={tmp}"], "not both"),
        (["data.format=parquet", "data.path={tmp}"], "only applies to `data.format: synthetic`"),
    ],
)
def test_bad_default_job_settings_fail_before_any_compute(overrides, message, tmp_path):
    overrides = [override.format(tmp=tmp_path) for override in overrides]
    config = load_config(DEFAULT_CONFIG, [f"training.output_dir={tmp_path / 'run'}", *overrides])
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        train(config)
    assert not (tmp_path / "run").exists()


def test_learning_curves_are_drawn_from_the_log(tmp_path):
    from unisign.training.curves import plot_learning_curves, read_curves

    log = tmp_path / "train_log.jsonl"
    lines = [{"step": step, "train/loss": 10.0 / step, "train/lr": 1e-3} for step in range(1, 21)]
    lines += [{"step": 10, "eval/islr/top1_per_instance": 20.0, "eval/cslr/wer": 80.0, "eval/score": 30.0}]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    curves = read_curves(log)
    assert curves["train/loss"][-1] == (20, 0.5) and curves["eval/cslr/wer"] == [(10, 80.0)]
    image = Image.open(plot_learning_curves(log, tmp_path / "curves.png"))
    assert image.size == (1280, 420)
    pixels = np.asarray(image)
    assert (pixels[:, :640] != 255).any(axis=-1).mean() > 0.01  # something was drawn in both panels
    assert (pixels[:, 640:] != 255).any(axis=-1).mean() > 0.01
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="no logged values"):
        read_curves(tmp_path / "empty.jsonl")


def test_the_legends_name_every_curve_and_hide_none_of_its_points():
    from unisign.training.curves import draw_learning_curves

    steps = range(0, 101, 10)
    curves = {
        "train/loss": [(step, 5.0 - step / 25) for step in steps],  # falls from the top left to the bottom right
        "eval/islr/top1_per_instance": [(step, step * 0.9) for step in steps],  # rises to the top right
        "eval/cslr/wer": [(step, 95.0 - step * 0.9) for step in steps],  # falls to the bottom right
        "eval/slt/bleu4": [(step, 50.0) for step in steps],  # across the middle
        "eval/score": [(step, 40.0) for step in steps],
        "train/lr": [(step, 1e-3) for step in steps],  # neither a loss nor a score: not drawn
    }
    figure = draw_learning_curves(curves)
    figure.canvas.draw()
    loss_axes, score_axes = figure.axes
    for axes, names in (
        (loss_axes, ["train/loss (1)"]),
        (score_axes, ["islr/top1_per_instance (90)", "cslr/wer (5)", "slt/bleu4 (50)", "score (40)"]),
    ):
        legend = axes.get_legend()
        assert [text.get_text() for text in legend.get_texts()] == names
        box = legend.get_window_extent()
        for line in axes.get_lines():
            pixels = axes.transData.transform(line.get_xydata())
            assert not any(box.contains(x, y) for x, y in pixels), line.get_label()


def test_a_regenerated_synthetic_dataset_is_read_anew_not_from_the_cache(tmp_path):
    from unisign.data.dataset import load_split
    from unisign.training.arguments import DataArguments
    from unisign.training.data import prepare_synthetic_data

    settings = {"num_train": 6, "num_validation": 0, "num_test": 0, "num_train_signers": 2}
    data = DataArguments(format="synthetic", path=str(tmp_path / "data"), synthetic={**settings, "seed": 0})
    prepare_synthetic_data(data)
    first = load_split(data, "train")[0]["keypoints"]
    data.synthetic = {**settings, "seed": 1, "num_train": 8}
    prepare_synthetic_data(data)  # same folder, other data
    second = load_split(data, "train")
    assert len(second) == 8 and not np.array_equal(second[0]["keypoints"], first)


def test_in_memory_splits_give_the_same_clips_and_items_as_lazy_rows(tmp_path, processor):
    from unisign.data import sample_from_row
    from unisign.data.dataset import SignDataset, load_split
    from unisign.training.arguments import DataArguments
    from unisign.training.data import prepare_synthetic_data

    settings = {"num_train": 7, "num_validation": 0, "num_test": 0, "num_train_signers": 2, "seed": 3}
    data = DataArguments(format="synthetic", path=str(tmp_path / "data"), synthetic=settings, max_train_samples=6)
    prepare_synthetic_data(data)
    lazy = load_split(data, "train")
    data.in_memory = True
    in_memory = load_split(data, "train")
    assert isinstance(in_memory, list) and len(in_memory) == len(lazy) == 6
    for row, sample in zip(lazy, in_memory, strict=True):
        expected = sample_from_row(row)
        assert np.array_equal(sample.keypoints, expected.keypoints) and np.array_equal(sample.scores, expected.scores)
        assert (sample.id, sample.text, sample.gloss, sample.fps, sample.extra) == (
            expected.id,
            expected.text,
            expected.gloss,
            expected.fps,
            expected.extra,
        )
    tasks = ("ISLR", "CSLR", "SLT")
    from_rows, from_memory = (SignDataset(split, processor, tasks, "en", True, seed=5) for split in (lazy, in_memory))
    assert len(from_rows) == len(from_memory) > 0
    assert np.array_equal(from_rows.frame_counts(), from_memory.frame_counts())
    assert from_rows.targets() == from_memory.targets()
    for index in range(len(from_rows)):
        item = from_memory[index]
        for key, value in from_rows[index].items():
            assert np.array_equal(item[key], value), key
