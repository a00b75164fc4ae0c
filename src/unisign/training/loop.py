"""The training loop: Accelerate for devices, precision, accumulation and distribution; exact resume; exports.

Launch (docs/distributed.md):
    python train.py --config configs/finetune_slt.yaml                      # one CPU or GPU
    accelerate launch --config_file configs/accelerate/ddp.yaml train.py --config configs/stage1.yaml
    accelerate launch --config_file configs/accelerate/ddp_cpu.yaml train.py --config ...   # CPU processes, gloo
"""

import json
import logging
import math
import os
import pickle
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, DistributedType, ProjectConfiguration, set_seed
from torch.distributed.fsdp import register_fsdp_forward_method
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from ..data.dataset import SignDataset, load_split
from ..evaluation.metrics import compute_metrics
from ..models.unisign.processing_unisign import UniSignDataCollator
from ..utils.errors import InvalidInputError
from ..utils.precision import cpu_has_bf16_instructions
from ..utils.quiet_logs import filter_library_warnings
from .arguments import DataArguments, TrainConfig, config_to_dict
from .data import LengthGroupedSampler, prepare_synthetic_data
from .export import export_model, replace_folder
from .run_folder import (
    cut_log,
    lock_run_folder_on_every_process,
    prepare_run_folder,
    published,
    save_settings,
    seal_checkpoint,
    unsafe_state,
    written_whole,
)
from .setup import (
    accelerator_placement,
    apply_lora,
    build_model_and_processor,
    check_launch,
    check_run,
    fsdp_wrapping_units,
    shards_parameters,
    use_sync_batch_norm,
    whole_model_construction,
)
from .testing import evaluate_export_on_test_split


logger = logging.getLogger(__name__)

# the metric that picks the best checkpoint, and whether higher is better
SELECTION_METRIC = {"SLT": ("bleu4", True), "CSLR": ("wer", False), "ISLR": ("top1_per_instance", True)}
# multi-task runs: the mean of the tasks' scores, each turned into "0-100, higher is better" (`multitask_score`)
MULTITASK_SELECTION = ("score", True)


@dataclass
class Progress:
    """Where a run is; saved with every checkpoint (`accelerator.register_for_checkpointing`)."""

    step: int = 0
    epoch: int = 0
    batches_done_in_epoch: int = 0
    best_score: float | None = None

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        vars(self).update(state)


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups as the reference: no weight decay on biases and other 1-D parameters."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim <= 1 or name.endswith(".bias") else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def resolve_mixed_precision(setting: str) -> str:
    """`auto` -> `bf16` on GPUs and on CPUs with bf16 instructions, else `no` (emulated bf16 would be slower)."""
    if setting != "auto":
        return setting
    return "bf16" if torch.cuda.is_available() or cpu_has_bf16_instructions() else "no"


def build_dataloaders(config: TrainConfig, processor, video_dir):
    """The training loader, and one evaluation loader per task (an empty dict without an evaluation split)."""
    data, training = config.data, config.training
    collator = UniSignDataCollator(processor)
    pin = torch.cuda.is_available()
    # Loaders draw their workers' base seed from this generator, not from the global RNG: a resumed run then gets
    # exactly the dropout draws of an uninterrupted one.
    generator = torch.Generator().manual_seed(training.seed)
    train_set = SignDataset(
        load_split(data, data.train_split),
        processor,
        data.tasks,
        data.language,
        True,
        training.seed,
        video_dir,
        data.augmentation,
    )
    sampler = None
    if data.group_by_length:
        lengths = np.minimum(train_set.frame_counts(), processor.feature_extractor.max_frames)
        sampler = LengthGroupedSampler(lengths, training.batch_size, training.seed)
    train_loader = torch.utils.data.DataLoader(
        train_set,
        training.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        collate_fn=collator,
        num_workers=data.num_workers,
        pin_memory=pin,
        generator=generator,
    )
    if not data.eval_split:
        return train_loader, {}
    eval_set = SignDataset(
        load_split(data, data.eval_split), processor, data.tasks, data.language, False, training.seed, video_dir
    )
    eval_loaders = {
        task: torch.utils.data.DataLoader(
            eval_set.for_task(task),
            training.eval_batch_size,
            collate_fn=collator,
            num_workers=data.num_workers,
            pin_memory=pin,
            generator=generator,
        )
        for task in data.tasks
    }
    return train_loader, eval_loaders


def selection_metric(data: DataArguments) -> tuple[str, bool]:
    """The metric that picks the best checkpoint, and whether higher is better."""
    return MULTITASK_SELECTION if data.is_multitask else SELECTION_METRIC[data.task]


