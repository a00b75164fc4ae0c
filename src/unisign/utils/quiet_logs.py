"""Known-harmless library messages that look like failures, filtered out (docs/errors.md explains each one).

- mediapipe 0.10.14 prints `AttributeError: 'MessageFactory' object has no attribute 'GetPrototype'` when imported
  with protobuf 5 or later (its own packet getter needs the removed call; `unisign.extraction` does not use it), and
  TensorFlow Lite / absl print `Created TensorFlow Lite XNNPACK delegate`, `All log messages before
  absl::InitializeLog()` and `Feedback manager requires a model with a single signature` when the graph starts. These
  go straight to file descriptor 2 from C++, so `native_stderr_filtered` redirects that descriptor for the duration
  and replays every other line.
- Accelerate's `save_state` warns `Removed shared tensor {...} while saving` at every checkpoint: mT5's tied input
  embeddings are stored once, and `load_state` / `from_pretrained` tie them again. `filter_library_warnings` drops it.
- DeepSpeed, where installed, logs `Setting accelerator to CPU ...` on *standard output* when imported on a machine
  without an accelerator; `name_deepspeed_accelerator` keeps it from being said (`import unisign` calls it).
"""

import importlib.util
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr


MEDIAPIPE_NOISE = (
    "has no attribute 'GetPrototype'",
    "Created TensorFlow Lite XNNPACK delegate",
    "All log messages before absl::InitializeLog() is called",
    "Feedback manager requires a model with a single signature",
)
LIBRARY_WARNINGS = {"accelerate.utils.other": ("Removed shared tensor",)}


class _DropMessages(logging.Filter):
    """Drops the records whose message contains one of `fragments`."""

    def __init__(self, fragments: tuple[str, ...]):
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(fragment in message for fragment in self.fragments)


def filter_library_warnings() -> None:
    """Install the filters of `LIBRARY_WARNINGS` on their loggers (once: repeated calls add nothing)."""
    for name, fragments in LIBRARY_WARNINGS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _DropMessages) for existing in logger.filters):
            logger.addFilter(_DropMessages(fragments))


def name_deepspeed_accelerator() -> None:
    """Set `DS_ACCELERATOR=cpu` where torch sees no accelerator, before anything imports deepspeed.

    Wherever deepspeed is installed, Accelerate imports it at every `save_pretrained` (`extract_model_from_parallel`),
    and DeepSpeed's import detects its accelerator; finding none, it logs `Setting accelerator to CPU ...` through a
    handler on `sys.stdout`, in front of machine-read outputs (the JSON of `unisign evaluate`, `push --dry-run`'s
    list). Named, CPU is what the detection would pick anyway, silently; launched processes inherit the variable.
    A variable already set, or deepspeed already imported, is left alone.
    """
    if "DS_ACCELERATOR" in os.environ or "deepspeed" in sys.modules or importlib.util.find_spec("deepspeed") is None:
        return
    import torch

    if not torch.accelerator.is_available():
        os.environ["DS_ACCELERATOR"] = "cpu"


@contextmanager
def native_stderr_filtered(fragments: tuple[str, ...] = MEDIAPIPE_NOISE) -> Iterator[None]:
    """Send file descriptor 2 and `sys.stderr` to buffers; replay the lines without `fragments` afterwards."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (an embedding host): nothing to filter
        yield
        return
    python_level = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            with redirect_stderr(python_level):
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = python_level.getvalue().splitlines(keepends=True)
            lines += capture.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = [line for line in lines if not any(fragment in line for fragment in fragments)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


__all__ = ["MEDIAPIPE_NOISE", "filter_library_warnings", "name_deepspeed_accelerator", "native_stderr_filtered"]
