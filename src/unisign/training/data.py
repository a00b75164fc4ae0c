"""Datasets for training: samples of any reader -> per-sample model inputs, with the reference's random sampling.

Randomness (temporal sub-sampling, hand frames) is drawn from a generator seeded by (seed, epoch, index), so a
sample's inputs do not depend on worker count, process count or where a resumed run starts.
"""

import re
from pathlib import Path

import numpy as np
import torch

from ..data import PoseSample, load_pose_dataset, sample_from_row
from ..data.reference import (
    load_pose_samples,
    read_csl_news_labels,
    read_label_file,
    read_msasl_labels,
    task_target,
)
from .arguments import DataArguments


class SignDataset(torch.utils.data.Dataset):
    """Clips and their targets -> `UniSignProcessor.encode_sample` outputs (numpy), one per index.

    Args:
        samples: A list of `PoseSample`s or a pose `datasets.Dataset` (rows become samples lazily).
        processor: The `UniSignProcessor`.
        task: `SLT`, `CSLR` or `ISLR`: which annotation is the target.
        language: Prompt language.
        train: Training mode: the reference's random temporal and hand sampling; otherwise deterministic.
        seed: Seed of the random modes.
        video_dir: Folder of the videos, when the model reads RGB hand crops.
    """

    def __init__(self, samples, processor, task: str, language: str, train: bool, seed: int = 0, video_dir=None):
        self.samples, self.processor = samples, processor
        self.task, self.language, self.train = task, language, train
        self.seed, self.epoch = seed, 0
        self.video_dir = None if video_dir is None else Path(video_dir)

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's random sampling (training mode)."""
        self.epoch = epoch

    def sample(self, index: int) -> PoseSample:
        """The `PoseSample` at `index`."""
        item = self.samples[index]
        return item if isinstance(item, PoseSample) else sample_from_row(item)

    def target(self, index: int) -> str:
        """The target text of the sample at `index`."""
        return task_target(self.sample(index), self.task)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        sample = self.sample(index)
        video = None
        if self.video_dir is not None:
            if not sample.video_path:
                raise ValueError(f"Sample {sample.id!r} has no `video_path`, which the RGB branch needs.")
            video = str(self.video_dir / sample.video_path)
        return self.processor.encode_sample(
            sample,
            text=task_target(sample, self.task),
            video=video,
            language=self.language,
            task=self.task,
            temporal_sampling="random" if self.train else "uniform",
            hand_sampling="random" if self.train else "top",
            rng=np.random.default_rng([self.seed, self.epoch, index]),
        )


def load_split(args: DataArguments, split: str):
    """The samples of one split, as a list of `PoseSample`s or a pose `datasets.Dataset`."""
    limit = args.max_train_samples if split == args.train_split else args.max_eval_samples
    if args.format == "parquet":
        dataset = load_pose_dataset(args.path, split=split)
        return dataset if limit is None else dataset.select(range(min(limit, len(dataset))))
    if args.format == "reference":
        labels = args.train_labels if split == args.train_split else args.eval_labels
        if args.dataset == "CSL_News":
            records = read_csl_news_labels(labels, split)  # one list: the reference's 99% / 1% train/dev split
        elif args.dataset == "MSASL":
            records = read_msasl_labels(labels, split)
        else:
            records = read_label_file(labels, args.dataset, split)
        return list(load_pose_samples(records[:limit], args.pose_dir))
    raise ValueError(f"Unknown `data.format` {args.format!r}. Available formats: ['parquet', 'reference'].")


def check_data_paths(args: DataArguments, needs_video: bool) -> None:
    """Fail before any compute when a data path the run needs is missing."""
    required = {"parquet": ["path"], "reference": ["dataset", "train_labels", "pose_dir"]}.get(args.format)
    if required is None:
        raise ValueError(f"Unknown `data.format` {args.format!r}. Available formats: ['parquet', 'reference'].")
    if args.format == "reference" and args.eval_split:
        required.append("eval_labels")
    if needs_video:
        required.append("video_dir")
    for name in required:
        value = getattr(args, name)
        if not value:
            reason = (
                "for a model with an RGB branch (`use_rgb`)" if name == "video_dir" else f"with format {args.format}"
            )
            raise ValueError(f"`data.{name}` is required {reason}.")
        is_hub_id = name == "path" and re.fullmatch(r"[\w.-]+/[\w.-]+", value) and not value.startswith(".")
        if name != "dataset" and not Path(value).exists() and not is_hub_id:
            raise FileNotFoundError(f"`data.{name}` points to {value}, which does not exist.")
