"""Score Uni-Sign outputs, or run a model over a dataset split and score it: the `unisign evaluate` command line.

    unisign evaluate score --predictions pres.txt --references refs.txt [--task slt|cslr|islr] [--lang zh]
    unisign evaluate --model outputs/slt/best --data my-pose-dataset --split test --task slt --output-dir eval/

`python evaluate.py ...` (the root script) runs the same `main`. Prediction and reference files are plain (one
sentence a line) or in the reference's `sample: <name>, prediction: <text>` / `sample: <name>, ground-truth: <text>`
format. Model runs generate in batches, then compute the task's scores (`unisign.evaluation.metrics`). Frame sampling
is
deterministic (evenly spaced frames, most reliable hand frames) unless asked otherwise, so two runs give the same
numbers.
"""

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from tqdm.auto import tqdm
from transformers.utils import logging

from ..models.unisign.configuration_unisign import MAX_NEW_TOKENS, MAX_NUM_BEAMS
from ..models.unisign.processing_unisign import UniSignDataCollator
from ..utils.arguments import add_verify_argument, positive_int, whole_number_at_least
from ..utils.errors import InvalidInputError, UsageError, input_errors, one_line_errors, pop_debug_flag
from ..utils.validation import (
    check_device,
    check_loaded_weights,
    check_output_folder,
    check_tokenizer_size,
    checked_model,
)
from .metrics import ISLR_NORMALIZATIONS, LANGUAGES, TASKS, _preview, compute_metrics


logger = logging.get_logger(__name__)

# how `unisign.evaluation.metrics.score_translation` tokenises each language's text for BLEU (and ROUGE-L)
BLEU_TOKENIZERS = {"zh": "characters (whitespace removed, one token per character, then sacrebleu 13a)", "en": "13a"}
_SAMPLE_LINE = re.compile(r"^sample: (?P<name>.+?), (?P<field>prediction|ground-truth):(?: (?P<text>.*))?$")


@dataclass(frozen=True)
class SampleTexts:
    """The lines of a prediction or reference file: texts, and sample names when the file gives them.

    Attributes:
        texts (`list[str]`): one text per line, in file order.
        names (`list[str]`, *optional*): the sample names of a `sample: <name>, <field>: <text>` file; `None` for a
            plain file.
        field (`str`, *optional*): `"prediction"` or `"ground-truth"` for a named file; `None` for a plain file.
    """

    texts: list[str]
    names: list[str] | None = None
    field: str | None = None


@dataclass(frozen=True)
class PairedTexts:
    """Predictions and references matched one to one, ready for `compute_metrics`.

    Attributes:
        predictions (`list[str]`): the predictions, in the order of `references`.
        references (`list[str]`): the references, in reference-file order.
        names (`list[str]`, *optional*): the sample names in that order, when the reference file gives them.
    """

    predictions: list[str]
    references: list[str]
    names: list[str] | None = None


def read_sample_texts(path: str | Path) -> SampleTexts:
    """Read a prediction or reference file: plain (one text a line) or in the reference's named format.

    The named format has one `sample: <name>, prediction: <text>` or `sample: <name>, ground-truth: <text>` line per
    sample; the format is recognised when every line follows it, and a file mixing both kinds of lines is rejected.
    In a plain file every line is a text, empty lines included (an empty prediction is a valid output); only the
    newline that ends the last line is not a line of its own. The file is read as UTF-8 (a byte-order mark is
    dropped); lines may end in LF or CRLF.

    Args:
        path (`str` or `Path`): the file.

    Returns:
        `SampleTexts`: the texts, and the names and field for a named file.

    Raises:
        ValueError: if the file mixes named and plain lines, mixes `prediction` and `ground-truth` lines, or is empty.
    """
    path = Path(path)
    with input_errors(path, "a text file"):  # missing, a folder, or not UTF-8 (UTF-16, Latin-1)
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    lines = [line.removesuffix("\r") for line in lines]
    if not lines:
        raise InvalidInputError(f"`{path}` is empty: expected one prediction or reference per line.")
    matches = [_SAMPLE_LINE.match(line) for line in lines]
    named_lines = [number for number, match in enumerate(matches, start=1) if match is not None]
    if not named_lines:
        return SampleTexts(texts=lines)
    if len(named_lines) != len(lines):
        plain_lines = [number for number, match in enumerate(matches, start=1) if match is None]
        raise InvalidInputError(
            f"`{path}` mixes `sample: <name>, prediction: <text>` lines with other lines (lines "
            f"{_preview(plain_lines)} are not in that format). Use one format for the whole file: all lines named, or "
            "plain text only."
        )
    fields = sorted({match["field"] for match in matches})
    if len(fields) > 1:
        raise InvalidInputError(
            f"`{path}` mixes `prediction` and `ground-truth` lines; a file holds one kind of text."
        )
    return SampleTexts(
        texts=[match["text"] or "" for match in matches],
        names=[match["name"] for match in matches],
        field=fields[0],
    )


