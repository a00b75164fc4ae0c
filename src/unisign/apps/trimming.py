"""Vocabulary trimming: keep only the tokens that a fine-tuned model's training texts, prompts and special tokens use.

mT5's vocabulary has 250,112 tokens; a model fine-tuned on one dataset writes a few thousand of them. Trimming keeps
the rows of the embedding and of `lm_head` of those tokens (sorted by id, so `<pad>`, `</s>` and `<unk>` keep ids 0,
1, 2), which shrinks the weights, the logits of every decoding step and the beam search over them. The tokenizer stays
whole: the kept ids are recorded in `config.kept_token_ids` and in the processor (`UniSignProcessor.kept_token_ids`),
which maps ids at its boundary (prompt and labels in, generated ids out), so `pipeline()`, `unisign translate`,
`generate` + `processor.batch_decode`, `evaluate.py` and the ONNX runtime give the untrimmed model's texts on every
clip whose best translation uses kept tokens only. The trimmed model cannot write any other token, and a prompt or
label token that it dropped is read as `<unk>`.
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from ..utils.errors import InvalidInputError, MissingInputError, UnsupportedError
from ..utils.validation import check_loaded_weights, check_model_folder, check_output_folder


# files of a model folder that a trimmed copy keeps as they are (scores, the card's sources)
KEPT_FILES = ("card_source.json", "eval_results.json", "test_results.json", "all_results.json")
RUN_CONFIG_FILE = "train_config.yaml"


@dataclass(frozen=True)
class TrimResult:
    """What `trim_folder` wrote: the folder, and the vocabulary size before and after."""

    folder: Path
    vocab_size_before: int
    vocab_size_after: int


def kept_token_ids(processor, texts: list[str], special_ids: tuple[int, ...] = ()) -> list[int]:
    """The sorted tokenizer ids that `texts`, the processor's prompts and the special tokens use.

    Args:
        processor (`UniSignProcessor`): Its tokenizer and prompts; its `kept_token_ids` (an already trimmed model)
            bound what may be kept.
        texts (`list[str]`): The training texts (targets of every task).
        special_ids (`tuple[int, ...]`): Further ids to keep (the model's pad, eos and decoder start tokens).

    Raises:
        InvalidInputError: for no texts, or texts that need tokens an already trimmed model dropped.
    """
    texts = [text for text in texts if text and text.strip()]
    if not texts:
        raise InvalidInputError("No texts to trim the vocabulary to: give the training texts (`--texts`).")
    tokenizer = processor.tokenizer
    ids = {0, 1, 2, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, *special_ids}
    for start in range(0, len(texts), 1000):
        ids.update(token for row in tokenizer(texts[start : start + 1000])["input_ids"] for token in row)
    ids.update(token for row in tokenizer(sorted(set(processor.prompts.values())))["input_ids"] for token in row)
    ids.discard(None)
    current = processor.kept_token_ids
    if current is not None:
        missing = sorted(ids - set(current))
        if missing:
            examples = ", ".join(repr(token) for token in tokenizer.convert_ids_to_tokens(missing[:5]))
            raise InvalidInputError(
                f"This model's vocabulary is trimmed already and lacks {len(missing)} token(s) the texts use "
                f"({examples}{', ...' if len(missing) > 5 else ''}): trim the untrimmed model instead."
            )
    return sorted(ids)


def trim_model(model, kept: list[int]) -> None:
    """Keep only the embedding and `lm_head` rows of the tokenizer ids `kept` (sorted), in place.

    Args:
        model (`UniSignForConditionalGeneration`): Whole, or trimmed already (then `kept` must be a subset of its
            `config.kept_token_ids`).
        kept (`list[int]`): Sorted tokenizer ids, from `kept_token_ids`.
    """
    current = model.config.kept_token_ids
    rows = torch.tensor(kept if current is None else [current.index(token) for token in kept])
    language_model = model.language_model
    embedding = language_model.get_input_embeddings().weight.detach()
    kept_rows = embedding[rows.to(embedding.device)].clone()
    language_model.set_input_embeddings(nn.Embedding.from_pretrained(kept_rows, freeze=False))
    head = language_model.get_output_embeddings().weight.detach()  # (vocabulary, d_model), no bias in mT5
    trimmed_head = nn.Linear(head.shape[1], len(kept), bias=False, device="meta")
    trimmed_head.weight = nn.Parameter(head[rows.to(head.device)].clone())
    language_model.set_output_embeddings(trimmed_head)
    for config in {id(c): c for c in (model.config.text_config, language_model.config)}.values():
        config.vocab_size = len(kept)
    model.config.kept_token_ids = list(kept)


def read_texts(source: str | Path) -> list[str]:
    """The texts of `--texts`: a text file (one text per line, UTF-8), or a pose dataset's training split.

    A dataset is a folder of `save_pose_dataset` or of the synthetic generator, or a Hub id; its `train` split's
    sentences and gloss sequences (joined by spaces, as the CSLR targets are) are read.
    """
    path = Path(source)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise InvalidInputError(f"`--texts {source}` is not UTF-8 text ({error.reason}).") from None
    from ..data.dataset import load_split

    if not path.is_dir() and (str(source).count("/") != 1 or str(source).startswith((".", "/"))):
        raise MissingInputError(f"`--texts {source}` is neither a text file, a dataset folder nor a Hub dataset id.")
    synthetic = (path / "generation.json").is_file()
    split_source = SimpleNamespace(
        format="synthetic" if synthetic else "parquet",
        path=str(source),
        train_split="train",
        max_train_samples=None,
        max_eval_samples=None,
        in_memory=False,
    )
    rows = load_split(split_source, "train").with_format(None).select_columns(["text", "gloss"])
    return [row["text"] or "" for row in rows] + [" ".join(row["gloss"] or []) for row in rows]


def run_folder_of(folder: Path) -> Path | None:
    """The `train.py` run folder a model folder belongs to: itself or its parent, whichever has `train_config.yaml`."""
    return next((run for run in (folder, folder.parent) if (run / RUN_CONFIG_FILE).is_file()), None)


def training_texts(folder: str | Path) -> list[str]:
    """The training texts a `train.py` run recorded for a model folder (its `best/` or `final/` export).

    The run's `train_config.yaml` names its data; the targets of every task of its training split and its prompts
    are read (`unisign.training.setup.new_tokenizer_texts`). Relative data paths are taken from the directory
    `train.py` ran in, the run folder less its relative `training.output_dir`; where that cannot be told (an absolute
    or moved `output_dir`), from the current directory.

    Raises:
        MissingInputError: when the folder belongs to no run or the run's data is not there (give `--texts`).
    """
    from ..training.arguments import load_config
    from ..training.data import looks_like_a_hub_dataset_id
    from ..training.setup import new_tokenizer_texts

    folder = Path(folder)
    run = run_folder_of(folder)
    if run is None:
        raise MissingInputError(
            f"`{folder}` records no training data (no {RUN_CONFIG_FILE} in it or its run folder): give the training "
            "texts with `--texts FILE|DATASET`."
        )
    config = load_config(run / RUN_CONFIG_FILE)
    data = config.data
    run_parts = run.resolve().parts
    output_dir = Path(config.training.output_dir)
    kept = len(run_parts) - len(output_dir.parts)
    # an absolute output_dir tells nothing of where train.py ran, nor does one the run folder no longer ends with
    if not output_dir.is_absolute() and run_parts[kept:] == output_dir.parts:
        launch = Path(*run_parts[:kept])
        for name in ("path", "train_labels", "pose_dir"):
            value = getattr(data, name)
            hub_id = name == "path" and data.format != "reference" and looks_like_a_hub_dataset_id(value)
            if value and not Path(value).is_absolute() and ((launch / value).exists() or not hub_id):
                setattr(data, name, str(launch / value))  # not the current directory's: it may hold other data
    local = data.path if data.format != "reference" else data.train_labels
    hub_id = data.format != "reference" and looks_like_a_hub_dataset_id(local)
    if local and not Path(local).exists() and not hub_id:
        raise MissingInputError(
            f"The run's training data `{local}` ({run / RUN_CONFIG_FILE}) is not there: give the training texts with "
            "`--texts FILE|DATASET`."
        )
    data.in_memory = False  # only the targets are read
    return new_tokenizer_texts(config)


def trim_folder(
    folder: str | Path, out: str | Path, texts: list[str] | None = None, verify: bool = False
) -> TrimResult:
    """Write a copy of a model folder whose vocabulary keeps only the tokens of `texts`, the prompts and specials.

    Args:
        folder: A Uni-Sign model folder with its processor (`train.py` export, `save_pretrained`, `unisign convert
            --tokenizer`), whole or trimmed already.
        out: The new folder (must not exist or be empty).
        texts (`list[str]`, *optional*): The training texts; by default those its `train.py` run recorded
            (`training_texts`).
        verify (`bool`, *optional*, defaults to `False`): Read and check every byte of `folder` first (its recorded
            SHA-256s and every tensor: `check_model_folder`), as `--verify` asks.

    Returns:
        `TrimResult`.

    Raises:
        UnsupportedError: for an ONNX export or a LoRA adapter folder (trim the merged PyTorch model, then export).
        InvalidInputError, MissingInputError: for a damaged folder, no processor, no texts, texts that need tokens
            a trimmed model dropped, or a bad `out`.
    """
    from ..hub.model_card import write_trimmed_card
    from ..models.unisign.modeling_unisign import UniSignForConditionalGeneration
    from ..models.unisign.processing_unisign import UniSignProcessor
    from ..utils.checksums import write_checksums

    folder, out = Path(folder), check_output_folder(out, (folder,))
    if (folder / "onnx_config.json").is_file() or (folder / "adapter_config.json").is_file():
        raise UnsupportedError(
            f"`{folder}` is an ONNX export or a LoRA adapter: trim the (merged) PyTorch model folder, e.g. with "
            "`unisign export-onnx MODEL --out DIR --trim-vocab`."
        )
    if not (folder / "processor_config.json").is_file():
        raise MissingInputError(
            f"`{folder}` has no processor (processor_config.json): its tokenizer and prompts say which tokens to keep."
        )
    if out.exists() and any(out.iterdir()):
        raise InvalidInputError(f"`{out}` exists and is not an empty folder: choose a new output folder.")
    check_model_folder(folder, verify=verify)
    texts = training_texts(folder) if texts is None else list(texts)
    model = UniSignForConditionalGeneration.from_pretrained(folder, dtype="auto")
    if not verify:  # the headers were checked before; the weights now, as every model-loading command does
        check_loaded_weights(model, folder)
    processor = UniSignProcessor.from_pretrained(folder)
    before = model.config.text_config.vocab_size
    config = model.config
    kept = kept_token_ids(processor, texts, (config.pad_token_id, config.eos_token_id, config.decoder_start_token_id))
    trim_model(model, kept)
    processor.kept_token_ids = kept
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    staging.chmod(0o755)
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        for name in KEPT_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, staging / name)
        if (folder / ".eval_results").is_dir():
            shutil.copytree(folder / ".eval_results", staging / ".eval_results")
        write_trimmed_card(staging, folder / "README.md")
        write_checksums(staging, "*.safetensors")
        if out.exists():
            out.rmdir()
        staging.rename(out)  # atomic: a failed trim leaves no half-written folder behind
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return TrimResult(out, before, len(kept))


def describe(result: TrimResult) -> str:
    """One line on a trim: the folder, the rows kept, the size of its weights."""
    size = sum(path.stat().st_size for path in result.folder.glob("*.safetensors"))
    return (
        f"Wrote {result.folder}: {result.vocab_size_after:,} of {result.vocab_size_before:,} token rows kept "
        f"({size / 1e6:.1f} MB of weights)."
    )


__all__ = ["TrimResult", "kept_token_ids", "read_texts", "training_texts", "trim_folder", "trim_model"]
