"""Score Uni-Sign outputs as the reference evaluation does.

Score existing prediction and reference files (plain, one sentence a line, or the reference's
`sample: <name>, prediction: <text>` / `sample: <name>, ground-truth: <text>` format) and print the scores as one JSON
object on standard output:

    python evaluate.py score --predictions test_tmp_pres.txt --references test_tmp_refs.txt --lang zh
    python evaluate.py score --predictions pres.txt --references refs.txt --task cslr

Run a model over a dataset split, writing predictions, references and scores (deterministic frame sampling):

    python evaluate.py --model outputs/slt/best --data my-pose-dataset --split test --task slt --output-dir eval/
    python evaluate.py --model uni-sign-csl-daily --split test --data CSL_Daily --labels labels.test --pose-dir poses

This file shares its name with the Hugging Face `evaluate` library. Python puts the folder of the script it runs
first on `sys.path`, so that folder is removed from it below, before anything is imported that may import the
library; importing this file *as* the module `evaluate` (e.g. from a Python session started in the repository root)
raises an `ImportError` that says so instead of silently replacing the library.
"""

import sys
from pathlib import Path


if __name__ == "evaluate":
    raise ImportError(
        f"`import evaluate` found the script {Path(__file__).resolve()} instead of the Hugging Face `evaluate` "
        "library, because the folder holding the script is on `sys.path` (the current directory is, with "
        "`python -m ...` or an interactive session). Run from another folder or take that folder off `sys.path`."
    )
if __name__ == "__main__":
    _SCRIPT_DIR = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _SCRIPT_DIR]

import argparse  # noqa: E402  (imported after the sys.path fix above, like everything that follows)
import json  # noqa: E402

from unisign.metrics import (  # noqa: E402
    ISLR_NORMALIZATIONS,
    LANGUAGES,
    TASKS,
    compute_metrics,
    read_prediction_and_reference_files,
)


TASK_HELP = "slt: BLEU and ROUGE-L; cslr: WER; islr: top-1 (default: slt)"


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser: the `score` subcommand, and the (future) model options at the top level."""
    parser = argparse.ArgumentParser(
        prog="evaluate.py", description="Score Uni-Sign outputs as the reference evaluation does."
    )
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
    model_options.add_argument("--batch-size", type=int, default=8, help="clips per batch (default: 8)")
    model_options.add_argument("--num-beams", type=int, help="beam size (default: the model's, 4)")
    model_options.add_argument("--max-new-tokens", type=int, help="longest output (default: the model's, 100)")
    model_options.add_argument("--max-samples", type=int, help="evaluate only the first N clips")
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
    import evaluate  # the library: this script's folder is off sys.path

    module = evaluate.load(args.metric_module, keep_in_memory=True)
    return module.compute(predictions=paired.predictions, references=paired.references, task=args.task, **options)


def evaluate_model(args: argparse.Namespace) -> dict[str, float]:
    """Run a model over a dataset split, write predictions, references and scores, and return the scores.

    Args:
        args (`argparse.Namespace`): the parsed top-level arguments (`--model`, `--data`, `--split`, ...).

    Returns:
        `dict[str, float]`: the scores of `args.task`.
    """
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoProcessor

    import unisign  # noqa: F401  (registers the Uni-Sign classes with the Auto classes)
    from unisign.evaluation import evaluate_split
    from unisign.training.arguments import DataArguments
    from unisign.training.data import SignDataset, load_split

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForSeq2SeqLM.from_pretrained(args.model).to(device)
    processor = AutoProcessor.from_pretrained(args.model)
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
    output_dir = args.output_dir or Path(f"eval_{Path(args.model).name}_{args.split}")
    return evaluate_split(model, processor, dataset, output_dir, args.split, args.batch_size, **generate_kwargs)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, score, and print the scores as one JSON object on standard output.

    Args:
        argv (`list[str]`, *optional*): the arguments; defaults to `sys.argv[1:]`.

    Returns:
        `int`: the exit status, 0 on success.
    """
    parser = build_parser()
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


if __name__ == "__main__":
    sys.exit(main())
