"""train.py and `unisign.training`: every shipped stage config on tiny data, exports, exact resume, bad configs."""

import json
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoModelForSeq2SeqLM, AutoProcessor, AutoTokenizer

from unisign.data import load_pose_dataset, sample_from_row
from unisign.training import load_config, train
from unisign.training.arguments import config_to_dict
from unisign.training.setup import use_sync_batch_norm

from .training_helpers import (
    TINY_POSE,
    assert_same_trained_parameters,
    make_language_model,
    make_pose_dataset,
    make_tokenizer,
    run_train_script,
)


REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
FINETUNE_CONFIGS = [
    "finetune_slt_csl_daily.yaml",
    "finetune_cslr_csl_daily.yaml",
    "finetune_islr_wlasl.yaml",
    "finetune_slt_csl_daily_lora.yaml",
    "finetune_cslr_csl_daily_lora.yaml",
    "finetune_islr_wlasl_lora.yaml",
]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("assets")
    tokenizer = make_tokenizer(root / "tokenizer")
    language_model = make_language_model(root / "mt5", vocab_size=len(AutoTokenizer.from_pretrained(tokenizer)))
    data = make_pose_dataset(root / "data", video_dir=root / "videos")
    return SimpleNamespace(
        root=root, tokenizer=tokenizer, language_model=language_model, data=data, videos=root / "videos"
    )


def tiny_overrides(assets, output_dir, max_steps=4) -> list[str]:
    """Point a shipped config at the tiny model and data, and shorten it."""
    overrides = [
        "data.format=parquet",
        f"data.path={assets.data}",
        "data.language=en",
        "data.eval_split=dev",
        f"training.output_dir={output_dir}",
        f"training.max_steps={max_steps}",
        "training.batch_size=2",
        "training.gradient_accumulation_steps=1",
        "training.eval_batch_size=4",
        "training.learning_rate=0.01",
        "training.log_with=null",
        "training.log_every=1",
        "training.eval_num_beams=1",
        "training.eval_max_new_tokens=4",
        "training.mixed_precision=no",
        "training.seed=0",
    ]
    overrides += [f"model.config.{key}={json.dumps(value)}" for key, value in TINY_POSE.items()]
    return overrides


def logged_losses(output_dir: Path) -> list[float]:
    lines = (output_dir / "logs" / "train_log.jsonl").read_text().splitlines()
    return [record["train/loss"] for record in map(json.loads, lines) if "train/loss" in record]


def check_export_generates(folder: Path, assets) -> list[str]:
    """The export loads with one `from_pretrained` (model and processor) and translates a clip.

    A LoRA export carries its base beside the adapter: the same call loads both, from any current directory.
    """
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    processor = AutoProcessor.from_pretrained(folder)
    sample = sample_from_row(load_pose_dataset(assets.data, split="dev")[0])
    videos = [str(assets.videos / sample.video_path)] if model.config.use_rgb else None
    inputs = processor(poses=[sample], videos=videos, language="en", return_tensors="pt")
    texts = processor.batch_decode(model.generate(**inputs, max_new_tokens=5))
    assert len(texts) == 1 and isinstance(texts[0], str)
    return texts


