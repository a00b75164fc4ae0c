"""Size and SHA-256 of every file of a folder (`checksums.json`), written when a folder is saved, checked on load.

Training checkpoints and exports record them (`unisign.training.run_folder`), so that `--resume` and the commands
that load a model tell a damaged or truncated file from a good one instead of loading garbage. `fsync_folder` makes
the files durable before the rename that publishes a folder (a power cut then leaves the old folder or the whole
new one, never a renamed folder of half-written files).
"""

import hashlib
import json
import os
from pathlib import Path


CHECKSUMS_FILE = "checksums.json"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, streamed by `hashlib.file_digest` (never the whole file in memory)."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(path for path in folder.rglob(pattern) if path.is_file() and path.name != CHECKSUMS_FILE)


def write_checksums(folder: str | Path, pattern: str = "*") -> Path:
    """Record the size and SHA-256 of the files under `folder` (those matching `pattern`) in `checksums.json`.

    Returns the written file. An export records its weights only (`*.safetensors`): its card is rewritten later.
    """
    folder = Path(folder)
    entries = {
        path.relative_to(folder).as_posix(): {"size": path.stat().st_size, "sha256": sha256_of(path)}
        for path in _files(folder, pattern)
    }
    target = folder / CHECKSUMS_FILE
    target.write_text(json.dumps({"files": entries}, indent=1) + "\n", encoding="utf-8")
    return target


def verify_checksums(folder: str | Path, required: bool = False, hashes: bool = True) -> str | None:
    """What is wrong with `folder` against its `checksums.json` (None when it matches).

    Args:
        folder: The folder.
        required: Whether a folder without `checksums.json` is wrong (a checkpoint) or simply unchecked (a model).
        hashes: Whether to compare SHA-256s (reads every byte) or only presence and sizes (reads no file's bytes).
    """
    folder = Path(folder)
    target = folder / CHECKSUMS_FILE
    if not target.is_file():
        return f"it has no {CHECKSUMS_FILE} (it was not completely written)" if required else None
    try:
        entries = json.loads(target.read_text(encoding="utf-8"))["files"]
        expected = {name: (int(entry["size"]), str(entry["sha256"])) for name, entry in entries.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"its {CHECKSUMS_FILE} is damaged"
    for name, (size, sha256) in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            return f"`{name}` is missing"
        if path.stat().st_size != size:
            return f"`{name}` has {path.stat().st_size:,} bytes instead of {size:,} (truncated or replaced)"
        if hashes and sha256_of(path) != sha256:
            return f"`{name}` does not match its recorded SHA-256 (its bytes were changed)"
    return None


def fsync_folder(folder: str | Path) -> None:
    """Flush every file under `folder`, and the folders themselves, to the disk."""
    folder = Path(folder)
    for path in [*_files(folder), *(folder / CHECKSUMS_FILE,)]:
        if path.is_file():
            with open(path, "rb+") as file:
                os.fsync(file.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        fsync_directory(path)


def fsync_directory(folder: str | Path) -> None:
    """Flush a folder's entries (a rename inside it) to the disk; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a UTF-8 text file whole or not at all: a temporary file beside it, renamed over it (`os.replace`).

    A full disk leaves the old file (or none), never one cut short; a symbolic link at `path` is replaced, not
    written through.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8", newline="")  # as written: "\n" stays "\n" on every OS
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


__all__ = [
    "CHECKSUMS_FILE",
    "fsync_directory",
    "fsync_folder",
    "sha256_of",
    "verify_checksums",
    "write_checksums",
    "write_text_atomic",
]
