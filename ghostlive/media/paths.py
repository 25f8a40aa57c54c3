"""Checks shared by every reader of user files."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from ghostlive.errors import InputNotFoundError, InvalidInputError


def require_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` as a Path if it is an existing, non-empty regular file; otherwise an error naming it."""
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"no such {what}", p)
    if not p.is_file():
        raise InvalidInputError("not a regular file", p)
    if p.stat().st_size == 0:
        raise InvalidInputError(f"the {what} is empty (0 bytes)", p)
    return p


@lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read without changing it (Linux /proc), else the common 0o022."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def publish(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Move a finished temporary file over ``dest`` atomically, with the permissions a plain ``open()`` would
    have given it (temporary files are created private)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then publish it as ``path``."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
