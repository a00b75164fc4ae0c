"""Score Uni-Sign outputs as the reference evaluation does (the same command line as `unisign evaluate`).

Score existing prediction and reference files (plain, one sentence a line, or the reference's
`sample: <name>, prediction: <text>` / `sample: <name>, ground-truth: <text>` format) and print the scores as one JSON
object on standard output:

    python evaluate.py score --predictions test_tmp_pres.txt --references test_tmp_refs.txt --lang zh
    python evaluate.py score --predictions pres.txt --references refs.txt --task cslr

Run a model over a dataset split, writing predictions, references and scores (deterministic frame sampling):

    python evaluate.py --model outputs/slt/best --data my-pose-dataset --split test --task slt --output-dir eval/
    python evaluate.py --model uni-sign-csl-daily --split test --data CSL_Daily --labels labels.test --pose-dir poses

The code lives in `unisign.evaluation.cli` (`main`). This file shares its name with the Hugging Face `evaluate`
library.
Python puts the folder of the script it runs first on `sys.path`, so that folder is removed from it below, before
anything is imported that may import the library; importing this file *as* the module `evaluate` (e.g. from a Python
session started in the repository root) raises an `ImportError` that says so instead of silently replacing the library.
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

from unisign.evaluation import cli as evaluation  # noqa: E402  (imported after the sys.path fix above)


def main(argv: list[str] | None = None) -> int:
    """Run `unisign.evaluation.cli.main` under this script's name; returns the exit status."""
    return evaluation.main(argv, prog="evaluate.py")


if __name__ == "__main__":
    sys.exit(main())
