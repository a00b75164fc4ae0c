"""The package's error types, and how the command lines report them: one line, a traceback only when asked.

Every command (`unisign ...`, `train.py`, `evaluate.py`, `python -m unisign.hub.push`) runs inside `one_line_errors`:
an expected error (bad input, bad option, a missing or damaged file) prints `<prog>: error: <one line>` and exits
with 2 for a usage error (an option or setting out of range) and 1 otherwise; `--debug` (anywhere on the command
line) or `UNISIGN_DEBUG=1` adds the traceback. Any other exception is a bug and keeps its full traceback.
"""

import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager


DEBUG_FLAG = "--debug"
DEBUG_ENVIRONMENT = "UNISIGN_DEBUG"
# longest message printed; longer ones (a library's dump of a whole config) are cut
MAX_MESSAGE_LENGTH = 600


class UsageExit(SystemExit):
    """Exit status 2 (as argparse's) whose `str()` is the printed message, for in-process callers and tests."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UniSignError(Exception):
    """Base of the package's own errors."""


class UsageError(UniSignError, ValueError):
    """An option or setting has a wrong type or a value out of its range (exit status 2)."""


class InvalidInputError(UniSignError, ValueError):
    """An input file or folder is missing, damaged or inconsistent (exit status 1)."""


class RunFolderError(UniSignError, ValueError):
    """A training run's output folder holds another run's state, or settings that differ from the run's (exit 1)."""


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean bad input rather than a bug: reported in one line."""
    errors: list[type[BaseException]] = [UniSignError, ValueError, OSError, ImportError, NotImplementedError]
    try:  # malformed YAML (a config file or an override)
        import yaml

        errors.append(yaml.YAMLError)
    except ImportError:
        pass
    return tuple(errors)


def one_line(error: BaseException) -> str:
    """The error's message on one line, without the tracebacks some libraries embed in their messages."""
    message = str(error) or type(error).__name__
    message = message.split("Traceback (most recent call last)")[0]
    message = re.sub(r"\s+", " ", message).strip()
    if isinstance(error, OSError) and not isinstance(error, UniSignError) and error.filename and error.strerror:
        message = f"{error.strerror}: {error.filename}"  # `[Errno 21] Is a directory: 'x'` -> `Is a directory: x`
    if len(message) > MAX_MESSAGE_LENGTH:
        message = message[: MAX_MESSAGE_LENGTH - 3] + "..."
    return message


def pop_debug_flag(argv: list[str]) -> tuple[list[str], bool]:
    """`argv` without `--debug`, and whether a traceback was asked for (`--debug` or `UNISIGN_DEBUG=1`)."""
    debug = DEBUG_FLAG in argv or os.environ.get(DEBUG_ENVIRONMENT, "") not in ("", "0")
    return [argument for argument in argv if argument != DEBUG_FLAG], debug


@contextmanager
def one_line_errors(prog: str, debug: bool = False) -> Iterator[None]:
    """Turn the expected errors raised inside into `<prog>: error: ...` and an exit status (see the module docs).

    Exit status 1 is raised as `SystemExit(message)` (Python prints it to stderr), so that in-process callers find
    the message in `SystemExit.code`; status 2 prints the message and raises `UsageExit` (a `SystemExit(2)`).
    """
    try:
        yield
    except expected_errors() as error:
        if debug:
            traceback.print_exc()
        message = f"{prog}: error: {one_line(error)}"
        if isinstance(error, UsageError):
            print(message, file=sys.stderr)
            raise UsageExit(message) from None
        raise SystemExit(message) from None


__all__ = [
    "InvalidInputError",
    "RunFolderError",
    "UniSignError",
    "UsageError",
    "UsageExit",
    "expected_errors",
    "one_line",
    "one_line_errors",
    "pop_debug_flag",
]