def _duplicate_names(names: list[str]) -> list[str]:
    """The names that occur more than once, in order of first repetition."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in names:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    return duplicates


def read_prediction_and_reference_files(predictions_path: str | Path, references_path: str | Path) -> PairedTexts:
    """Read a prediction file and a reference file (see `read_sample_texts`) and pair their lines.

    When both files name their samples, predictions are matched to references by name (the files may list them in
    different orders) and the names must be the same set, each appearing once per file. Otherwise the lines are
    paired by position and the files must have the same number of lines.

    Args:
        predictions_path (`str` or `Path`): the predictions, e.g. the reference's `test_tmp_pres.txt`.
        references_path (`str` or `Path`): the references, e.g. the reference's `test_tmp_refs.txt`.

    Returns:
        `PairedTexts`: predictions and references in reference-file order, with the names when known.

    Raises:
        ValueError: on a malformed file, on duplicate, missing or extra sample names, or on different line counts.
    """
    predicted = read_sample_texts(predictions_path)
    expected = read_sample_texts(references_path)
    if predicted.field == "ground-truth" or expected.field == "prediction":
        logger.warning(
            f"`{predictions_path}` holds {predicted.field or 'plain'} lines and `{references_path}` holds "
            f"{expected.field or 'plain'} lines: were the prediction and reference files swapped?"
        )
    if predicted.names is None or expected.names is None:
        if len(predicted.texts) != len(expected.texts):
            raise InvalidInputError(
                f"`{predictions_path}` has {len(predicted.texts)} lines but `{references_path}` has "
                f"{len(expected.texts)}; without sample names in both files, lines are paired by position, so the "
                "counts must match."
            )
        return PairedTexts(predictions=predicted.texts, references=expected.texts, names=expected.names)
    for path, sample_texts in ((predictions_path, predicted), (references_path, expected)):
        duplicates = _duplicate_names(sample_texts.names)
        if duplicates:
            raise InvalidInputError(
                f"`{path}` names {len(duplicates)} samples more than once ({_preview(duplicates)}), so predictions "
                "cannot be matched to references by name."
            )
    prediction_by_name = dict(zip(predicted.names, predicted.texts, strict=True))
    missing = [name for name in expected.names if name not in prediction_by_name]
    reference_names = set(expected.names)
    extra = [name for name in predicted.names if name not in reference_names]
    if missing or extra:
        raise InvalidInputError(
            f"The sample names of `{predictions_path}` and `{references_path}` differ: {len(missing)} references "
            f"have no prediction ({_preview(missing) or 'none'}) and {len(extra)} predictions have no reference "
            f"({_preview(extra) or 'none'})."
        )
    return PairedTexts(
        predictions=[prediction_by_name[name] for name in expected.names],
        references=expected.texts,
        names=expected.names,
    )


def generate_texts(
    model, processor, dataset, batch_size: int = 8, progress: bool = True, **generate_kwargs
) -> list[str]:
    """Translate every clip of `dataset` (a `SignDataset`) in batches; `generate_kwargs` override model settings."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=UniSignDataCollator(processor))
    device = model.device  # an ONNX export has no parameters; it says `cpu`
    texts = []
    model.eval()
    for batch in tqdm(loader, desc="Generating", disable=not progress):
        inputs = {key: value.to(device) for key, value in batch.items() if key != "labels"}
        with torch.no_grad():
            texts += processor.batch_decode(model.generate(**inputs, **generate_kwargs))
    return texts


def write_sample_texts(path: Path, names: list[str], texts: list[str], field: str) -> None:
    """One line per sample in the reference's format: `sample: <name>, <field>: <text>`."""
    path.write_text("".join(f"sample: {name}, {field}: {text}\n" for name, text in zip(names, texts, strict=True)))