def multitask_score(metrics: dict[str, float], tasks: tuple[str, ...]) -> float:
    """Mean over tasks of a 0-100, higher-is-better score: ISLR top-1, 100 - CSLR WER (floored at 0), SLT BLEU-4."""
    scores = []
    for task in tasks:
        name, higher_is_better = SELECTION_METRIC[task]
        value = metrics[f"{task.lower()}/{name}"]
        scores.append(value if higher_is_better else max(0.0, 100.0 - value))
    return sum(scores) / len(scores)


@torch.no_grad()
def evaluate_task(accelerator, model, processor, loader, config: TrainConfig) -> dict:
    """Loss, generated texts and the metrics of one task's evaluation loader."""
    model.eval()
    unwrapped = accelerator.unwrap_model(model)
    predictions, losses = [], []
    synced = shards_parameters(accelerator)
    for batch in tqdm(loader, desc="Evaluating", disable=not accelerator.is_local_main_process, leave=False):
        # the batch's loss once per item: `gather_for_metrics` drops the items repeated to fill the last batches of a
        # distributed run, and the mean is then over items (a last, smaller batch weighs as its items)
        loss = model(**batch).loss.detach()
        losses.append(accelerator.gather_for_metrics(loss.repeat(batch["pose_values"].shape[0])))
        # in the training precision (`prepare` puts autocast around the wrapped model's forward only)
        with accelerator.autocast():
            generated = unwrapped.generate(
                **{k: v for k, v in batch.items() if k != "labels"},
                num_beams=config.training.eval_num_beams,
                max_new_tokens=config.training.eval_max_new_tokens,
                synced_gpus=synced,
            )
        generated = accelerator.pad_across_processes(generated, dim=1, pad_index=processor.tokenizer.pad_token_id)
        predictions += processor.batch_decode(accelerator.gather_for_metrics(generated))
    model.train()
    # scored against the raw target texts, as the reference does (not the truncated, tokenised labels)
    dataset = loader.dataset
    metrics = compute_metrics(dataset.task.lower(), predictions, dataset.targets(), lang=config.data.language)
    metrics["loss"] = torch.cat(losses).mean().item()
    return {name: float(value) for name, value in metrics.items() if isinstance(value, int | float)}


def evaluate(accelerator, model, processor, loaders: dict, config: TrainConfig) -> dict:
    """The evaluation metrics: a single task's as they are; several tasks' as `<task>/<name>`, plus `score`.

    A multi-task run also reports `loss`, the mean loss over all evaluation items, and `score`, the selection metric
    (see `multitask_score`).
    """
    if not config.data.is_multitask:
        (loader,) = loaders.values()
        return evaluate_task(accelerator, model, processor, loader, config)
    metrics, weighted_loss, items = {}, 0.0, 0
    for task, loader in loaders.items():
        task_metrics = evaluate_task(accelerator, model, processor, loader, config)
        metrics.update({f"{task.lower()}/{name}": value for name, value in task_metrics.items()})
        weighted_loss += task_metrics["loss"] * len(loader.dataset)
        items += len(loader.dataset)
    metrics["loss"] = weighted_loss / items
    metrics["score"] = multitask_score(metrics, config.data.tasks)
    return metrics


def write_log_line(accelerator, output_dir: Path, values: dict) -> None:
    """Append one JSON line to `<output_dir>/logs/train_log.jsonl`: learning curves without any tracker installed."""
    if accelerator.is_main_process:
        (output_dir / "logs").mkdir(parents=True, exist_ok=True)
        with open(output_dir / "logs" / "train_log.jsonl", "a") as file:
            file.write(json.dumps(values) + "\n")