@pytest.fixture(scope="module")
def stage1_export(assets, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("stage1")
    overrides = tiny_overrides(assets, output_dir, max_steps=12)
    overrides += [f"model.language_model={assets.language_model}", f"model.tokenizer={assets.tokenizer}"]
    export = train(load_config(CONFIGS / "stage1_csl_news.yaml", overrides))
    return SimpleNamespace(export=export, output_dir=output_dir)


def test_stage1_runs_learns_and_exports(stage1_export, assets):
    losses = logged_losses(stage1_export.output_dir)
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3  # the tiny model memorises its tiny data
    assert stage1_export.export == stage1_export.output_dir / "best"
    check_export_generates(stage1_export.export, assets)
    # a single-task run logs its task's metrics unprefixed, and selects on them
    lines = (stage1_export.output_dir / "logs" / "train_log.jsonl").read_text().splitlines()
    evaluations = [record for record in map(json.loads, lines) if "eval/loss" in record]
    assert evaluations and all("eval/bleu4" in record and "eval/score" not in record for record in evaluations)
    for name in ("best", "last"):
        assert (stage1_export.output_dir / name / "README.md").is_file()


def test_stage2_adds_the_rgb_branch_with_a_closed_gate(stage1_export, assets, tmp_path):
    overrides = tiny_overrides(assets, tmp_path / "stage2", max_steps=2)
    overrides += [
        f"model.init_from={stage1_export.export}",
        "model.rgb_backbone_weights=null",
        f"data.video_dir={assets.videos}",
    ]
    overrides.append("training.log_with=tensorboard")
    export = train(load_config(CONFIGS / "stage2_csl_news.yaml", overrides))
    assert list((tmp_path / "stage2" / "logs").rglob("events.out.tfevents.*"))  # TensorBoard got the curves
    model = AutoModelForSeq2SeqLM.from_pretrained(export)
    assert model.config.use_rgb
    # the gate starts at zero and ReLU(tanh(0)) has no gradient: as in the reference, it stays closed at first
    assert model.prior_guided_fusion.gate[2].weight.abs().sum() == 0
    check_export_generates(export, assets)


@pytest.mark.parametrize("config_name", FINETUNE_CONFIGS)
def test_finetune_configs_run_and_export(config_name, stage1_export, assets, tmp_path):
    overrides = tiny_overrides(assets, tmp_path / "run", max_steps=3) + [f"model.init_from={stage1_export.export}"]
    config = load_config(CONFIGS / config_name, overrides)
    export = train(config)
    if config.data.task == "ISLR":
        assert AutoProcessor.from_pretrained(export).feature_extractor.max_frames == 64
    check_export_generates(export, assets)
    if config.lora.enabled:
        assert (export / "adapter_config.json").is_file()
        merged = export.with_name(export.name + "-merged")
        assert (merged / "model.safetensors").is_file()
        check_export_generates(merged, assets)


# -- resume and distribution ---------------------------------------------------------------------------------------


def write_config(path: Path, assets, output_dir: Path, *extra: str) -> Path:
    """A fine-tuning run from tiny mT5 (dropout on, to check that RNG state is restored too)."""
    config = load_config(CONFIGS / "finetune_slt_csl_daily.yaml", [*tiny_overrides(assets, output_dir, 6), *extra])
    config.model.init_from = None
    config.model.language_model = str(assets.root / "mt5_dropout")
    config.model.tokenizer = str(assets.tokenizer)
    config.data.eval_split = None
    import yaml

    from unisign.training.arguments import config_to_dict

    path.write_text(yaml.safe_dump(config_to_dict(config)))
    return path


def test_resume_after_sigkill_gives_identical_parameters(assets, tmp_path):
    from transformers import MT5Config, MT5ForConditionalGeneration

    torch.manual_seed(1)
    base = AutoModelForSeq2SeqLM.from_pretrained(assets.language_model)
    MT5ForConditionalGeneration(MT5Config(**{**base.config.to_dict(), "dropout_rate": 0.1})).save_pretrained(
        assets.root / "mt5_dropout"
    )
    straight = write_config(tmp_path / "straight.yaml", assets, tmp_path / "straight")
    assert run_train_script(straight).returncode == 0
    crashing = write_config(
        tmp_path / "crash.yaml", assets, tmp_path / "crash", "training.save_every=3", "training.debug_kill_at_step=3"
    )
    killed = run_train_script(crashing)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "crash" / "last").exists()
    resumed = run_train_script(crashing, "--resume", "training.debug_kill_at_step=null")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resumed from" in resumed.stdout + resumed.stderr
    expected = load_file(tmp_path / "straight" / "last" / "model.safetensors")
    actual = load_file(tmp_path / "crash" / "last" / "model.safetensors")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)


def test_two_processes_equal_one_process_accumulating_the_two_halves(assets, tmp_path):
    """DDP over gloo (torchrun, 2 CPU processes, batch 2 each) == 1 process, batch 2, accumulation 2.

    Accelerate gives process p the batches p, p + 2, ...; one process accumulating two batches per step sees the same
    pairs. Batch norm uses each half's own statistics in both (unsynchronised, as on CPU), dropout is off.
    """
    common = ["training.max_steps=2", "training.eval_every=null", "data.eval_split=null"]
    single = write_config(tmp_path / "single.yaml", assets, tmp_path / "single", *common)
    single_config = load_config(single, ["training.gradient_accumulation_steps=2"])
    single_config.model.language_model = str(assets.language_model)
    single.write_text(yaml.safe_dump(config_to_dict(single_config)))
    assert run_train_script(single).returncode == 0
    double = write_config(tmp_path / "double.yaml", assets, tmp_path / "double", *common)
    double_config = load_config(double)
    double_config.model.language_model = str(assets.language_model)
    double.write_text(yaml.safe_dump(config_to_dict(double_config)))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517"]
    completed = run_train_script(double, env={"ACCELERATE_USE_CPU": "1"}, launcher=torchrun)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert_same_trained_parameters(tmp_path / "single" / "last", tmp_path / "double" / "last")


def test_synchronised_batch_norm_only_for_multi_gpu_runs():
    assert use_sync_batch_norm(4, torch.device("cuda", 0))
    assert not use_sync_batch_norm(1, torch.device("cuda", 0))
    assert not use_sync_batch_norm(2, torch.device("cpu"))


