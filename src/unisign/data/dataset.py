"""A dataset split's clips -> per-item model inputs (`SignDataset`), and reading a split of any supported format.

Randomness (temporal sub-sampling, hand frames) is drawn from a generator seeded by (seed, epoch, index), so a
sample's inputs do not depend on worker count, process count or where a resumed run starts.
"""

import copy
import json
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow.compute as pc
import torch
from tqdm.auto import tqdm

from ..utils.errors import InvalidInputError
from .augmentation import PoseAugmentation
from .pose_dataset import load_pose_dataset
from .reference import (
    LabelRecord,
    load_pose_samples,
    read_csl_news_labels,
    read_label_file,
    read_msasl_labels,
    task_target,
)
from .sample import PoseSample, sample_from_row


# the settings each format needs
DATA_FORMATS = {"parquet": ("path",), "reference": ("dataset", "train_labels", "pose_dir"), "synthetic": ("path",)}


class SplitSource(Protocol):
    """Where a dataset's splits are: what `load_split` reads (the training settings' `DataArguments` is one)."""

    format: str  # one of `DATA_FORMATS`
    path: str | None  # a pose dataset folder or Hub id (`parquet`), or a generated dataset's folder (`synthetic`)
    dataset: str | None  # reference layout name (`reference`)
    train_labels: str | None  # reference label files
    eval_labels: str | None
    pose_dir: str | None  # folder of the reference pose pickles
    train_split: str  # the split read with `train_labels` and `max_train_samples`; any other with the `eval_` ones
    max_train_samples: int | None
    max_eval_samples: int | None
    in_memory: bool  # decode a `parquet`/`synthetic` split into `PoseSample`s once


class SignDataset(torch.utils.data.Dataset):
    """Clips and their targets -> `UniSignProcessor.encode_sample` outputs (numpy), one per (clip, task) item.

    A single-task dataset has one item per clip. A multi-task dataset has one item per clip and task that the clip
    carries: its `extra["tasks"]` (lower-case names, as the synthetic generator writes them) if it has that list,
    else every task of the dataset. Each item's prompt is that of `"<language>/<task>"` (see
    `UniSignProcessor.prompt_text`) and its target that of its task.

    Args:
        samples: A list of `PoseSample`s or a pose `datasets.Dataset` (rows become samples lazily).
        processor: The `UniSignProcessor`.
        task: `SLT`, `CSLR` or `ISLR`: which annotation is the target; or a sequence of them (multi-task).
        language: Prompt language.
        train: Training mode: the reference's random temporal and hand sampling; otherwise deterministic.
        seed: Seed of the random modes.
        video_dir: Folder of the videos, when the model reads RGB hand crops.
        augmentation: Random changes of each clip in training mode (pose-only: the hand crops would not follow).

    Raises:
        ValueError: if a task has no clip.
    """

    def __init__(
        self,
        samples,
        processor,
        task,
        language: str,
        train: bool,
        seed: int = 0,
        video_dir=None,
        augmentation: PoseAugmentation | None = None,
    ):
        augmentation = augmentation if augmentation is not None and augmentation.enabled else None
        if augmentation is not None and video_dir is not None:
            raise InvalidInputError(
                "Pose augmentation (`data.augmentation`) works on pose-only models: the RGB hand crops of a "
                "mirrored, turned or resampled clip would not match its keypoints."
            )
        self.samples, self.processor = samples, processor
        self.augmentation = augmentation if train else None
        self.tasks = (task,) if isinstance(task, str) else tuple(task)
        self.language, self.train = language, train
        self.seed, self.epoch = seed, 0
        self.video_dir = None if video_dir is None else Path(video_dir)
        self.items = [
            (index, task)
            for index, carried in enumerate(_carried_tasks(samples))
            for task in self.tasks
            if carried is None or task.lower() in carried
        ]
        missing = [task for task in self.tasks if not any(item_task == task for _, item_task in self.items)]
        if missing and len(samples):
            raise InvalidInputError(
                f"None of the {len(samples)} clips carries task(s) {missing} in `extra['tasks']`: each task of the "
                f"run needs clips (the dataset's tasks: {list(self.tasks)})."
            )

    @property
    def task(self) -> str:
        """The task of a single-task dataset (see `for_task` to split a multi-task one)."""
        if len(self.tasks) != 1:
            raise InvalidInputError(f"This dataset has several tasks {list(self.tasks)}; use `for_task(task)`.")
        return self.tasks[0]

    def for_task(self, task: str) -> "SignDataset":
        """The single-task dataset of the items of `task` (same clips, same settings)."""
        if task not in self.tasks:
            raise InvalidInputError(f"Unknown task {task!r} for this dataset. Its tasks: {list(self.tasks)}.")
        subset = copy.copy(self)
        subset.tasks = (task,)
        subset.items = [item for item in self.items if item[1] == task]
        return subset

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's random sampling (training mode)."""
        self.epoch = epoch

    def sample(self, index: int) -> PoseSample:
        """The `PoseSample` of item `index`."""
        item = self.samples[self.items[index][0]]
        return item if isinstance(item, PoseSample) else sample_from_row(item)

    def item_task(self, index: int) -> str:
        """The task of item `index`."""
        return self.items[index][1]

    def target(self, index: int) -> str:
        """The target text of item `index`."""
        return str(task_target(self.sample(index), self.item_task(index)))

    def targets(self) -> list[str]:
        """The target text of every item, in order, read without decoding any keypoints."""
        if isinstance(self.samples, list):
            records = self.samples
        else:
            rows = self.samples.with_format(None).select_columns(["id", "text", "gloss"])
            records = [LabelRecord(row["id"], "", row["text"], row["gloss"]) for row in rows]
        return [str(task_target(records[index], task)) for index, task in self.items]

    def frame_counts(self) -> np.ndarray:
        """Frames of every item's clip, in order, read without decoding any keypoints."""
        if isinstance(self.samples, list):
            clip_frames = np.array([sample.num_frames for sample in self.samples])
        else:
            batches = self.samples.select_columns(["keypoints"]).with_format("arrow").iter(batch_size=1000)
            clip_frames = np.concatenate(
                [
                    pc.list_value_length(getattr(chunk, "storage", chunk)).to_numpy(zero_copy_only=False)
                    for batch in batches
                    for chunk in batch.column("keypoints").chunks  # `datasets`' Array3D: a list array inside
                ]
            )
        return clip_frames[[index for index, _ in self.items]]

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        sample = self.sample(index)
        if self.augmentation is not None:  # its own generator: the sampling draws stay those of an unchanged run
            sample = self.augmentation(sample, np.random.default_rng([self.seed, self.epoch, index, 1]))
        task = self.item_task(index)
        video = None
        if self.video_dir is not None:
            if not sample.video_path:
                raise InvalidInputError(f"Sample {sample.id!r} has no `video_path`, which the RGB branch needs.")
            video = str(self.video_dir / sample.video_path)
        return self.processor.encode_sample(
            sample,
            text=str(task_target(sample, task)),
            video=video,
            language=self.language,
            task=task,
            temporal_sampling="random" if self.train else "uniform",
            hand_sampling="random" if self.train else "top",
            rng=np.random.default_rng([self.seed, self.epoch, index]),
        )


