"""Score Uni-Sign outputs, or run a model over a dataset split and score it: the `unisign evaluate` command line.

    unisign evaluate score --predictions pres.txt --references refs.txt [--task slt|cslr|islr] [--lang zh]
    unisign evaluate --model outputs/slt/best --data my-pose-dataset --split test --task slt --output-dir eval/

`python evaluate.py ...` (the root script) runs the same `main`. Prediction and reference files are plain (one
sentence a line) or in the reference's `sample: <name>, prediction: <text>` / `sample: <name>, ground-truth: <text>`
format. Model runs generate in batches, then compute the task's scores (`unisign.metrics`). Frame sampling is
deterministic (evenly spaced frames, most reliable hand frames) unless asked otherwise, so two runs give the same
numbers.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .errors import one_line_errors, pop_debug_flag
from .metrics import ISLR_NORMALIZATIONS, LANGUAGES, TASKS, compute_metrics, read_prediction_and_reference_files
from .processing_unisign import UniSignDataCollator
from .validation import check_device, check_output_folder, checked_model, positive_int


def generate_texts(
    model, processor, dataset, batch_size: int = 8, progress: bool = True, **generate_kwargs
) -> list[str]:
    """Translate every clip of `dataset` (a `SignDataset`) in batches; `generate_kwargs` override model settings."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, collate_fn=UniSignDataCollator(processor))
    device = next(model.parameters()).device
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
    model, processor, dataset, output_dir: Path, split: str, batch_size: int = 8, **generate_kwargs
) -> dict:
    """Generate for a split, score it, write `<split>_predictions.txt`, `_references.txt` and `_scores.json`.

    Args:
        model: A `UniSignForConditionalGeneration` (or a PEFT model around one).
        processor: Its `UniSignProcessor`.
        dataset: A `SignDataset` in evaluation mode (its `task` and `language` decide targets and scores).
        output_dir: Where the three files go.
        split: Name used in the file names.
        batch_size: Clips per generation batch.
        generate_kwargs: Generation settings overriding the model's (`num_beams`, `max_new_tokens`, ...).

    Returns:
        `dict[str, float]`: the task's scores (see `unisign.metrics.compute_metrics`).
    """
    predictions = generate_texts(model, processor, dataset, batch_size, **generate_kwargs)
    references = [dataset.target(index) for index in range(len(dataset))]
    names = [dataset.sample(index).id for index in range(len(dataset))]
    scores = compute_metrics(dataset.task.lower(), predictions, references, lang=dataset.language)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_sample_texts(output_dir / f"{split}_predictions.txt", names, predictions, "prediction")
    write_sample_texts(output_dir / f"{split}_references.txt", names, references, "ground-truth")
    (output_dir / f"{split}_scores.json").write_text(json.dumps(scores, indent=2))
    return scores


TASK_HELP = "slt: BLEU and ROUGE-L; cslr: WER; islr: top-1 (default: slt)"


def build_parser(prog: str = "unisign evaluate") -> argparse.ArgumentParser:
    """Build the command-line parser: the `score` subcommand, and the model options at the top level."""
    parser = argparse.ArgumentParser(prog=prog, description="Score Uni-Sign outputs as the reference evaluation does.")
    model_options = parser.add_argument_group("run a model over a dataset split")
    model_options.add_argument("--model", help="model folder or Hub id")
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
    model_options.add_argument("--batch-size", type=positive_int, default=8, help="clips per batch (default: 8)")
    model_options.add_argument("--num-beams", type=positive_int, help="beam size (default: the model's, 4)")
    model_options.add_argument(
        "--max-new-tokens", type=positive_int, help="longest output (default: the model's, 100)"
    )
    model_options.add_argument("--max-samples", type=positive_int, help="evaluate only the first N clips")
    model_options.add_argument("--output-dir", type=Path, help="where predictions, references and scores go")
    model_options.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")

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
        "src/unisign/hub_metric/unisign_metric) instead of calling unisign.metrics directly",
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

    from .training.arguments import DataArguments
    from .training.data import SignDataset, load_split

    check_device(args.device)
    output_dir = args.output_dir or Path(f"eval_{Path(args.model).name}_{args.split}")
    check_output_folder(output_dir, (args.model, args.data), "--output-dir")  # before the model runs
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    folder = checked_model(args.model)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).to(device)
    processor = AutoProcessor.from_pretrained(folder)
    data = DataArguments(
        format="reference" if args.labels else "parquet",
        path=None if args.labels else args.data,
        dataset=args.data if args.labels else None,
        eval_labels=args.labels,
        pose_dir=args.pose_dir,
        eval_split=args.split,
        train_split="",
        max_eval_samples=args.max_samples,
    )
    language = args.language or processor.language
    video_dir = args.video_dir if model.config.use_rgb else None
    if model.config.use_rgb and not video_dir:
        raise ValueError("This model has an RGB branch: give the videos with `--video-dir`.")
    dataset = SignDataset(
        load_split(data, args.split), processor, args.task.upper(), language, train=False, video_dir=video_dir
    )
    generate_kwargs = {
        key: value for key, value in (("num_beams", args.num_beams), ("max_new_tokens", args.max_new_tokens)) if value
    }
    return evaluate_split(model, processor, dataset, output_dir, args.split, args.batch_size, **generate_kwargs)


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
        try:
            scores = score_files(args)
        except (ValueError, ImportError, FileNotFoundError) as error:
            parser.exit(1, f"{parser.prog} score: error: {error}\n")
        print(json.dumps(scores))
        return 0
    if not model_options_given:
        parser.error("nothing to do: give `--model`, `--data` and `--split`, or use `score`.")
    if not (args.model and args.data and args.split):
        parser.error("running a model needs `--model`, `--data` and `--split`.")
    try:
        scores = evaluate_model(args)
    except (ValueError, ImportError, FileNotFoundError, OSError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    print(json.dumps(scores))
    return 0


__all__ = [
    "build_parser",
    "evaluate_model",
    "evaluate_split",
    "generate_texts",
    "main",
    "score_files",
    "write_sample_texts",
]
