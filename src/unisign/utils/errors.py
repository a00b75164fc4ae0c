"""The package's error types, and how the command lines report them: one line, a traceback only when asked.

Every command (`unisign ...`, `train.py`, `evaluate.py`, `python -m unisign.hub.push`) runs inside `one_line_errors`:
an expected error prints `<prog>: error: <one line>` and exits with 2 for a usage error (an option or setting out of
range) and 1 otherwise; `--debug` (anywhere on the command line) or `UNISIGN_DEBUG=1` adds the traceback.

Expected errors are the package's own (`UniSignError` and its subclasses, and the model unit's refusals of an input:
`ValueError`s marked as `is_input_error` says), the libraries' at the boundaries
(`library_errors`: malformed YAML, the Hub's refusals), the operating system's
reports on the machine (a full disk, a denied permission: `OSError`s that carry an `errno` listed in
`ENVIRONMENT_ERRNOS`) and a missing optional library (an `ImportError` whose message says what to `pip install`).
Any other exception, a plain `ValueError` or `OSError` included, is a bug and keeps its full
traceback. Where a command hands a user's file to a reader that raises plain `ValueError`s or `OSError`s (the model
unit's readers may not import this module), it does so inside `input_errors(path)`, which turns them into
`InvalidInputError`s naming the file.
"""

import errno
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


class MissingInputError(UniSignError, FileNotFoundError):
    """A file or folder the user named does not exist (exit status 1)."""


class UnsupportedError(UniSignError, NotImplementedError):
    """The model or input needs a feature this path does not have (an RGB model on ONNX Runtime; exit status 1)."""


# the operating system's reports on the machine rather than on the code: out of space, no permission, a read-only or
# failing disk, too many open files, a name too long
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENAMETOOLONG,
    }
)


# The model unit (`models/unisign`, shipped as remote code) may not import this module: its refusals of a user's input
# (`errors_unisign.UniSignInputError`, a `ValueError`) carry this class attribute instead. The mark is read, not the
# class, because the unit's copy loaded as remote code defines another class of the same name.
INPUT_ERROR_MARK = "unisign_input_error"


def is_input_error(error: BaseException | None) -> bool:
    """Whether `error` is the model unit's refusal of an input (a clip, a prompt language, a config, a setting).

    A library's error raised from such a refusal counts too: huggingface_hub's validation of a config wraps the unit's
    check of its values in its own error (not a `ValueError`), whose message repeats it.
    """
    if error is None:
        return False
    return getattr(type(error), INPUT_ERROR_MARK, False) is True or is_input_error(error.__cause__)


def library_errors() -> tuple[type[BaseException], ...]:
    """The libraries' errors at the package's boundaries, reported in one line.

    Malformed YAML (a config file or an override), and the Hub's answers to an upload (refused, not found, offline).
    """
    errors: list[type[BaseException]] = []
    try:
        import yaml

        errors.append(yaml.YAMLError)
    except ImportError:
        pass
    try:
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        errors += [HfHubHTTPError, OfflineModeIsEnabled]
    except ImportError:
        pass
    return tuple(errors)


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types caught for one line (a `ValueError`, `OSError`, `ImportError`: where `is_expected` says)."""
    return (UniSignError, ValueError, OSError, ImportError, *library_errors())


def is_expected(error: BaseException) -> bool:
    """Whether `error` means bad input or a machine problem (one line) rather than a bug (its traceback)."""
    if isinstance(error, (UniSignError, *library_errors())) or is_input_error(error):
        return True
    if isinstance(error, OSError):
        return error.errno in ENVIRONMENT_ERRNOS
    if isinstance(error, ImportError):  # a missing optional library: the package's messages say what to install
        return "pip install" in str(error)
    return False


@contextmanager
def input_errors(path: str | Path, what: str = "") -> Iterator[None]:
    """Report a reader's plain `ValueError`s and `OSError`s as `InvalidInputError`s naming the file they read.

    For a boundary where a user's file or folder is read: there the reader's errors are reports on that input.

    Args:
        path: The file or folder read; named in the message when the reader's own message does not name it.
        what: What it should be (e.g. "a text file"), for the message of a file that is not UTF-8.
    """
    try:
        yield
    except UniSignError:
        raise
    except (ValueError, OSError) as error:
        message = one_line(error)
        if isinstance(error, UnicodeDecodeError):  # says which bytes, not which file
            message = f"not {what or 'a text file'} in UTF-8 ({message})"
        if str(path) not in message and Path(path).name not in message:
            message = f"`{path}`: {message}"
        raise InvalidInputError(message) from error


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
        if not is_expected(error):
            raise
        if debug:
            traceback.print_exc()
        message = f"{prog}: error: {one_line(error)}"
        if isinstance(error, UsageError):
            print(message, file=sys.stderr)
            raise UsageExit(message) from None
        raise SystemExit(message) from None


__all__ = [
    "ENVIRONMENT_ERRNOS",
    "INPUT_ERROR_MARK",
    "InvalidInputError",
    "MissingInputError",
    "RunFolderError",
    "UniSignError",
    "UnsupportedError",
    "UsageError",
    "UsageExit",
    "expected_errors",
    "input_errors",
    "is_expected",
    "is_input_error",
    "library_errors",
    "one_line",
    "one_line_errors",
    "pop_debug_flag",
]
