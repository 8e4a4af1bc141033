"""Write an output file all-or-nothing, readable by its owner only.

The files we write hold personal data, and a crash or Ctrl-C halfway must never leave a
truncated workbook where the previous good one was. So: write a private temporary file in
the same directory, fsync it, then `os.replace` it over the target (atomic on POSIX) and
fsync the directory so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_MODE = 0o600


@contextlib.contextmanager
def atomic_path(path: Path, mode: int = PRIVATE_MODE) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on a clean exit it becomes `path` (0600 default).

    On any exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        _fsync_file(temp)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, mode 0600."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