# -- bad configs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config_name, overrides, error, message",
    [
        ("finetune_slt_csl_daily.yaml", [], FileNotFoundError, "init_from"),
        ("finetune_slt_csl_daily.yaml", ["data.path=/nowhere/data"], FileNotFoundError, "data.path"),
        ("stage2_csl_news.yaml", ["model.init_from=/nowhere/stage1"], FileNotFoundError, "init_from"),
        ("stage2_csl_news.yaml", ["data.video_dir=null"], ValueError, "video_dir"),
        ("finetune_slt_csl_daily_lora.yaml", ["lora.target_modules=[query_proj]"], ValueError, "query_proj"),
        ("finetune_slt_csl_daily.yaml", ["training.learning_rat=1"], ValueError, "learning_rat"),
        ("finetune_slt_csl_daily.yaml", ["data.task=translation"], ValueError, "data.task"),
    ],
)
def test_bad_configs_fail_before_any_compute(config_name, overrides, error, message, stage1_export, assets, tmp_path):
    base = tiny_overrides(assets, tmp_path / "run") + [f"model.init_from={stage1_export.export}"]
    if config_name.startswith("stage2"):
        base.append(f"data.video_dir={assets.videos}")
    if overrides == []:
        base = [o for o in base if not o.startswith("model.init_from")] + ["model.init_from=/nowhere/model"]
    with pytest.raises(error, match=message):
        train(load_config(CONFIGS / config_name, base + overrides))
    assert not (tmp_path / "run").exists()  # nothing was written: it failed before the run started


def test_train_script_reports_bad_configs_without_a_traceback(tmp_path):
    completed = run_train_script(tmp_path / "missing.yaml")
    assert completed.returncode != 0
    assert "train.py: error: No config file" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_length_grouped_sampler_is_a_seeded_permutation_with_little_padding():
    from unisign.training.data import LengthGroupedSampler

    lengths = torch.randint(5, 200, (1000,), generator=torch.Generator().manual_seed(0)).numpy()
    sampler = LengthGroupedSampler(lengths, batch_size=8, seed=3)
    orders = {}
    for epoch in (0, 1, 0):
        sampler.set_epoch(epoch)
        order = list(sampler)
        assert sorted(order) == list(range(1000))
        assert orders.setdefault(epoch, order) == order  # a function of (seed, epoch) only: exact resume
    assert orders[0] != orders[1]

    def padded_frames(order):
        batches = [lengths[order[i : i + 8]] for i in range(0, len(order), 8)]
        return sum(int(batch.max()) * len(batch) - int(batch.sum()) for batch in batches)

    random_order = torch.randperm(1000, generator=torch.Generator().manual_seed(0)).tolist()
    assert padded_frames(orders[0]) < padded_frames(random_order) / 5
    first_batch_lengths = [lengths[order[:8]].max() for order in orders.values()]
    assert len(set(first_batch_lengths)) > 1  # batches come in random order of length, not longest first


def test_group_by_length_trains_and_the_prepared_loader_forwards_epochs(assets, tmp_path):
    config = load_config(
        CONFIGS / "stage1_csl_news.yaml",
        [
            *tiny_overrides(assets, tmp_path / "grouped", max_steps=3),
            f"model.language_model={assets.language_model}",
            f"model.tokenizer={assets.tokenizer}",
            "data.group_by_length=true",
        ],
    )
    assert train(config).exists()
    assert len(logged_losses(tmp_path / "grouped")) == 3


def test_auto_precision_is_bf16_only_where_the_hardware_computes_it(monkeypatch):
    from unisign.training import loop

    assert loop.resolve_mixed_precision("no") == "no"
    assert loop.resolve_mixed_precision("bf16") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for native, expected in ((True, "bf16"), (False, "no")):
        monkeypatch.setattr(loop, "cpu_has_bf16_instructions", lambda native=native: native)
        assert loop.resolve_mixed_precision("auto") == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert loop.resolve_mixed_precision("auto") == "bf16"


# -- the processor a fine-tune exports -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chinese_start(assets, tmp_path_factory):
    """A tiny Uni-Sign folder whose processor defaults to Chinese and has a non-default video processor."""
    from unisign import UniSignConfig, UniSignForConditionalGeneration, UniSignProcessor
    from unisign.models.unisign.feature_extraction_unisign import UniSignPoseFeatureExtractor
    from unisign.models.unisign.video_processing_unisign import UniSignVideoProcessor

    from .training_helpers import TINY_LM

    folder = tmp_path_factory.mktemp("chinese-start")
    tokenizer = AutoTokenizer.from_pretrained(assets.tokenizer)
    text_config = {"vocab_size": len(tokenizer), **TINY_LM}
    UniSignForConditionalGeneration(UniSignConfig(text_config=text_config, **TINY_POSE)).save_pretrained(folder)
    video_processor = UniSignVideoProcessor(hand_crop_size=56, hand_sampling="random", hand_box_scale=1.5)
    UniSignProcessor(UniSignPoseFeatureExtractor(), tokenizer, video_processor, language="zh").save_pretrained(folder)
    return folder


