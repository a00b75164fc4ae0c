"""Uni-Sign on a Hugging Face Space: sign language video -> the keypoints the model reads -> text.

The page is `unisign.apps.demo.build_demo`; the model is `--model`, else the Space variable `UNISIGN_MODEL` (a Hub
id), else the first of `models:` in this folder's README (the card as shipped lists none). Without any of them the app
stops at start with one line asking for `UNISIGN_MODEL`. Other options of `unisign demo` (`--num-beams 1`,
`--dtype bfloat16`, ...) can be given in the Space variable `UNISIGN_DEMO_ARGS`. Locally:
`python app.py --model FOLDER_OR_HUB_ID [--port N]`.
"""

import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

from huggingface_hub import SpaceCard

from unisign.apps.demo import main


HERE = Path(__file__).resolve().parent
# The release pose extraction is tested with (the Makefile's); installed without its dependencies, which
# requirements.txt lists but for its protobuf<5 pin.
MEDIAPIPE_REQUIREMENT = "mediapipe==0.10.14"


def install_mediapipe() -> None:
    """`pip install --no-deps mediapipe==0.10.14` where it is missing (a Space's first start).

    requirements.txt cannot say `--no-deps`, and with its dependencies mediapipe would bring protobuf 4, under which
    a tokenizer saved as `spiece.model` alone does not load.
    """
    if importlib.util.find_spec("mediapipe") is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", MEDIAPIPE_REQUIREMENT], check=True
        )


def default_model() -> str | None:
    """`UNISIGN_MODEL`, else the first model the Space card lists (`models:`), else `None`."""
    models = SpaceCard.load(HERE / "README.md").data.models or [None]
    return os.environ.get("UNISIGN_MODEL") or models[0]


if __name__ == "__main__":
    install_mediapipe()
    arguments = shlex.split(os.environ.get("UNISIGN_DEMO_ARGS", "")) + sys.argv[1:]
    if not any(argument.startswith("--model") for argument in arguments):
        model = default_model()
        if model is None:
            sys.exit(
                "app.py: error: no model: set the Space variable UNISIGN_MODEL to a Uni-Sign model's Hub id "
                "(Settings > Variables and secrets), or list it under `models:` in README.md."
            )
        arguments = ["--model", model, *arguments]
    main(arguments, prog="app.py", examples_dir=HERE / "examples")
