"""The authors' released checkpoints in one call: `unisign.from_released("how2sign_pose_only_slt")`.

The first call downloads `<name>.pth` from the authors' Hub repository (`ZechengLi19/Uni-Sign`) and the mT5 config
and tokenizer (`google/mt5-base`, not its weights: the checkpoint holds the language model), converts them with the
checkpoint's language and clip length (`unisign.hub.released_checkpoints`), and stores the converted folder, with
its card and licence, in the Hugging Face assets cache (`$HF_HOME/assets/unisign/converted/<name>-<revision>`, the
place `huggingface_hub.cached_assets_path` gives a library for what it derives from Hub files). Later calls load
that folder without converting; offline (`HF_HUB_OFFLINE=1`) they work from the cache alone.

    import unisign
    model, processor = unisign.from_released("how2sign_pose_only_slt")

On the command line a released name stands for a model folder wherever one is accepted: `unisign convert NAME
--out DIR`, and `--model NAME` of `unisign translate`, `unisign demo` and `unisign evaluate` (see
`resolve_released_model`). A local folder of the same name wins; `released:NAME` always means the released file.
"""

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from huggingface_hub import constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError
from transformers.utils import logging

from ..utils.errors import InvalidInputError
from .released_checkpoints import REFERENCE_CHECKPOINTS, REFERENCE_HUB_REPO, ReferenceCheckpoint


logger = logging.get_logger(__name__)

RELEASED_PREFIX = "released:"
TEXT_MODEL = "google/mt5-base"
# what the conversion needs of mT5: its config and tokenizer, never its 2 GB of weights (the checkpoint has them)
TEXT_MODEL_PATTERNS = ["*.json", "spiece.model"]
TEXT_MODEL_FILES = ("config.json", "spiece.model")
LICENCE_NOTICE = (
    "The Uni-Sign weights `{name}` are the authors' ({repo}), under CC BY-NC 4.0: attribution, no commercial use "
    "(https://creativecommons.org/licenses/by-nc/4.0/). The converted folder's card says so too."
)


def released_name(reference: str | os.PathLike) -> str | None:
    """The released checkpoint `reference` names (`NAME` or `released:NAME`), or `None`.

    A bare name that is also an existing local path is that path, not the released file.
    """
    reference = str(reference)
    if reference.startswith(RELEASED_PREFIX):
        return _checkpoint(reference.removeprefix(RELEASED_PREFIX)).name
    known = any(checkpoint.name == reference for checkpoint in REFERENCE_CHECKPOINTS)
    return reference if known and not Path(reference).exists() else None


def _checkpoint(name: str) -> ReferenceCheckpoint:
    released = next((checkpoint for checkpoint in REFERENCE_CHECKPOINTS if checkpoint.name == name), None)
    if released is None:
        known = ", ".join(checkpoint.name for checkpoint in REFERENCE_CHECKPOINTS)
        raise InvalidInputError(f"No released Uni-Sign checkpoint is called {name!r}; the released ones: {known}.")
    return released


def _missing(what: str, command: str, cache_dir: str | None) -> InvalidInputError:
    """The one-line error of a file that is neither in the cache nor downloadable now."""
    where = cache_dir or constants.HF_HUB_CACHE
    offline = constants.is_offline_mode()
    why = "HF_HUB_OFFLINE=1 is set" if offline else f"the Hub ({constants.ENDPOINT}) cannot be reached"
    return InvalidInputError(
        f"{what} is not in the Hugging Face cache ({where}) and {why}: run once online, or `{command}`."
    )


def download_released(name: str, revision: str | None = None, cache_dir: str | None = None) -> tuple[Path, Path, str]:
    """Download (or find in the cache) a released checkpoint and the mT5 config and tokenizer it needs.

    Args:
        name: A released checkpoint (`unisign.hub.released_checkpoints.REFERENCE_CHECKPOINTS`).
        revision: Revision of the authors' repository (a branch, tag or commit); its default branch when `None`.
        cache_dir: The Hugging Face Hub cache; `HF_HUB_CACHE` when `None`.

    Returns:
        `(checkpoint file, mT5 folder, commit of the checkpoint's revision)`.

    Raises:
        InvalidInputError: in one line, when a file is neither cached nor downloadable (offline, no network).
    """
    _checkpoint(name)
    filename = f"{name}.pth"
    try:
        checkpoint = Path(hf_hub_download(REFERENCE_HUB_REPO, filename, revision=revision, cache_dir=cache_dir))
    except LocalEntryNotFoundError:
        raise _missing(
            f"`{filename}` of {REFERENCE_HUB_REPO}", f"hf download {REFERENCE_HUB_REPO} {filename}", cache_dir
        ) from None
    files = " ".join(TEXT_MODEL_FILES)
    try:
        text_model = Path(snapshot_download(TEXT_MODEL, allow_patterns=TEXT_MODEL_PATTERNS, cache_dir=cache_dir))
    except LocalEntryNotFoundError:
        text_model = None
    if text_model is None or not all((text_model / file).is_file() for file in TEXT_MODEL_FILES):
        raise _missing(f"The config and tokenizer of {TEXT_MODEL}", f"hf download {TEXT_MODEL} {files}", cache_dir)
    # the cache keeps each file under `snapshots/<commit>/`: the commit names the converted folder's revision
    return checkpoint, text_model, checkpoint.parent.name