def _carried_tasks(samples) -> list[set[str] | None]:
    """Per clip, the lower-case task names of its `extra["tasks"]`, or `None` when it names none."""
    if isinstance(samples, list):
        extras = [sample.extra for sample in samples]
    else:  # a pose `datasets.Dataset`: read only the JSON column
        extras = [json.loads(extra) if extra else {} for extra in samples["extra"]]
    return [None if extra.get("tasks") is None else {t.lower() for t in extra["tasks"]} for extra in extras]


def load_split(source: SplitSource, split: str):
    """The samples of one split, as a list of `PoseSample`s or a pose `datasets.Dataset`.

    Args:
        source: Where the splits are (`format`, paths, sample limits); e.g. the training settings' `DataArguments`.
        split: The split's name, e.g. `train`, `dev`, `test`.

    Raises:
        ValueError: if the format is unknown or the split is not there.
    """
    limit = source.max_train_samples if split == source.train_split else source.max_eval_samples
    if source.format in ("parquet", "synthetic"):
        if source.format == "synthetic":
            from ..synthetic import load_generated_dataset

            # its explicit file list keys `datasets`' cache on the files themselves: a regenerated dataset is not
            # served from the cache of the previous one (as `load_dataset(folder)` does)
            splits = load_generated_dataset(source.path)
            if split not in splits:
                raise InvalidInputError(
                    f"The synthetic dataset in {source.path} has no split {split!r}: {list(splits)}."
                )
            dataset = splits[split]
        else:
            dataset = load_pose_dataset(source.path, split=split)
        dataset = dataset.with_format("numpy")  # numpy rows become samples ten times faster than python lists
        if limit is not None:
            dataset = dataset.select(range(min(limit, len(dataset))))
        return load_into_memory(dataset, split) if source.in_memory else dataset
    if source.format == "reference":
        labels = source.train_labels if split == source.train_split else source.eval_labels
        if source.dataset == "CSL_News":
            records = read_csl_news_labels(labels, split)  # one list: the reference's 99% / 1% train/dev split
        elif source.dataset == "MSASL":
            records = read_msasl_labels(labels, split)
        else:
            records = read_label_file(labels, source.dataset, split)
        return list(load_pose_samples(records[:limit], source.pose_dir))
    raise InvalidInputError(f"Unknown `data.format` {source.format!r}. Available formats: {list(DATA_FORMATS)}.")


def load_into_memory(dataset, split: str, batch_size: int = 256) -> list[PoseSample]:
    """Every row of a pose `datasets.Dataset` as a `PoseSample`, read in batches (~0.2 ms a clip instead of ~1.4)."""
    samples = []
    with tqdm(total=len(dataset), desc=f"Loading {split} clips into memory", unit="clip", leave=False) as bar:
        for batch in dataset.iter(batch_size=batch_size):
            columns = list(batch)
            for values in zip(*(batch[column] for column in columns), strict=True):
                samples.append(sample_from_row(dict(zip(columns, values, strict=True))))
            bar.update(len(batch[columns[0]]))
    return samples
