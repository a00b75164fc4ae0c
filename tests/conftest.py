"""Shared test fixtures: where the shared reference data lives, and how tests that need it behave without it."""

import os
from pathlib import Path

import pytest


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("UNISIGN_SHARED_DIR", REPO_ROOT.parent / "shared"))
GOLDEN_DIR = SHARED_DIR / "golden" / "official-tiny"
DATA_DIR = SHARED_DIR / "data"


def require_shared(path: Path) -> Path:
    """Return `path` if it exists; otherwise skip the test, or fail it when `UNISIGN_REQUIRE_SHARED=1`."""
    if path.exists():
        return path
    message = f"shared test data not found at {path} (set UNISIGN_SHARED_DIR to the folder holding golden/ and data/)"
    if os.environ.get("UNISIGN_REQUIRE_SHARED") == "1":
        pytest.fail(f"UNISIGN_REQUIRE_SHARED=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return require_shared(GOLDEN_DIR)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return require_shared(DATA_DIR)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RUN_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="slow test: set RUN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
