"""Shared test fixtures: where the shared reference data lives, and how tests behave without it or without MediaPipe.

`UNISIGN_REQUIRE_SHARED=1` (set by `.ci/run`) turns every "skip: not available here" into a failure: CI installs
everything the tests need (`make install`), so a missing file or package there is a broken setup, not a reason to skip.
"""

import importlib
import importlib.util
import os
from pathlib import Path

import pytest
import torch


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("UNISIGN_SHARED_DIR", REPO_ROOT.parent / "shared"))
GOLDEN_DIR = SHARED_DIR / "golden" / "official-tiny"
DATA_DIR = SHARED_DIR / "data"


def skip_unless_required(message: str) -> None:
    """Skip the test, or fail it when `UNISIGN_REQUIRE_SHARED=1`."""
    if os.environ.get("UNISIGN_REQUIRE_SHARED") == "1":
        pytest.fail(f"UNISIGN_REQUIRE_SHARED=1 but {message}")
    pytest.skip(message)


def require_shared(path: Path) -> Path:
    """Return `path` if it exists; otherwise skip the test, or fail it when `UNISIGN_REQUIRE_SHARED=1`."""
    if not path.exists():
        skip_unless_required(
            f"shared test data not found at {path} (set UNISIGN_SHARED_DIR to the folder holding golden/ and data/)"
        )
    return path


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return require_shared(GOLDEN_DIR)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return require_shared(DATA_DIR)


@pytest.fixture(scope="session")
def mediapipe():
    """The `mediapipe` module (pose extraction from video); `make install` installs it with `--no-deps`."""
    try:
        return importlib.import_module("mediapipe")
    except ImportError as error:
        skip_unless_required(f"mediapipe cannot be imported ({error}): `pip install --no-deps mediapipe==0.10.14`")


def require_deepspeed() -> None:
    """Skip a DeepSpeed test where deepspeed is missing (`make install` installs it: the `all` extra)."""
    if importlib.util.find_spec("deepspeed") is None:
        skip_unless_required("deepspeed is not installed: `pip install 'unisign[deepspeed]'`")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def built_environment(name: str, requirements: list[str], package: bool = False) -> Path:
    """`tests.environment_helpers.environment`, skipping (failing with `UNISIGN_REQUIRE_SHARED=1`) where pip fails."""
    from .environment_helpers import environment

    try:
        return environment(name, requirements, package=package)
    except RuntimeError as error:
        skip_unless_required(f"the {name} environment could not be built: {error}")


@pytest.fixture(scope="session")
def core_python() -> Path:
    """Python of `pip install <repository>` with no extra (torch's CPU build), in `.venv-envs/`."""
    from .environment_helpers import TORCH_REQUIREMENT

    return built_environment("core", [TORCH_REQUIREMENT], package=True)


@pytest.fixture(scope="session")
def space_python() -> Path:
    """Python of the demo Space's `requirements.txt` (torch's CPU build) in `.venv-envs/`: no package, no mediapipe."""
    from .environment_helpers import space_requirements

    return built_environment("space", space_requirements())


@pytest.fixture(scope="session")
def bare_python() -> Path:
    """Python of the documented bare install for a shared folder (no `unisign`), in `.venv-envs/`."""
    from .environment_helpers import bare_requirements

    return built_environment("bare", bare_requirements())
