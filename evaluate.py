"""Score Uni-Sign outputs as the reference evaluation does.

Score existing prediction and reference files (plain, one sentence a line, or the reference's
`sample: <name>, prediction: <text>` / `sample: <name>, ground-truth: <text>` format) and print the scores as one JSON
object on standard output:

    python evaluate.py score --predictions test_tmp_pres.txt --references test_tmp_refs.txt --lang zh
    python evaluate.py score --predictions pres.txt --references refs.txt --task cslr

Running a model over a dataset split (`python evaluate.py --model PATH_OR_ID --data ... --split ...`) is not
implemented yet.

This file shares its name with the Hugging Face `evaluate` library. Python puts the folder of the script it runs
first on `sys.path`, so that folder is removed from it below, before anything is imported that may import the
library; importing this file *as* the module `evaluate` (e.g. from a Python session started in the repository root)
raises an `ImportError` that says so instead of silently replacing the library.
"""

import sys
from pathlib import Path
from typing import NoReturn


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


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser: the `score` subcommand, and the (future) model options at the top level."""
    parser = argparse.ArgumentParser(
        prog="evaluate.py", description="Score Uni-Sign outputs as the reference evaluation does."
    )
    model_options = parser.add_argument_group("run a model over a dataset split (not implemented yet)")
    model_options.add_argument("--model", help="model folder or Hub id (not implemented yet)")
    model_options.add_argument("--data", help="dataset to read (not implemented yet)")
    model_options.add_argument("--split", help="dataset split (not implemented yet)")

    subcommands = parser.add_subparsers(dest="command", metavar="{score}")
    score_parser = subcommands.add_parser(
        "score",
        help="score prediction and reference files",
        description="Score a prediction file against a reference file and print the scores as one JSON object.",
    )
    score_parser.add_argument("--predictions", type=Path, required=True, help="prediction file, one sample a line")
    score_parser.add_argument("--references", type=Path, required=True, help="reference file, one sample a line")
    score_parser.add_argument(
        "--task", choices=TASKS, default="slt", help="slt: BLEU and ROUGE-L; cslr: WER; islr: top-1 (default: slt)"
    )
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


# ---------------------------------------------------------------------------------------------------------------------
# Model mode, `python evaluate.py --model PATH_OR_ID --data ... --split ...`: not implemented yet. It belongs here, as
# its own function called from `main`, and reuses `compute_metrics` for the scores.
# ---------------------------------------------------------------------------------------------------------------------
def evaluate_model(parser: argparse.ArgumentParser, args: argparse.Namespace) -> NoReturn:
    """Run a model over a dataset split and score it. Not implemented yet: always exits with an error."""
    parser.exit(
        2,
        f"{parser.prog}: error: running a model over a dataset split (`--model`, `--data`, `--split`) is not "
        "implemented yet. "
        "To score existing outputs, use `python evaluate.py score --predictions FILE --references FILE`.\n",
    )


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
    if model_options_given:
        evaluate_model(parser, args)
    parser.error("nothing to do: use `score --predictions FILE --references FILE` (`--model` is not implemented yet).")


if __name__ == "__main__":
    sys.exit(main())
