"""Uni-Sign on a Hugging Face Space: sign language video -> the keypoints the model reads -> text.

The page is `unisign.apps.demo.build_demo`; the model is `--model`, else the Space variable `UNISIGN_MODEL`, else the
first
of `models:` in this folder's README. Other options of `unisign demo` (`--num-beams 1`, `--dtype bfloat16`, ...) can
be given in the Space variable `UNISIGN_DEMO_ARGS`. Locally: `python app.py --model FOLDER_OR_HUB_ID [--port N]`.
"""

import os
import shlex
import sys
from pathlib import Path

from huggingface_hub import SpaceCard

from unisign.apps.demo import main


HERE = Path(__file__).resolve().parent


def default_model() -> str | None:
    """`UNISIGN_MODEL`, else the first model the Space card lists."""
    models = SpaceCard.load(HERE / "README.md").data.models or [None]
    return os.environ.get("UNISIGN_MODEL") or models[0]


if __name__ == "__main__":
    arguments = shlex.split(os.environ.get("UNISIGN_DEMO_ARGS", "")) + sys.argv[1:]
    if not any(argument.startswith("--model") for argument in arguments):
        arguments = ["--model", default_model(), *arguments]
    main(arguments, prog="app.py", examples_dir=HERE / "examples")
