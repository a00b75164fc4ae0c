"""Real virtual environments, installed as users install them, built once and reused between test runs.

Each environment is a folder of `ENVS_DIR` (`.venv-envs/`, ignored by git; `UNISIGN_ENVS_DIR` moves it) named after
a hash of its pip arguments: a run builds it once with pip (whose cache keeps a rebuild cheap), later runs reuse it. A
`complete` file marks a finished build, and a lock file keeps two test processes from building the same one. Nothing
of the development environment is visible inside: no `.pth` link, no `PYTHONPATH`.

torch is asked for as `TORCH_REQUIREMENT`: on the CI machines pip takes its CPU build from the local wheels
(`/opt/wheels`, 200 MB) instead of downloading a CUDA build of several GB; any torch >= 2.6 would do.
"""

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from .conftest import REPO_ROOT


ENVS_DIR = Path(os.environ.get("UNISIGN_ENVS_DIR", REPO_ROOT / ".venv-envs"))
TORCH_REQUIREMENT = "torch==2.13.0"
PACKAGE_FILES = ("pyproject.toml", "README.md", "src")


def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def dependency(name: str) -> str:
    """`pyproject.toml`'s requirement for the core dependency `name`, bounds included."""
    for entry in pyproject()["project"]["dependencies"]:
        if re.match(rf"{re.escape(name)}[<>=!~ ]", entry):
            return entry
    raise KeyError(name)


def bare_requirements() -> list[str]:
    """The documented bare install for a shared folder (docs/remote-code.md), transformers within our bounds."""
    return [TORCH_REQUIREMENT, dependency("transformers"), "sentencepiece", "protobuf", "pose-format"]


def space_requirements() -> list[str]:
    """What the demo Space installs: its `requirements.txt` (torch as `TORCH_REQUIREMENT` within its `torch>=2.6`).

    mediapipe is not among them: `app.py` installs it `--no-deps` at its first start, as on the Space.
    """
    lines = (REPO_ROOT / "spaces" / "unisign-demo" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [TORCH_REQUIREMENT, *(line.split("#")[0].strip() for line in lines if line.split("#")[0].strip())]


def run_pip(python: Path, *arguments: str) -> None:
    """`python -m pip install --quiet ...`; a failure raises `RuntimeError` with pip's last lines."""
    completed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1800,
    )
    if completed.returncode:
        raise RuntimeError(f"pip install {' '.join(arguments)} failed: {completed.stderr.strip()[-1500:]}")


def package_source(destination: Path) -> tuple[Path, str]:
    """A copy of what `pip install <repository>` builds from, and a hash of it (which package version is installed)."""
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        source = REPO_ROOT / name
        paths = [source] if source.is_file() else sorted(source.rglob("*"))
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
                target = destination / path.relative_to(REPO_ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return destination, digest.hexdigest()


def environment(name: str, requirements: list[str], package: bool = False) -> Path:
    """The Python of a virtual environment with `requirements` installed (and this package, with `package=True`).

    With `package=True` it is `pip install <repository>` (its `dependencies` included, torch as `requirements` says);
    later calls reinstall only the package (`--no-deps`), and only when its files changed.

    Returns:
        `Path` to the environment's `bin/python`.

    Raises:
        RuntimeError: pip failed (no network and no cache, say).
    """
    dependencies = pyproject()["project"]["dependencies"] if package else []
    key = hashlib.sha256("\n".join([sys.version, *requirements, *dependencies]).encode()).hexdigest()[:12]
    folder = ENVS_DIR / f"{name}-{key}"
    python = folder / "bin" / "python"
    ENVS_DIR.mkdir(parents=True, exist_ok=True)
    with open(ENVS_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = (folder / "complete").exists()
        if not built:
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
        source, digest = package_source(folder / "package-source") if package else (None, None)
        installed = folder / "package-hash"
        if not built:
            run_pip(python, *requirements, *([str(source)] if package else []))
            (folder / "complete").write_text("\n".join(requirements) + "\n")
        elif package and (not installed.exists() or installed.read_text() != digest):
            run_pip(python, "--force-reinstall", "--no-deps", str(source))
        if package:
            installed.write_text(digest)
            shutil.rmtree(source)
    return python


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment variables for a command in a built environment: offline, no `PYTHONPATH`, own module cache."""
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    return environment
