"""`PoseSample`s as Hugging Face `datasets`: one `DatasetDict` split per data split, stored as Parquet.

The folder layout written by `save_pose_dataset` (`<folder>/data/<split>-00000-of-00001.parquet`) is the one the Hub
uses, so the same folder loads locally with `load_pose_dataset(folder)` and, once uploaded (for example with
`DatasetDict.push_to_hub`), by name with `load_pose_dataset("user/name")`. Poses are `Array3D`/`Array2D` features
with a variable number of frames; Parquet keeps the features.
"""

from collections.abc import Iterable
from pathlib import Path

from ..utils.errors import InvalidInputError
from .sample import PoseSample, dataset_features, samples_to_dataset


def samples_to_dataset_dict(splits: dict[str, Iterable[PoseSample]]):
    """Build a `datasets.DatasetDict` with one split per entry of `splits`.

    Args:
        splits (`dict[str, Iterable[PoseSample]]`): Split name (`"train"`, `"dev"`, `"test"`, ...) -> its samples.

    Returns:
        `datasets.DatasetDict` whose splits have the features of `dataset_features()`.
    """
    import datasets

    if not splits:
        raise InvalidInputError("`splits` is empty: give at least one split name with its samples.")
    return datasets.DatasetDict({name: samples_to_dataset(samples) for name, samples in splits.items()})


def save_pose_dataset(dataset_dict, folder: str | Path) -> list[Path]:
    """Write each split of a pose `DatasetDict` to `<folder>/data/<split>-00000-of-00001.parquet`.

    Args:
        dataset_dict (`datasets.DatasetDict`): For example from `samples_to_dataset_dict`.
        folder (`str` or `Path`): Output folder (created if needed).

    Returns:
        `list[Path]`: The Parquet files written.
    """
    data_dir = Path(folder) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for split, dataset in dataset_dict.items():
        if "-" in split or "/" in split:
            raise InvalidInputError(
                f"Split names may not contain '-' or '/' (the Parquet file names encode them): {split!r}."
            )
        path = data_dir / f"{split}-00000-of-00001.parquet"
        dataset.to_parquet(str(path))
        paths.append(path)
    return paths


def load_pose_dataset(path_or_name: str | Path, split: str | None = None, **load_kwargs):
    """Load a pose dataset written by `save_pose_dataset`, from a local folder or from the Hub by name.

    Args:
        path_or_name (`str` or `Path`): A local folder, or a Hub dataset id (downloaded by `datasets`).
        split (`str`, *optional*): One split; all splits (a `DatasetDict`) when `None`.
        **load_kwargs: Passed to `datasets.load_dataset` (`revision`, `cache_dir`, `streaming`, ...).

    Returns:
        `datasets.Dataset` or `datasets.DatasetDict` with the features of `dataset_features()`; use
        `sample_from_row` to get `PoseSample`s back.
    """
    import datasets

    local = Path(path_or_name)
    if local.exists() and not sorted(local.glob("data/*.parquet")):
        raise InvalidInputError(f"`{local}` holds no `data/*.parquet` files; write it with `save_pose_dataset`.")
    if local.exists():
        # name the files: a folder name alone lets `datasets` serve a stale cache after the files are rewritten
        files: dict[str, list[str]] = {}
        for path in sorted(local.glob("data/*.parquet")):
            files.setdefault(path.name.split("-")[0], []).append(str(path))
        loaded = datasets.load_dataset("parquet", data_files=files, split=split, **load_kwargs)
    else:
        loaded = datasets.load_dataset(str(path_or_name), split=split, **load_kwargs)
    expected = dataset_features()
    for name, dataset in [(split, loaded)] if split is not None else loaded.items():
        if dataset.features is not None and dataset.features != expected:
            raise InvalidInputError(
                f"Split {name!r} of {path_or_name} is not a pose dataset: its features are {dataset.features}, "
                f"expected {expected}."
            )
    return loaded


__all__ = ["load_pose_dataset", "samples_to_dataset_dict", "save_pose_dataset"]