@pytest.mark.parametrize("prompts", [None, {"en": "Translate sign language video to English: ", "zh": "Z: "}])
def test_a_fine_tune_from_another_language_exports_its_own_language(prompts, chinese_start, assets, tmp_path):
    from unisign.training.setup import build_model_and_processor

    overrides = tiny_overrides(assets, tmp_path / "run") + [f"model.init_from={chinese_start}"]
    config = load_config(CONFIGS / "finetune_islr_wlasl.yaml", overrides)  # English data, Chinese start
    config.model.prompts = prompts
    _, processor = build_model_and_processor(config)
    assert processor.language == config.data.language == "en"
    saved = AutoProcessor.from_pretrained(chinese_start).video_processor.to_dict()
    assert processor.video_processor.to_dict() == saved  # the starting folder's hand-crop settings are kept


# -- gradient checkpointing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradient_checkpointing_trains_the_same_eval_mode_model(use_reentrant):
    """Two SGD steps with and without checkpointing: the same batch-norm running statistics and eval-mode logits.

    The recomputation of a checkpointed layer in the backward pass runs its batch norms a second time; their running
    statistics must be updated once per step, as without checkpointing (float64: the recomputation rounds alike).
    """
    from unisign import UniSignForConditionalGeneration

    from .modeling_helpers import random_inputs, tiny_config

    config = tiny_config()
    inputs = random_inputs(config)
    labels = torch.tensor([[5, 6, 1], [7, 1, -100]])

    def trained(checkpointing: bool) -> tuple[dict, torch.Tensor]:
        torch.manual_seed(0)
        model = UniSignForConditionalGeneration(config).double().train()
        if checkpointing:
            model.gradient_checkpointing_enable({"use_reentrant": use_reentrant})
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(2):
            model(**inputs, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        statistics = {name: buffer.clone() for name, buffer in model.named_buffers() if "running_" in name}
        with torch.no_grad():
            return statistics, model.eval()(**inputs, labels=labels).logits

    plain_statistics, plain_logits = trained(checkpointing=False)
    statistics, logits = trained(checkpointing=True)
    assert statistics.keys() == plain_statistics.keys() and len(statistics) > 20
    for name, value in plain_statistics.items():
        torch.testing.assert_close(statistics[name], value, rtol=1e-9, atol=1e-12, msg=name)
    torch.testing.assert_close(logits, plain_logits, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "text, overrides, message",
    [
        ("- 1\n- 2\n", [], r"is not a mapping of settings \(it holds a list\)"),
        ("7\n", [], r"is not a mapping of settings \(it holds a int\)"),
        ("training:\n", ["training.seed=1"], r"Override 'training.seed=1': `training` is None, not a section"),
        ("stage: finetune\n", ["training=5", "training.seed=1"], r"`training` is 5, not a section"),
        ("stage: finetune\n", ["training=null"], r"`training`: field 'training' is not Optional"),
    ],
)
def test_malformed_settings_are_one_line_errors(text, overrides, message, tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path, overrides)


def test_the_evaluation_loss_is_the_mean_over_items(assets, tmp_path):
    """4 dev items in batches of 3 and 1: the loss weighs each batch by its items, not each batch alike."""
    from accelerate import Accelerator

    from unisign.training.loop import build_dataloaders, evaluate_task
    from unisign.training.setup import build_model_and_processor

    overrides = tiny_overrides(assets, tmp_path / "run") + ["training.eval_batch_size=3", "model.init_from=null"]
    overrides += [f"model.language_model={assets.language_model}", f"model.tokenizer={assets.tokenizer}"]
    config = load_config(CONFIGS / "finetune_slt_csl_daily.yaml", overrides)
    model, processor = build_model_and_processor(config)
    (loader,) = build_dataloaders(config, processor, None)[1].values()
    with torch.no_grad():
        batches = [(model.eval()(**batch).loss.item(), len(batch["labels"])) for batch in loader]
    assert [size for _, size in batches] == [3, 1]
    expected = sum(loss * size for loss, size in batches) / 4
    accelerator = Accelerator(cpu=True)
    loss = evaluate_task(accelerator, model, processor, accelerator.prepare(loader), config)["loss"]
    assert loss == pytest.approx(expected, rel=1e-6)
