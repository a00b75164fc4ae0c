"""Readers for the reference's data layout: pose pickles, gzip label files, CSL-News JSON lists, and MSASL.

Layout of the reference code (Uni-Sign, ICLR 2025):
- a pose file is a pickle `{"keypoints": T x (P, 133, 2), "scores": T x (P, 133)}` in `(x / W, y / H)` units, with
  an optional `"start"`/`"end"` frame range (the clip is `[start, end)` of the video) and, for CSL-News, `"w_h"`;
- a label file (CSL-Daily, WLASL, How2Sign, OpenASL) is a gzip-compressed pickle `{key: {"name", "gloss", "text",
  "video_path"}}`; the pose of an entry is `<pose_dir>/<video_path with .mp4 -> .pkl>`, inside a folder named after
  the split (`train`, `dev`, `test`) for every dataset but CSL-Daily;
- CSL-News is one JSON list of `{"video", "pose", "text"}`; the first 99% are its training split, the rest its dev
  split.

Label readers return `LabelRecord`s (no poses yet); `load_pose_samples` joins them with their pose files into
`PoseSample`s. Every pickle goes through `load_restricted_pickle`.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from tqdm.auto import tqdm

from ..models.unisign.keypoints import NUM_WHOLEBODY_KEYPOINTS
from ..utils.errors import InvalidInputError
from .safe_pickle import load_restricted_pickle
from .sample import PoseSample


@dataclass(frozen=True)
class ReferenceLayout:
    """Where a dataset of the reference keeps its pose files, and its spoken language."""

    language: str  # "zh" or "en": selects the prompt
    split_folders: bool  # pose files sit in `<pose_dir>/<split>/`


REFERENCE_LAYOUTS = {
    "CSL_Daily": ReferenceLayout(language="zh", split_folders=False),
    "WLASL": ReferenceLayout(language="en", split_folders=True),
    "How2Sign": ReferenceLayout(language="en", split_folders=True),
    "OpenASL": ReferenceLayout(language="en", split_folders=True),
    "MSASL": ReferenceLayout(language="en", split_folders=True),
    "CSL_News": ReferenceLayout(language="zh", split_folders=False),
}
SPLITS = ("train", "dev", "test")
CSL_NEWS_TRAIN_FRACTION = 0.99


@dataclass
class LabelRecord:
    """One annotated clip of a label file, before its pose is loaded.

    Attributes:
        id: Unique name of the clip in its dataset.
        pose_path: Path of its pose pickle, relative to the dataset's pose folder.
        text: Sentence (SLT target) or word (isolated signs).
        gloss: Gloss sequence, when the dataset has one.
        video_path: Path of its video, relative to the dataset's video folder (and split folder, if any).
        extra: Other fields (language, split, class label, signer, ...).
    """

    id: str
    pose_path: str
    text: str | None = None
    gloss: list[str] | None = None
    video_path: str | None = None
    extra: dict = field(default_factory=dict)


def _layout(dataset: str) -> ReferenceLayout:
    if dataset not in REFERENCE_LAYOUTS:
        raise InvalidInputError(f"Unknown dataset {dataset!r}. Available layouts: {sorted(REFERENCE_LAYOUTS)}.")
    return REFERENCE_LAYOUTS[dataset]


def _check_split(split: str | None, allowed: tuple[str, ...] = SPLITS) -> None:
    if split is not None and split not in allowed:
        raise InvalidInputError(f"Unknown split {split!r}. Available splits: {allowed}.")


def _gloss_list(gloss) -> list[str] | None:
    """The reference stores glosses as a list (CSL-Daily) or an empty string (no glosses)."""
    if gloss is None or (isinstance(gloss, str) and not gloss.strip()):
        return None
    if isinstance(gloss, str):
        return gloss.split()
    if isinstance(gloss, list | tuple) and all(isinstance(item, str) for item in gloss):
        return list(gloss)
    raise InvalidInputError(f"A gloss must be a list of strings or a space-separated string, got {gloss!r}.")


def read_label_file(path: str | Path, dataset: str, split: str) -> list[LabelRecord]:
    """Read a reference label file (gzip pickle `{key: {"name", "gloss", "text", "video_path"}}`).

    Args:
        path (`str` or `Path`): The label file, e.g. `CSL_Daily/labels.dev` or `WLASL/labels-2000.test`.
        dataset (`str`): Its layout: one of `REFERENCE_LAYOUTS` (`"CSL_Daily"`, `"WLASL"`, `"How2Sign"`,
            `"OpenASL"`, ...).
        split (`str`): `"train"`, `"dev"` or `"test"` (names the pose sub-folder of split-folder layouts).

    Returns:
        `list[LabelRecord]` in file order.
    """
    layout = _layout(dataset)
    _check_split(split)
    labels = load_restricted_pickle(path)
    if not isinstance(labels, dict):
        raise InvalidInputError(f"`{path}` must hold a dict of label entries, got {type(labels).__name__}.")
    records = []
    for key, entry in labels.items():
        missing = {"name", "text", "video_path"} - set(entry) if isinstance(entry, dict) else {"a dict"}
        if missing:
            raise InvalidInputError(f"Entry {key!r} of `{path}` lacks {sorted(missing)}; got {entry!r}.")
        video_path = str(entry["video_path"])
        pose_path = str(Path(video_path).with_suffix(".pkl"))
        records.append(
            LabelRecord(
                id=str(entry["name"]),
                pose_path=f"{split}/{pose_path}" if layout.split_folders else pose_path,
                text=entry["text"],
                gloss=_gloss_list(entry.get("gloss")),
                video_path=video_path,
                extra={"dataset": dataset, "split": split, "language": layout.language},
            )
        )
    return records


def read_csl_news_labels(path: str | Path, split: str | None = None) -> list[LabelRecord]:
    """Read the CSL-News label list (JSON `[{"video", "pose", "text"}, ...]`).

    Args:
        path (`str` or `Path`): `CSL_News_Labels.json`.
        split (`str`, *optional*): `"train"` (the first 99%, as the reference), `"dev"` (the rest) or `None` (all).

    Returns:
        `list[LabelRecord]` in file order.
    """
    _check_split(split, ("train", "dev"))
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise InvalidInputError(f"`{path}` must hold a JSON list of clips, got {type(entries).__name__}.")
    boundary = int(len(entries) * CSL_NEWS_TRAIN_FRACTION)
    selected = {"train": entries[:boundary], "dev": entries[boundary:], None: entries}[split]
    records = []
    for index, entry in enumerate(selected):
        missing = {"video", "pose", "text"} - set(entry) if isinstance(entry, dict) else {"a dict"}
        if missing:
            raise InvalidInputError(f"Clip {index} of `{path}` lacks {sorted(missing)}; got {entry!r}.")
        records.append(
            LabelRecord(
                id=Path(entry["video"]).stem,
                pose_path=entry["pose"],
                text=entry["text"],
                video_path=entry["video"],
                extra={"dataset": "CSL_News", "split": split, "language": "zh"},
            )
        )
    return records


def _youtube_id(url: str) -> str:
    parsed = urlparse(url if "//" in url else f"https://{url}")
    return parse_qs(parsed.query).get("v", [Path(parsed.path).name])[0]


def read_msasl_labels(path: str | Path, split: str) -> list[LabelRecord]:
    """Read an MS-ASL split file (JSON list of `{"url", "start", "end", "clean_text", "label", ...}`).

    MS-ASL ships YouTube links with frame ranges, not clips, so clip names are this package's convention:
    `<youtube id>_<start>_<end>`, with the pose at `<split>/<name>.pkl` and the cut video at `<name>.mp4`.

    Args:
        path (`str` or `Path`): `MSASL_train.json`, `MSASL_val.json` or `MSASL_test.json`.
        split (`str`): `"train"`, `"dev"` or `"test"`.

    Returns:
        `list[LabelRecord]` in file order; `text` is the sign's word, `extra` keeps the class `label`, `signer_id`,
        `fps`, `width`, `height`, `box` and `url`.
    """
    _check_split(split)
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise InvalidInputError(f"`{path}` must hold a JSON list of clips, got {type(entries).__name__}.")
    records = []
    for index, entry in enumerate(entries):
        missing = {"url", "start", "end"} - set(entry) if isinstance(entry, dict) else {"a dict"}
        if missing or not ("clean_text" in entry or "text" in entry):
            raise InvalidInputError(
                f"Clip {index} of `{path}` lacks {sorted(missing) or ['clean_text']}; got {entry!r}."
            )
        name = f"{_youtube_id(entry['url'])}_{int(entry['start'])}_{int(entry['end'])}"
        kept = {
            key: entry[key] for key in ("label", "signer_id", "fps", "width", "height", "box", "url") if key in entry
        }
        records.append(
            LabelRecord(
                id=name,
                pose_path=f"{split}/{name}.pkl",
                text=entry.get("clean_text", entry.get("text")),
                video_path=f"{name}.mp4",
                extra={"dataset": "MSASL", "split": split, "language": "en", **kept},
            )
        )
    return records


def _first_person(array, name: str, trailing: tuple[int, ...], source: str) -> np.ndarray:
    """`array` as `(T, *trailing)` float32, from T frames of P people (the first is kept) or of one person."""
    expected = f"(num_frames, num_people, {', '.join(map(str, trailing))})"
    if isinstance(array, list | tuple):  # one array per frame, possibly with different numbers of people
        frames = [np.asarray(frame, dtype=np.float32) for frame in array]
        frames = [frame[0] if frame.ndim == len(trailing) + 1 and len(frame) else frame for frame in frames]
        shapes = {frame.shape for frame in frames}
        if shapes - {trailing}:
            raise InvalidInputError(
                f"Every frame of `{name}` of {source} must have shape (num_people, {', '.join(map(str, trailing))}), "
                f"got shapes {sorted(shapes)}."
            )
        array = np.stack(frames) if frames else np.zeros((0, *trailing))
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == len(trailing) + 2 and array.shape[2:] == trailing and array.shape[1] >= 1:
        return array[:, 0]
    if array.ndim == len(trailing) + 1 and array.shape[1:] == trailing:
        return array
    raise InvalidInputError(f"`{name}` of {source} must have shape {expected}, got {array.shape}.")


def pose_dict_to_sample(pose: dict, sample_id: str, source: str = "the pose dict") -> PoseSample:
    """Turn a reference pose dict (`keypoints`, `scores`, optional `start`/`end`, `w_h`) into a `PoseSample`.

    Only the first person is kept, as in the reference. With `start`/`end`, the clip is frames `[start, end)` and
    `extra["video_frame_offset"]` records `start` (its first frame's index in the video).
    """
    if not isinstance(pose, dict) or not {"keypoints", "scores"} <= set(pose):
        keys = sorted(pose) if isinstance(pose, dict) else type(pose).__name__
        raise InvalidInputError(f"{source} must be a dict with `keypoints` and `scores`, got {keys}.")
    keypoints = _first_person(pose["keypoints"], "keypoints", (NUM_WHOLEBODY_KEYPOINTS, 2), source)
    scores = _first_person(pose["scores"], "scores", (NUM_WHOLEBODY_KEYPOINTS,), source)
    extra = {}
    if "start" in pose:
        start, end = int(pose["start"]), int(pose.get("end", len(keypoints)))
        if not 0 <= start < end <= len(keypoints):
            raise InvalidInputError(
                f"{source} has the frame range [{start}, {end}), which does not fit its {len(keypoints)} frames."
            )
        keypoints, scores = keypoints[start:end], scores[start:end]
        extra["video_frame_offset"] = start
    width, height = (int(value) for value in pose.get("w_h", (0, 0)))
    return PoseSample(id=sample_id, keypoints=keypoints, scores=scores, width=width, height=height, extra=extra)


def read_pose_pickle(path: str | Path, sample_id: str | None = None) -> PoseSample:
    """Read one reference pose pickle (through the restricted unpickler) into a `PoseSample`.

    Args:
        path (`str` or `Path`): The `.pkl` file.
        sample_id (`str`, *optional*): Id of the sample; defaults to the file name without its suffix.

    Returns:
        `PoseSample` without annotations (see `pose_dict_to_sample`).
    """
    return pose_dict_to_sample(load_restricted_pickle(path), sample_id or Path(path).stem, f"`{path}`")


def load_pose_samples(
    records: Iterable[LabelRecord], pose_dir: str | Path, progress: bool = True
) -> Iterator[PoseSample]:
    """Join label records with their pose pickles.

    Args:
        records (`Iterable[LabelRecord]`): From `read_label_file`, `read_csl_news_labels` or `read_msasl_labels`.
        pose_dir (`str` or `Path`): The dataset's pose folder (the one holding the split folders, if any).
        progress (`bool`, *optional*, defaults to `True`): Show a progress bar.

    Yields:
        `PoseSample` with the record's id, text, gloss, video path and extra fields.
    """
    records = list(records)
    for record in tqdm(records, desc="Reading poses", disable=not progress):
        path = Path(pose_dir) / record.pose_path
        if not path.is_file():
            raise InvalidInputError(f"The pose file of {record.id!r} is missing: expected `{path}`.")
        sample = read_pose_pickle(path, record.id)
        sample.text, sample.gloss, sample.video_path = record.text, record.gloss, record.video_path
        sample.extra = {**record.extra, **sample.extra}
        yield sample


def task_target(sample: PoseSample | LabelRecord, task: str) -> str:
    """The training target of a sample for a task, as the reference builds it.

    Args:
        sample (`PoseSample` or `LabelRecord`): The annotated clip.
        task (`str`): `"SLT"` (the sentence), `"ISLR"` (the word, stored as text) or `"CSLR"` (the glosses joined
            by spaces).

    Returns:
        `str`: The target text.
    """
    if task in ("SLT", "ISLR"):
        if sample.text is None:
            raise InvalidInputError(f"Sample {sample.id!r} has no text, which task {task} needs.")
        return sample.text
    if task == "CSLR":
        if not sample.gloss:
            raise InvalidInputError(f"Sample {sample.id!r} has no gloss sequence, which task CSLR needs.")
        return " ".join(sample.gloss)
    raise InvalidInputError(f"Unknown task {task!r}. Available tasks: ('SLT', 'ISLR', 'CSLR').")


__all__ = [
    "CSL_NEWS_TRAIN_FRACTION",
    "REFERENCE_LAYOUTS",
    "LabelRecord",
    "ReferenceLayout",
    "load_pose_samples",
    "pose_dict_to_sample",
    "read_csl_news_labels",
    "read_label_file",
    "read_msasl_labels",
    "read_pose_pickle",
    "task_target",
]
