"""The checkpoints the Uni-Sign authors released (`ZechengLi19/Uni-Sign`), and what is published about each.

The released file names (`<name>.pth`) say which checkpoint a file is, and so its language and clip length:
`unisign convert` uses `released_checkpoint` to set the processor's default prompt language (and the ISLR
checkpoints' 64 frames) when they are not given. `unisign.hub.model_card.reference_card` writes their cards. The
catalogue itself is data, `released_checkpoints.json` beside this file, read into `ReferenceCheckpoint`s on import.
"""

import json
from dataclasses import dataclass
from pathlib import Path


REFERENCE_HUB_REPO = "ZechengLi19/Uni-Sign"
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
# ISO 639-3 code of the sign language of each written language's released data (CSL-News / CSL-Daily are Chinese
# Sign Language; WLASL, How2Sign and OpenASL are American Sign Language)
SIGN_LANGUAGES = {"zh": "csl", "en": "ase"}


@dataclass(frozen=True)
class ReferenceCheckpoint:
    """A released checkpoint of the authors (`ZechengLi19/Uni-Sign`) and what is published about it.

    `language` is the written language of its targets (the prompt language); its clips are signed in
    `SIGN_LANGUAGES[language]`.
    """

    name: str
    title: str
    description: str
    language: str
    tasks: tuple[str, ...]
    use_rgb: bool
    training_data: str
    # (task, dataset_type, dataset_name, split, scores) published for this very checkpoint's setting
    published: tuple[tuple[str, str, str, str, dict], ...] = ()
    no_score_reason: str = ""
    max_frames: int | None = None


CATALOGUE_PATH = Path(__file__).with_name("released_checkpoints.json")
PUBLISHED_KEYS = ("task", "dataset_type", "dataset_name", "split", "scores")


def load_catalogue(path: str | Path = CATALOGUE_PATH) -> tuple[ReferenceCheckpoint, ...]:
    """The released checkpoints listed in a catalogue file (`released_checkpoints.json`, shipped with the package).

    Each entry holds the fields of `ReferenceCheckpoint` (those left out take their defaults); `published` is a list
    of objects with the keys of `PUBLISHED_KEYS`.
    """
    checkpoints = []
    for entry in json.loads(Path(path).read_text(encoding="utf-8"))["checkpoints"]:
        published = tuple(tuple(result[key] for key in PUBLISHED_KEYS) for result in entry.pop("published", ()))
        checkpoints.append(ReferenceCheckpoint(**entry | {"tasks": tuple(entry["tasks"]), "published": published}))
    return tuple(checkpoints)


REFERENCE_CHECKPOINTS = load_catalogue()


def released_checkpoint(checkpoint: str | Path) -> ReferenceCheckpoint | None:
    """The released checkpoint a file is, from its name (`wlasl_pose_only_islr.pth` -> `wlasl_pose_only_islr`).

    Args:
        checkpoint: A file path or name, with or without its suffix (`.pth`, `.pt`, `.bin`, `.safetensors`).

    Returns:
        `ReferenceCheckpoint`, or `None` when the name is not one of the released files.
    """
    name = Path(checkpoint).name
    for suffix in CHECKPOINT_SUFFIXES:
        name = name.removesuffix(suffix)
    return next((released for released in REFERENCE_CHECKPOINTS if released.name == name), None)


__all__ = [
    "REFERENCE_CHECKPOINTS",
    "REFERENCE_HUB_REPO",
    "SIGN_LANGUAGES",
    "ReferenceCheckpoint",
    "load_catalogue",
    "released_checkpoint",
]
