"""A restricted unpickler for the reference's pose and label files.

The reference stores poses and labels as Python pickles (labels gzip-compressed). Unpickling runs whatever callable
the file names, so these files are read with an allow-list: plain containers, numbers, strings, bytes and numpy
arrays/scalars/dtypes. Anything else (`os.system`, `builtins.eval`, a class with a `__reduce__`, ...) is refused
with `UnsafePickleError` before it is called.
"""

import gzip
import io
import pickle
import zlib
from pathlib import Path

import numpy as np

from ..utils.errors import InvalidInputError


GZIP_MAGIC = b"\x1f\x8b"

# (module, name) pairs a pose or label pickle may reference, under both Python 2 and 3 and numpy 1 and 2 names.
_ALLOWED_GLOBALS = frozenset(
    [
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        *(
            (f"{core}.{module}", name)
            for core in ("numpy.core", "numpy._core")
            for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))
        ),
        ("_codecs", "encode"),  # how protocol <= 2 stores bytes (numpy array buffers)
        *((builtins, name) for builtins in ("builtins", "__builtin__") for name in ("set", "frozenset", "complex")),
        ("collections", "OrderedDict"),
    ]
)
# numpy 2 renamed numpy.core to numpy._core (the old name still imports, with a DeprecationWarning)
_NUMPY_CORE = "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"


class UnsafePickleError(ValueError):
    """A pickle referenced something other than plain data, so it was not loaded."""


class _RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` that resolves only the globals of `_ALLOWED_GLOBALS`."""

    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"Refused to load {self.source}: it references `{module}.{name}`, and only plain containers, numbers, "
                "strings and numpy arrays are allowed (unpickling other objects can run arbitrary code). If you trust "
                "the file, convert it to plain data (for example with `numpy.savez`) and load that instead."
            )
        for old_core in ("numpy._core.", "numpy.core."):
            if module.startswith(old_core):
                module = _NUMPY_CORE + "." + module[len(old_core) :]
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise UnsafePickleError(f"Refused to load {self.source}: it uses persistent ids, which plain data never does.")


def load_restricted_pickle(source: str | Path | bytes):
    """Load a (possibly gzip-compressed) pickle that may only contain plain data.

    Args:
        source (`str`, `Path` or `bytes`): Path of the file, or its content.

    Returns:
        The unpickled object (dicts, lists, tuples, sets, strings, numbers, numpy arrays).

    Raises:
        UnsafePickleError: The pickle references any other class or function (nothing of it is run).
        ValueError: The file is truncated or is not a pickle.
    """
    name = "the pickle data" if isinstance(source, bytes) else f"`{source}`"
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        if data[:2] == GZIP_MAGIC:
            data = gzip.decompress(data)
        return _RestrictedUnpickler(io.BytesIO(data), name).load()
    except UnsafePickleError:
        raise
    except (
        EOFError,
        zlib.error,
        pickle.UnpicklingError,
        gzip.BadGzipFile,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,  # damaged opcodes: e.g. APPEND applied to a numpy dtype
        OverflowError,
    ) as error:
        raise InvalidInputError(
            f"Could not read {name}: it is truncated or not a (gzip-compressed) pickle ({error})."
        ) from error


__all__ = ["UnsafePickleError", "load_restricted_pickle"]
