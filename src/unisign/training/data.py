"""Training's side of the data: a length-grouped batch order, and checks and generation of the configured data.

The dataset itself (`SignDataset`, `load_split`) is in `unisign.data.dataset`.
"""

import inspect
import re
from pathlib import Path

import torch
import transformers.trainer_pt_utils

from ..data.dataset import DATA_FORMATS
from ..utils.errors import InvalidInputError, MissingInputError
from .arguments import DataArguments


class LengthGroupedSampler(transformers.trainer_pt_utils.LengthGroupedSampler):
    """A random order in which neighbouring items have similar lengths, so that batches carry little padding.

    transformers' sampler (shuffle, cut into groups of up to 50 batches, sort each group by length), with two changes:
    each epoch's order is drawn from a generator seeded by (`seed`, epoch), so that a resumed run draws the order of an
    uninterrupted one; and the batches come in random order (transformers' come longest first within each group), so
    that batch lengths do not rise and fall along the epoch. `lengths` are the frames the model will see (the caller
    caps them at `max_frames`, to which longer clips are sub-sampled).
    """

    def __init__(self, lengths, batch_size: int, seed: int = 0):
        super().__init__(batch_size, lengths=[int(length) for length in lengths], generator=torch.Generator())
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's order (Accelerate calls it through the prepared loader)."""
        self.epoch = epoch

    def __iter__(self):
        self.generator.manual_seed(hash((self.seed, self.epoch)))  # a hash of ints: the same in every process
        order = list(super().__iter__())
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        yield from (
            index for batch in torch.randperm(len(batches), generator=self.generator) for index in batches[batch]
        )


def prepare_synthetic_data(args: DataArguments):
    """Generate the synthetic dataset into `args.path` (or reuse it there, when generated with the same settings)."""
    from ..synthetic import generate_dataset
    from ..synthetic.generator import available_cores

    # one worker process per core, the training threads not started yet; at most 4: each imports torch (~0.4 GB),
    # and a container may show many more cores than its CPU quota
    return generate_dataset(args.path, **{"processes": min(available_cores(), 4), **args.synthetic})


def check_data_paths(args: DataArguments, needs_video: bool) -> None:
    """Fail before any compute when a data path the run needs is missing."""
    required = DATA_FORMATS.get(args.format)
    if required is None:
        raise InvalidInputError(f"Unknown `data.format` {args.format!r}. Available formats: {list(DATA_FORMATS)}.")
    required = list(required)
    if args.format == "synthetic":
        check_synthetic_settings(args.synthetic)
    elif args.synthetic:
        raise InvalidInputError(
            f"`data.synthetic` only applies to `data.format: synthetic`, got format {args.format!r}."
        )
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
            raise InvalidInputError(f"`data.{name}` is required {reason}.")
        is_hub_id = name == "path" and looks_like_a_hub_dataset_id(value)
        to_generate = args.format == "synthetic" and name == "path"
        if name != "dataset" and not Path(value).exists() and not is_hub_id and not to_generate:
            raise MissingInputError(f"`data.{name}` points to {value}, which does not exist.")


def looks_like_a_hub_dataset_id(path: str | None) -> bool:
    """Whether a `data.path` could name a Hub dataset (`owner/name`) rather than a local folder."""
    return bool(path) and re.fullmatch(r"[\w.-]+/[\w.-]+", path) is not None and not path.startswith(".")


def check_synthetic_settings(settings: dict) -> None:
    """`data.synthetic` must name arguments of `generate_dataset` (checked before any data is generated)."""
    from ..synthetic import generate_dataset

    if not isinstance(settings, dict):
        raise InvalidInputError(f"`data.synthetic` must be a mapping, got {type(settings).__name__}.")
    valid = sorted(set(inspect.signature(generate_dataset).parameters) - {"output_dir"})
    unknown = sorted(set(settings) - set(valid))
    if unknown:
        raise InvalidInputError(f"Unknown setting(s) {unknown} in `data.synthetic`. Valid settings: {valid}.")