def evaluate_split(
    model,
    processor,
    dataset,
    output_dir: Path,
    split: str,
    batch_size: int = 8,
    lang: str | None = None,
    **generate_kwargs,
) -> dict:
    """Generate for a split, score it, write `<split>_predictions.txt`, `_references.txt` and `_scores.json`.

    Args:
        model: A `UniSignForConditionalGeneration` (or a PEFT model around one).
        processor: Its `UniSignProcessor`.
        dataset: A `SignDataset` in evaluation mode (its `task` and `language` decide targets and scores).
        output_dir: Where the three files go.
        split: Name used in the file names.
        batch_size: Clips per generation batch.
        lang: Language of the references, which decides how translations are tokenised for BLEU and ROUGE (`zh`
            per character, else by words); defaults to the dataset's prompt language.
        generate_kwargs: Generation settings overriding the model's (`num_beams`, `max_new_tokens`, ...).

    Returns:
        `dict`: the task's scores (see `unisign.evaluation.metrics.compute_metrics`); translation scores also name the
        references' language (`lang`) and BLEU's tokenisation (`bleu_tokenizer`).
    """
    predictions = generate_texts(model, processor, dataset, batch_size, **generate_kwargs)
    references = [dataset.target(index) for index in range(len(dataset))]
    names = [dataset.sample(index).id for index in range(len(dataset))]
    lang = lang or dataset.language
    scores = compute_metrics(dataset.task.lower(), predictions, references, lang=lang)
    if dataset.task == "SLT":
        scores |= {"lang": lang, "bleu_tokenizer": BLEU_TOKENIZERS[lang]}
    output_dir.mkdir(parents=True, exist_ok=True)
    predictions_file, references_file, scores_file = _result_files(split)
    write_sample_texts(output_dir / predictions_file, names, predictions, "prediction")
    write_sample_texts(output_dir / references_file, names, references, "ground-truth")
    (output_dir / scores_file).write_text(json.dumps(scores, indent=2))
    return scores


TASK_HELP = "slt: BLEU and ROUGE-L; cslr: WER; islr: top-1 (default: slt)"


def build_parser(prog: str = "unisign evaluate") -> argparse.ArgumentParser:
    """Build the command-line parser: the `score` subcommand, and the model options at the top level."""
    parser = argparse.ArgumentParser(prog=prog, description="Score Uni-Sign outputs as the reference evaluation does.")
    model_options = parser.add_argument_group("run a model over a dataset split")
    model_options.add_argument(
        "--model", help="model folder, Hub id or released name, or a folder written by `unisign export-onnx`"
    )
    model_options.add_argument(
        "--data",
        help="pose dataset folder or Hub id (Parquet, see unisign.data.save_pose_dataset), or with --labels the "
        "reference layout name (CSL_Daily, WLASL, How2Sign, OpenASL, MSASL, CSL_News)",
    )
    model_options.add_argument("--split", help="split to evaluate, e.g. dev or test")
    model_options.add_argument("--task", choices=TASKS, default="slt", help=TASK_HELP)
    model_options.add_argument("--labels", help="reference label file of the split (reference layout)")
    model_options.add_argument("--pose-dir", help="folder of the reference pose pickles (reference layout)")
    model_options.add_argument("--video-dir", help="folder of the videos, for RGB-pose models")
    model_options.add_argument("--language", help="prompt language, zh or en (default: the processor's)")
    model_options.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="language of the references, which sets BLEU's tokenisation (zh per character); default: the dataset's "
        "(reference layout, or the clips' `language`), else the prompt language",
    )
    model_options.add_argument("--batch-size", type=positive_int, default=8, help="clips per batch (default: 8)")
    model_options.add_argument(
        "--num-beams", type=whole_number_at_least(1, MAX_NUM_BEAMS), help="beam size (default: the model's, 4)"
    )
    model_options.add_argument(
        "--max-new-tokens",
        type=whole_number_at_least(1, MAX_NEW_TOKENS),
        help="longest output (default: the model's, 100)",
    )
    model_options.add_argument("--max-samples", type=positive_int, help="evaluate only the first N clips")
    model_options.add_argument("--output-dir", type=Path, help="where predictions, references and scores go")
    model_options.add_argument(
        "--overwrite", action="store_true", help="replace the results of an earlier run of the split in --output-dir"
    )
    model_options.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    add_verify_argument(model_options)

    subcommands = parser.add_subparsers(dest="command", metavar="{score}")
    score_parser = subcommands.add_parser(
        "score",
        help="score prediction and reference files",
        description="Score a prediction file against a reference file and print the scores as one JSON object.",
    )
    score_parser.add_argument("--predictions", type=Path, required=True, help="prediction file, one sample a line")
    score_parser.add_argument("--references", type=Path, required=True, help="reference file, one sample a line")
    score_parser.add_argument("--task", choices=TASKS, default="slt", help=TASK_HELP)
    score_parser.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="zh scores translations per character (default: en)"
    )
    score_parser.add_argument(
        "--islr-normalize",
        choices=ISLR_NORMALIZATIONS,
        default="none",
        help="ISLR only: 'lower' lower-cases and collapses whitespace before matching (default: none, exact match)",
    )
    score_parser.add_argument("--bleurt-checkpoint", help="SLT only: also report BLEURT (needs the `bleurt` package)")
    score_parser.add_argument(
        "--metric-module",
        help="compute through this `evaluate` metric module (a folder or Hub id, e.g. "
        "spaces/unisign_metric) instead of calling unisign.evaluation.metrics directly",
    )
    return parser