def save_checkpoint(accelerator, output_dir: Path, step: int, keep: int) -> None:
    """`save_state` into a temporary folder, then rename: a crash never leaves a half-written latest checkpoint."""
    checkpoints = output_dir / "checkpoints"
    final, tmp = checkpoints / f"step-{step:08d}", checkpoints / f"step-{step:08d}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    with written_whole(tmp, f"the checkpoint of step {step}"):
        accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        with written_whole(tmp, f"the checkpoint of step {step}"):
            seal_checkpoint(tmp)  # checksums, fsync: `--resume` then tells a damaged checkpoint from an intact one
        replace_folder(tmp, final)
        published(checkpoints)
        # not Accelerate's total_limit: it prunes before an unsealed in-place save, and resume restarts at checkpoint_0
        for old in sorted(checkpoints.glob("step-????????"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def train(
    config: TrainConfig, resume: bool = False, overwrite: bool = False, allow_changed_settings: bool = False
) -> Path:
    """Run training as `config` says; returns the folder of the best export.

    With `data.test_split`, the best export is then scored on that split, task by task, with `unisign.evaluation.cli`
    (see `evaluate_export_on_test_split`): predictions, references and scores go to `<output_dir>/test/<task>/` and
    the scores into the export's model card.

    Args:
        config: The run's settings.
        resume: Continue from the newest intact checkpoint in `training.output_dir`, exactly where it stopped.
        overwrite: Start a new run in a folder that holds another run's state, removing that state first.
        allow_changed_settings: Let `resume` continue with settings that differ from the run's saved ones.
    """
    check_run(config)  # before any compute
    filter_library_warnings()  # e.g. Accelerate's "Removed shared tensor" at every checkpoint (tied embeddings)
    # 2 MB pages for large CPU tensors (read by torch at its first large allocation): mT5's 250k-row embedding and
    # head get fresh gradient buffers each step, and faulting them in 4 KB pages took ~1.4 s of a 7 s CPU step
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    training = config.training
    output_dir = Path(training.output_dir)
    if training.num_threads:
        torch.set_num_threads(training.num_threads)
    precision = resolve_mixed_precision(training.mixed_precision)
    accelerator = Accelerator(
        mixed_precision=precision,
        gradient_accumulation_steps=training.gradient_accumulation_steps,
        log_with=training.log_with,
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
        **accelerator_placement(),
    )
    check_launch(accelerator)
    # one run per folder: the main process holds the folder's lock until the run ends; a second run stops in one line,
    # in each of its processes
    with lock_run_folder_on_every_process(output_dir, accelerator):
        return _train(accelerator, config, resume, overwrite, allow_changed_settings)


def _train(accelerator, config: TrainConfig, resume: bool, overwrite: bool, allow_changed_settings: bool) -> Path:
    """`train` once the `Accelerator` is set up and the run's folder locked."""
    training, data = config.training, config.data
    output_dir = Path(training.output_dir)
    # one run per folder, resumed with its own settings from an intact checkpoint (`run_folder`); before any compute
    checkpoint, changes = prepare_run_folder(
        config, resume, overwrite, allow_changed_settings, accelerator.is_main_process
    )
    # the main process generates data and trains a tokenizer; the others reuse them
    with accelerator.main_process_first(), whole_model_construction(accelerator):
        if data.format == "synthetic":
            prepare_synthetic_data(data)
        set_seed(training.seed)
        model, processor = build_model_and_processor(config, reuse_tokenizer=resume or not accelerator.is_main_process)
    if use_sync_batch_norm(accelerator.num_processes, accelerator.device):
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if config.lora.enabled:
        base_dir = output_dir / "base_model"
        if accelerator.is_main_process and not (resume and base_dir.exists()):
            model.save_pretrained(base_dir)  # the adapter export points here
        model.name_or_path = model.config._name_or_path = str(base_dir.resolve())
        model = apply_lora(model, config)
    video_dir = data.video_dir if model.config.use_rgb else None
    train_loader, eval_loaders = build_dataloaders(config, processor, video_dir)

    optimizer = torch.optim.AdamW(
        parameter_groups(model, training.weight_decay),
        lr=training.learning_rate,
        betas=tuple(training.adam_betas),
        eps=training.adam_epsilon,
        fused=accelerator.device.type in ("cuda", "cpu"),  # one kernel over all parameters: 10x faster on CPU
    )
    if accelerator.distributed_type == DistributedType.DEEPSPEED:  # DeepSpeed clips inside its step, from its config
        accelerator.state.deepspeed_plugin.deepspeed_config["gradient_clipping"] = training.max_grad_norm or 0.0
    if accelerator.distributed_type == DistributedType.FSDP:
        plugin = accelerator.state.fsdp_plugin
        plugin.transformer_cls_names_to_wrap = fsdp_wrapping_units(model, plugin.transformer_cls_names_to_wrap)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    # FSDP 2 gathers the root's own parameters (embeddings, LM head) only around `forward`; evaluation enters through
    # `generate` (a no-op for models that FSDP 2 did not wrap)
    register_fsdp_forward_method(accelerator.unwrap_model(model), "generate")
    eval_loaders = {task: accelerator.prepare(loader) for task, loader in eval_loaders.items()}
    steps_per_epoch = math.ceil(len(train_loader) / training.gradient_accumulation_steps)
    total_steps = training.max_steps or training.num_epochs * steps_per_epoch
    # Accelerate steps a prepared scheduler once per process at each optimizer step; under DeepSpeed, `prepare` returns
    # a scheduler prepared on its own as it is: stepped once, and left out of the saved state unless registered
    deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
    per_step = 1 if deepspeed else accelerator.num_processes
    schedule = get_cosine_schedule_with_warmup(optimizer, training.warmup_steps * per_step, total_steps * per_step)
    scheduler = accelerator.prepare(schedule)
    progress = Progress()
    accelerator.register_for_checkpointing(progress)
    if deepspeed:
        accelerator.register_for_checkpointing(scheduler)

    if resume:
        try:  # Accelerate reads the states with torch's restricted unpickler (custom states: `check_pickles`)
            accelerator.load_state(str(checkpoint))
        except pickle.UnpicklingError as error:
            raise unsafe_state(Path(checkpoint), error) from None
        accelerator.print(f"Resumed from {checkpoint} at step {progress.step}.")
        if changes and progress.best_score is not None:
            # `best/` may hold a later step of the interrupted run than the checkpoint, and scores under other settings
            # may not compare: the selection starts anew, so the first evaluation replaces `best/`
            logger.warning("Changed settings: `best/` is replaced at the next evaluation, and compared from there on.")
            progress.best_score = None
        if accelerator.is_main_process:
            cut_log(output_dir, progress.step)
    elif accelerator.is_main_process:
        save_settings(config)
    if training.log_with:
        sections = {name: values for name, values in config_to_dict(config).items() if isinstance(values, dict)}
        flat = {f"{name}.{key}": str(value) for name, values in sections.items() for key, value in values.items()}
        accelerator.init_trackers("unisign", config=flat)

    metric_name, higher_is_better = selection_metric(data)
    best_dir = output_dir / "best"
    bar = tqdm(
        total=total_steps, initial=progress.step, desc="Training", disable=not accelerator.is_local_main_process
    )
    model.train()
    samples_since_log, log_started = 0, time.perf_counter()
    while progress.step < total_steps:
        train_loader.set_epoch(progress.epoch)
        train_loader.dataset.set_epoch(progress.epoch)
        loader = accelerator.skip_first_batches(train_loader, progress.batches_done_in_epoch)
        for batch in loader:
            if not (batch["labels"] != -100).any():  # a mean over no target token: a NaN loss, NaN weights after it
                raise InvalidInputError(
                    f"A training batch of epoch {progress.epoch} (batch {progress.batches_done_in_epoch + 1}) has no "
                    "target token (every label is -100), so its loss would be NaN: check the targets and the collator."
                )
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and training.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), training.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            progress.batches_done_in_epoch += 1
            samples_since_log += batch["pose_values"].shape[0] * accelerator.num_processes
            if not accelerator.sync_gradients:
                continue
            progress.step += 1
            bar.update(1)
            if progress.step % training.log_every == 0 or progress.step == total_steps:
                elapsed = time.perf_counter() - log_started
                logs = {"train/loss": loss.item(), "train/lr": scheduler.get_last_lr()[0]}
                logs["train/samples_per_second"] = samples_since_log / max(elapsed, 1e-9)
                accelerator.log(logs, step=progress.step)
                write_log_line(accelerator, output_dir, {"step": progress.step, **logs})
                bar.set_postfix(loss=f"{loss.item():.4f}")
                samples_since_log, log_started = 0, time.perf_counter()
            at_epoch_end = progress.batches_done_in_epoch == len(train_loader)
            if eval_loaders and (
                (training.eval_every and progress.step % training.eval_every == 0)
                or (not training.eval_every and at_epoch_end)
                or progress.step == total_steps
            ):
                metrics = evaluate(accelerator, model, processor, eval_loaders, config)
                accelerator.log({f"eval/{k}": v for k, v in metrics.items()}, step=progress.step)
                write_log_line(
                    accelerator, output_dir, {"step": progress.step, **{f"eval/{k}": v for k, v in metrics.items()}}
                )
                accelerator.print(f"step {progress.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
                score = metrics[metric_name]
                best = progress.best_score
                if best is None or (score > best if higher_is_better else score < best):
                    progress.best_score = score
                    settings = config_to_dict(config)
                    export_model(accelerator, model, processor, best_dir, metrics, settings, training.export_merged)
            if training.save_every and progress.step % training.save_every == 0:
                save_checkpoint(accelerator, output_dir, progress.step, training.keep_checkpoints)
            if training.debug_kill_at_step == progress.step:
                os.kill(os.getpid(), signal.SIGKILL)
            if progress.step >= total_steps:
                break
        else:
            progress.epoch += 1
            progress.batches_done_in_epoch = 0
    bar.close()
    last_dir = output_dir / "last"
    export_model(accelerator, model, processor, last_dir, {}, config_to_dict(config), training.export_merged)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    export = best_dir if best_dir.exists() else last_dir
    if data.test_split and accelerator.is_main_process:
        evaluate_export_on_test_split(config, export)
    return export
