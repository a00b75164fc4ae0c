"""The command line of `python train.py` and `unisign train`: train, test, report, and optionally share.

    unisign train                                                    # the main job (configs/default_synthetic.yaml)
    unisign train --config configs/finetune_slt_csl_daily.yaml training.batch_size=4 training.num_epochs=1
    unisign train --config configs/finetune_slt_csl_daily.yaml --resume    # continue exactly where it stopped
    unisign train --push-to-hub user/uni-sign-synthetic --dry-run          # train, then list what would be uploaded

Without `--config`, the main job runs (the repository's `configs/default_synthetic.yaml`). Settings: a YAML/JSON file
plus `section.key=value` overrides (`unisign/training/arguments.py`). OpenMP reads its settings when torch loads, so
`main` expects them set before that (`train.py` and `unisign train` use `openmp_environment`).
"""

import argparse
import json
import sys
import time
from pathlib import Path

from ..utils.arguments import non_negative_int


# OpenMP threads wait for work between the many small kernels of a CPU step. libgomp's default (spin ~300,000 times,
# then sleep) doubles the step time as soon as another process shares the cores; never spinning
# (OMP_WAIT_POLICY=PASSIVE) costs 20-50% on an idle machine, where every kernel then wakes its threads up. A short
# spin keeps most of both (main job step on 2 cores, default / short spin / passive: idle 0.25-0.43 / 0.30-0.38 /
# 0.35-0.51 s; beside one busy process 0.93-1.12 / 0.57-0.64 / 0.48-0.52 s; benchmarks/RESULTS.md). `train.py` and
# `unisign train` set it unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is already set (other OpenMP runtimes ignore it).
OPENMP_ENVIRONMENT = {"GOMP_SPINCOUNT": "1000"}
DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "default_synthetic.yaml"


def openmp_environment(environment: dict[str, str]) -> dict[str, str]:
    """The OpenMP variables to add to `environment` before torch loads: none when the user chose a wait policy."""
    if "OMP_WAIT_POLICY" in environment or "GOMP_SPINCOUNT" in environment:
        return {}
    return dict(OPENMP_ENVIRONMENT)


def build_parser(prog: str = "unisign train", description: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser (`description` defaults to this module's docstring)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description or __doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help=f"YAML or JSON file of the run's settings (default: {DEFAULT_CONFIG.name})")
    parser.add_argument("--resume", action="store_true", help="continue from the newest intact checkpoint of the run")
    parser.add_argument(
        "--overwrite", action="store_true", help="start anew in an output folder that holds another run (removing it)"
    )
    parser.add_argument(
        "--allow-changed-settings", action="store_true", help="with --resume: continue with settings that differ"
    )
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error (or UNISIGN_DEBUG=1)")
    parser.add_argument(
        "--examples", type=non_negative_int, default=3, help="test translations printed per task (default 3)"
    )
    parser.add_argument("--push-to-hub", metavar="REPO_ID", help="upload the best export to this Hub model repo")
    parser.add_argument("--dry-run", action="store_true", help="with --push-to-hub: list the files, upload nothing")
    parser.add_argument("--private", action="store_true", help="with --push-to-hub: create the repo private")
    parser.add_argument("overrides", nargs="*", help="settings as section.key=value, e.g. training.seed=1")
    return parser


def report_test_results(output_dir: Path, split: str, extra_splits: list[str], per_task: int) -> None:
    """Print the test scores (of each test split) and a few predictions of the first next to their references."""
    from .testing import examples_from_test_split

    headline = {"ISLR": "top1_per_instance", "CSLR": "wer", "SLT": "bleu4"}
    for name, folder in [(split, output_dir / "test")] + [(s, output_dir / "test" / s) for s in extra_splits]:
        scores = json.loads((folder / "scores.json").read_text())
        print(f"\nScores on the {name} split (best export):")
        for task, task_scores in scores.items():
            print(f"  {task} {headline[task]}: {task_scores[headline[task]]:.2f}   (all: {json.dumps(task_scores)})")
    for task, examples in examples_from_test_split(output_dir, split, tuple(scores), per_task).items():
        print(f"\n{task} examples ({split} split):")
        for name, prediction, reference in examples:
            print(f"  {name}\n    prediction: {prediction}\n    reference:  {reference}")


def share(export: Path, config, args: argparse.Namespace) -> None:
    """Upload the export to the Hub, or list what would be uploaded; its card is first rewritten to show the Hub id."""
    from ..hub.push import push_to_hub
    from .arguments import config_to_dict
    from .export import write_model_card

    write_model_card(export, config_to_dict(config), repo=args.push_to_hub)
    plan = push_to_hub(export, args.push_to_hub, dry_run=args.dry_run, private=args.private or None)
    done = "Dry run: nothing was uploaded. Would upload to the" if args.dry_run else "Uploaded to the"
    print(f"{done} {plan.summary()}")


def main(argv: list[str] | None = None, prog: str = "unisign train", description: str | None = None) -> None:
    """Parse the command line, train, test, report and optionally share.

    Args:
        argv (`list[str]`, *optional*): the arguments; defaults to `sys.argv[1:]`.
        prog (`str`, *optional*): the command's name in help and error messages.
        description (`str`, *optional*): the help's description (`train.py` gives its own docstring).
    """
    from accelerate import PartialState

    from ..utils.errors import one_line_errors, pop_debug_flag
    from . import load_config, train
    from .curves import plot_learning_curves

    parser = build_parser(prog, description)
    args = parser.parse_args(argv)
    if args.dry_run and not args.push_to_hub:
        sys.exit(f"{prog}: error: --dry-run lists what --push-to-hub would upload; give --push-to-hub REPO_ID too.")
    if args.config is None and not DEFAULT_CONFIG.is_file():
        sys.exit(
            f"{prog}: error: the main job's settings {DEFAULT_CONFIG} are not here (they ship with the repository, "
            "not with the installed package): give `--config FILE`."
        )
    started = time.perf_counter()
    with one_line_errors(prog, pop_debug_flag(["--debug"] if args.debug else [])[1]):
        config = load_config(args.config or DEFAULT_CONFIG, args.overrides)
        export = train(config, args.resume, args.overwrite, args.allow_changed_settings)
    if not PartialState().is_main_process:  # other processes of a distributed run: the main one reports
        return
    output_dir = Path(config.training.output_dir)
    print(f"Exported the model to {export}")
    if config.data.test_split:
        report_test_results(output_dir, config.data.test_split, config.data.extra_test_splits, args.examples)
    log = output_dir / "logs" / "train_log.jsonl"
    if log.is_file():
        print(f"\nLearning curves: {plot_learning_curves(log, output_dir / 'learning_curves.png')}")
    print(f"Wall time: {(time.perf_counter() - started) / 60:.1f} minutes")
    if args.push_to_hub:
        share(export, config, args)


if (
    __name__ == "__main__"
):  # how `unisign train` runs, in a fresh process with the OpenMP settings (see unisign.apps.cli)
    main()