def converted_root() -> Path:
    """Where converted folders are kept: `huggingface_hub.cached_assets_path`'s layout (`hf cache` tools know it)."""
    return Path(constants.HF_ASSETS_CACHE) / "unisign" / "converted"


def save_converted(model, processor, out: str | Path, checkpoint: str, language: str) -> Path:
    """Save a converted model (and processor) to `out` with its card, licence and remote-code files.

    Args:
        model: The `UniSignForConditionalGeneration` of `convert_reference_checkpoint`.
        processor: Its `UniSignProcessor`, or `None` (no tokenizer was given).
        out: The folder to write.
        checkpoint: The reference checkpoint's name (a released one gets the released card).
        language: The processor's default prompt language.

    Returns:
        `Path`: `out`.
    """
    from .model_card import make_shareable, write_card_source

    out = Path(out)
    # written beside `out`, then moved in: a failure (a full disk) leaves no folder without its weights
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    staging = temporary / out.name  # the card names the folder: the same name as `out`
    try:
        model.save_pretrained(staging)
        if processor is not None:
            processor.save_pretrained(staging)
        if not (staging / "config.json").is_file():  # `save_pretrained` only logs an error for some bad folders
            raise InvalidInputError(f"Nothing was written to `{out}`.")
        write_card_source(staging, {"kind": "converted", "checkpoint": checkpoint, "language": language})
        make_shareable(staging)
        staging.chmod(0o755)  # mkdtemp's 0700 would make the folder private to its writer
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():  # a folder with other files: each converted file replaces its old version whole
            for path in staging.iterdir():
                path.replace(out / path.name)
        else:
            staging.rename(out)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return out


def released_folder(name: str, revision: str | None = None, cache_dir: str | None = None) -> Path:
    """The converted folder of a released checkpoint: from the cache, or downloaded and converted once.

    The folder is written under a temporary name and renamed when complete, so an interrupted conversion never
    leaves a folder that looks converted, and two processes converting at once keep one result.

    Args:
        name: A released checkpoint name, or `released:NAME`.
        revision: Revision of the authors' repository; its default branch when `None`.
        cache_dir: The Hugging Face Hub cache for the downloads; `HF_HUB_CACHE` when `None`.

    Returns:
        `Path`: A folder `from_pretrained` loads (model, processor, card, remote code).
    """
    from ..models.unisign.convert_unisign_original_checkpoint import convert_reference_checkpoint

    name = released_name(name) or name
    released = _checkpoint(name)
    checkpoint, text_model, commit = download_released(name, revision, cache_dir)
    folder = converted_root() / f"{name}-{commit}"
    if (folder / "config.json").is_file():
        return folder
    logger.warning(LICENCE_NOTICE.format(name=name, repo=REFERENCE_HUB_REPO))
    # the released file name gives the language and the ISLR checkpoints' 64 frames
    model, processor = convert_reference_checkpoint(checkpoint, text_model, tokenizer=text_model)
    partial = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.partial")
    try:
        save_converted(model, processor, partial, name, released.language)
        try:
            partial.rename(folder)
        except OSError:  # another process finished first: keep its folder
            if not (folder / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def from_released(name: str, revision: str | None = None, cache_dir: str | None = None, **model_kwargs):
    """Load one of the authors' released checkpoints, ready to translate: `(model, processor)`.

    A function of its own rather than `from_pretrained`: the authors' repository holds reference `.pth` files, not
    `save_pretrained` folders, so a transformers `from_pretrained` cannot read it; this converts once (network, a
    few GB of memory) and then loads the cached folder with `from_pretrained`. `released:NAME` is accepted too, the
    form the command line's `--model` uses to mean the released file even where a local folder has that name.

    Args:
        name: One of the eight released files without `.pth`: `csl_stage1_weight`, `csl_stage2_weight`,
            `csl_daily_pose_only_slt`, `csl_daily_rgb_pose_slt`, `wlasl_pose_only_islr`, `wlasl_rgb_pose_islr`,
            `how2sign_pose_only_slt`, `openasl_pose_only_slt`.
        revision: Revision of the authors' repository; its default branch when `None`.
        cache_dir: The Hugging Face Hub cache for the downloads; `HF_HUB_CACHE` when `None`.
        model_kwargs: Passed to `UniSignForConditionalGeneration.from_pretrained` (`dtype`, `device_map`, ...).

    Returns:
        `(UniSignForConditionalGeneration, UniSignProcessor)`.
    """
    from ..models.unisign.modeling_unisign import UniSignForConditionalGeneration
    from ..models.unisign.processing_unisign import UniSignProcessor

    folder = released_folder(name, revision, cache_dir)
    model = UniSignForConditionalGeneration.from_pretrained(folder, **model_kwargs).eval()
    return model, UniSignProcessor.from_pretrained(folder)


def resolve_released_model(reference: str) -> str:
    """A `--model` value with a released name replaced by its converted folder (converted once); others unchanged."""
    name = released_name(reference)
    return reference if name is None else str(released_folder(name))


__all__ = [
    "RELEASED_PREFIX",
    "TEXT_MODEL",
    "converted_root",
    "download_released",
    "from_released",
    "released_folder",
    "released_name",
    "resolve_released_model",
    "save_converted",
]
