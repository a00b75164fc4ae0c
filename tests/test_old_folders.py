"""Folders saved by earlier versions load, and translate as they did, with the transformers this environment has.

tests/fixtures/saved-db6563b is a tiny pose-only folder saved by the code of commit db6563b (tests/fixtures/README.md),
with `expected.json`: what that code translated from a `.pose` file. It must translate the same with this package,
with its own remote code where its video processor's libraries are (torchvision), and in the bare install once
`add_remote_code` has refreshed its code (the code it carries cannot build a processor without torchvision).
"""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from transformers import AutoProcessor, pipeline

from unisign import UniSignProcessor, add_remote_code

from .conftest import DATA_DIR, require_shared
from .test_remote_code import make_linked_venv, run_fresh


FIXTURE = Path(__file__).parent / "fixtures" / "saved-db6563b"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
POSE_FILE = DATA_DIR / "pose-format" / EXPECTED["pose_file"]
GENERATION = {"max_new_tokens": EXPECTED["max_new_tokens"], "num_beams": EXPECTED["num_beams"]}

# Runs without `unisign`: argv = folder, pose file; prints the translation of the pipeline loaded as remote code.
REMOTE_SCRIPT = textwrap.dedent(
    f"""
    import importlib.util, sys
    from transformers import pipeline

    assert importlib.util.find_spec("unisign") is None, "unisign must not be importable here"
    translator = pipeline("sign-language-translation", model=sys.argv[1], trust_remote_code=True)
    print(translator(sys.argv[2], **{GENERATION!r})["translation_text"])
    """
)


@pytest.fixture
def old_folder(tmp_path) -> Path:
    """A writable copy of the fixture (loading must not depend on where the folder is)."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "old"))


def test_an_old_folder_translates_as_it_did_with_the_package(old_folder):
    pose_file = require_shared(POSE_FILE)
    assert type(AutoProcessor.from_pretrained(old_folder)) is UniSignProcessor
    translator = pipeline("sign-language-translation", model=old_folder)
    assert translator(str(pose_file), **GENERATION)["translation_text"] == EXPECTED["translation_text"]


def test_an_old_folder_translates_as_it_did_with_its_own_remote_code(old_folder, tmp_path_factory, tmp_path):
    pose_file = require_shared(POSE_FILE)
    python = make_linked_venv(tmp_path_factory.mktemp("venv") / "venv")
    (tmp_path / "check.py").write_text(REMOTE_SCRIPT)
    completed = run_fresh(python, tmp_path, tmp_path / "check.py", old_folder, pose_file)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == EXPECTED["translation_text"]


def test_an_old_folder_refreshed_by_add_remote_code_translates_in_the_bare_install(old_folder, tmp_path, bare_python):
    pose_file = require_shared(POSE_FILE)
    add_remote_code(old_folder)
    (tmp_path / "check.py").write_text(REMOTE_SCRIPT)
    completed = run_fresh(bare_python, tmp_path, tmp_path / "check.py", old_folder, pose_file)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == EXPECTED["translation_text"]