def score_files(args: argparse.Namespace) -> dict[str, float]:
    """Read and pair the prediction and reference files, and score them.

    Args:
        args (`argparse.Namespace`): the parsed `score` arguments.

    Returns:
        `dict[str, float]`: the scores of `args.task`.

    Raises:
        ValueError: if the files cannot be paired or scored.
    """
    paired = read_prediction_and_reference_files(args.predictions, args.references)
    options = {"lang": args.lang, "islr_normalize": args.islr_normalize, "bleurt_checkpoint": args.bleurt_checkpoint}
    if args.metric_module is None:
        return compute_metrics(args.task, paired.predictions, paired.references, **options)
    import evaluate  # the library (the root evaluate.py takes its own folder off sys.path before importing this)

    module = evaluate.load(args.metric_module, keep_in_memory=True)
    return module.compute(predictions=paired.predictions, references=paired.references, task=args.task, **options)


def evaluate_model(args: argparse.Namespace) -> dict[str, float]:
    """Run a model over a dataset split, write predictions, references and scores, and return the scores.

    Args:
        args (`argparse.Namespace`): the parsed top-level arguments (`--model`, `--data`, `--split`, ...).

    Returns:
        `dict[str, float]`: the scores of `args.task`.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    from ..apps.inference import load_onnx_model
    from ..data.dataset import SignDataset, load_split
    from ..hub.released import resolve_released_model
    from ..onnx import is_onnx_folder

    output_dir = args.output_dir or Path(f"eval_{Path(args.model).name}_{args.split}")
    check_output_folder(output_dir, (args.model, args.data), "--output-dir")  # before the model runs
    earlier = [name for name in _result_files(args.split) if (Path(output_dir) / name).exists()]
    if earlier and not args.overwrite:
        raise InvalidInputError(
            f"`--output-dir {output_dir}` holds the results of an earlier evaluation ({', '.join(earlier)}): add "
            "`--overwrite` to replace them, or choose another folder."
        )
    # a released name: its converted folder
    folder = checked_model(resolve_released_model(args.model), verify=args.verify)
    if not is_onnx_folder(folder):
        check_device(args.device)
    with input_errors(folder):  # transformers' and ONNX Runtime's refusals of a damaged folder
        if is_onnx_folder(folder):  # written by `unisign export-onnx`: ONNX Runtime, on the CPU
            model = load_onnx_model(folder, args.device, verify=args.verify)
        else:
            model = AutoModelForSeq2SeqLM.from_pretrained(folder)
        processor = AutoProcessor.from_pretrained(folder)
    if not args.verify:  # what `checked_model` and `load_onnx_model` left unread (docs/errors.md)
        if not is_onnx_folder(folder):
            check_loaded_weights(model, folder)  # NaN weights would score as wrong text
        vocab_size, kept = model.config.text_config.vocab_size, getattr(model.config, "kept_token_ids", None)
        check_tokenizer_size(folder, len(processor.tokenizer), vocab_size, kept)
    if not is_onnx_folder(folder):
        model.to(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    data = SimpleNamespace(  # a `SplitSource`: where the split is
        format="reference" if args.labels else "parquet",
        path=None if args.labels else args.data,
        dataset=args.data if args.labels else None,
        train_labels=None,
        eval_labels=args.labels,
        pose_dir=args.pose_dir,
        train_split="",
        max_train_samples=None,
        max_eval_samples=args.max_samples,
        in_memory=False,
    )
    language = args.language or processor.language
    if language not in processor.prompts:
        raise UsageError(f"`--language {language}`: the model has prompts for {', '.join(sorted(processor.prompts))}.")
    video_dir = args.video_dir if model.config.use_rgb else None
    if model.config.use_rgb and not video_dir:
        raise UsageError("This model has an RGB branch: give the videos with `--video-dir`.")
    with input_errors(args.data):  # the dataset readers' refusals of a damaged split
        samples = load_split(data, args.split)
    reference_language = args.lang or dataset_language(data, samples) or language
    if reference_language != language and args.task == "slt":  # glosses and sign words are compared as given
        logger.warning(
            f"The references are in `{reference_language}` but the prompt asks for `{language}`: scoring with the "
            f"references' tokenisation ({BLEU_TOKENIZERS.get(reference_language, BLEU_TOKENIZERS['en'])}). Give "
            "`--language` or `--lang` if either is wrong."
        )
    if reference_language not in LANGUAGES:  # German, French, ...: written with spaces, as English is
        logger.warning(
            f"The references are in `{reference_language}`, which has no BLEU tokenisation of its own here: scoring "
            f"it as `en` ({BLEU_TOKENIZERS['en']}, for languages that separate words by spaces). Give `--lang zh` "
            "for a language written without spaces."
        )
        reference_language = "en"
    dataset = SignDataset(samples, processor, args.task.upper(), language, train=False, video_dir=video_dir)
    generate_kwargs = {
        key: value for key, value in (("num_beams", args.num_beams), ("max_new_tokens", args.max_new_tokens)) if value
    }
    return evaluate_split(
        model, processor, dataset, output_dir, args.split, args.batch_size, reference_language, **generate_kwargs
    )


def _result_files(split: str) -> tuple[str, str, str]:
    """The files `evaluate_split` writes for `split`."""
    return f"{split}_predictions.txt", f"{split}_references.txt", f"{split}_scores.json"


def dataset_language(data, samples) -> str | None:
    """The written language of a split's references: its reference layout's, else the one its clips all name.

    Args:
        data (`DataArguments`): The split's settings (`dataset` names a reference layout).
        samples: The split (`PoseSample`s or a pose `datasets.Dataset`, whose `extra` may hold `language`).

    Returns:
        `str` or `None` when the split does not say (or its clips disagree).
    """
    from ..data.reference import REFERENCE_LAYOUTS

    if data.format == "reference" and data.dataset in REFERENCE_LAYOUTS:
        return REFERENCE_LAYOUTS[data.dataset].language
    if isinstance(samples, list):
        extras = [sample.extra for sample in samples]
    else:
        extras = [json.loads(row["extra"] or "{}") for row in samples.with_format(None).select_columns(["extra"])]
    languages = {extra.get("language") for extra in extras}
    return next(iter(languages)) if len(languages) == 1 else None


def main(argv: list[str] | None = None, prog: str = "unisign evaluate") -> int:
    """The command line of `unisign evaluate` and `python evaluate.py`: score, print the scores as one JSON object.

    Args:
        argv (`list[str]`, *optional*): the arguments; defaults to `sys.argv[1:]`.
        prog (`str`, *optional*): the command's name in help and error messages.

    Returns:
        `int`: the exit status, 0 on success.
    """
    argv, debug = pop_debug_flag(sys.argv[1:] if argv is None else list(argv))
    with one_line_errors(prog, debug):
        return _main(argv, prog)


def _main(argv: list[str], prog: str) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    model_options_given = any(value is not None for value in (args.model, args.data, args.split))
    if args.command == "score":
        if model_options_given:
            parser.error("`--model`, `--data` and `--split` cannot be combined with `score`.")
        scores = score_files(args)
        print(json.dumps(scores))
        return 0
    if not model_options_given:
        parser.error("nothing to do: give `--model`, `--data` and `--split`, or use `score`.")
    if not (args.model and args.data and args.split):
        parser.error("running a model needs `--model`, `--data` and `--split`.")
    scores = evaluate_model(args)
    print(json.dumps(scores))
    return 0


__all__ = [
    "PairedTexts",
    "SampleTexts",
    "build_parser",
    "dataset_language",
    "evaluate_model",
    "evaluate_split",
    "generate_texts",
    "main",
    "read_prediction_and_reference_files",
    "read_sample_texts",
    "score_files",
    "write_sample_texts",
]
