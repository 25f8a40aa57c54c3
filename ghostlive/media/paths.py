"""Checks shared by every reader of user files, and the rule that no output may replace an input."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ghostlive.errors import InputNotFoundError, InvalidInputError, OutputError


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex (model downloads and imports, engine cache keys, export provenance)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()

PathLike = str | os.PathLike[str]


def _stat(p: Path) -> os.stat_result | None:
    """``os.stat`` of ``p``; None when it does not exist; a clear error for a symbolic-link loop."""
    try:
        return p.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInputError("is a symbolic link loop (it points back to itself)", p) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise InvalidInputError(f"cannot be read ({exc.strerror or exc})", p) from None


def require_file(path: PathLike, what: str = "file") -> Path:
    """``path`` as a Path if it is an existing, non-empty regular file; otherwise an error naming it."""
    p = Path(path)
    st = _stat(p)
    if st is None:
        raise InputNotFoundError(f"no such {what}", p)
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"is a folder, not a {what}", p)
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError("not a regular file", p)
    if st.st_size == 0:
        raise InvalidInputError(f"the {what} is empty (0 bytes)", p)
    return p


@lru_cache(maxsize=64)
def case_insensitive(folder: str) -> bool:
    """Whether the file system holding ``folder`` ignores the case of names (macOS, Windows, vfat, casefold
    ext4). Detected by creating a mixed-case temporary file there and looking it up in the other case; where
    nothing can be created, the platform's convention (``os.path.normcase``) decides."""
    try:
        with tempfile.NamedTemporaryFile(prefix=".GhostLive-Case-", dir=folder) as f:
            name = Path(f.name)
            return (name.parent / name.name.swapcase()).exists()
    except OSError:
        return os.path.normcase("A") == "a"


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (RuntimeError, OSError):  # a symbolic-link loop (RuntimeError before Python 3.13)
        _stat(p)
        raise


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` name the same file: the same inode when both exist (symbolic and hard links,
    case variants on case-insensitive file systems), otherwise the same resolved path, compared without case
    where the file system ignores case."""
    pa, pb = Path(a), Path(b)
    sa, sb = _stat(pa), _stat(pb)
    if sa is not None and sb is not None:
        return os.path.samestat(sa, sb)
    ra, rb = _resolved(pa), _resolved(pb)
    if ra == rb:
        return True
    if str(ra).casefold() != str(rb).casefold():
        return False  # no need to probe the file system
    folder = ra.parent if ra.parent.is_dir() else rb.parent
    return folder.is_dir() and case_insensitive(str(folder))


def check_sinks(outputs: Iterable[PathLike | None], inputs: Iterable[PathLike | None]) -> None:
    """Refuse when any output file is one of the inputs (camera file, source or reference photos): writing it
    would destroy the input. Empty entries are ignored. Used by every command and by the GUI before any work."""
    ins = [Path(i) for i in inputs if i]
    for out in (Path(o) for o in outputs if o):
        for i in ins:
            if same_file(out, i):
                where = "" if out == i else f" ({i})"
                raise OutputError(f"the output would overwrite an input{where}; choose another output path", out)


def check_live_sinks(outputs: Iterable[PathLike | None], camera: str, photos: Iterable[PathLike | None]) -> None:
    """:func:`check_sinks` for a live session: its inputs are the camera when it is a file (not an index or a
    URL) and the source and reference photos. The live command and the GUI both call this before starting."""
    camera_file = camera if camera and not camera.isdigit() and "://" not in camera else None
    check_sinks(outputs, [camera_file, *photos])


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


def publish(tmp: PathLike, dest: PathLike) -> None:
    """Move a finished temporary file over ``dest`` atomically, with the permissions a plain ``open()`` would
    have given it (temporary files are created private)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
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


def writable_folder(folder: Path, what: str) -> Path:
    """``folder``, created if needed and checked writable (one temporary file); OutputError
    ``FOLDER: cannot write in the WHAT (REASON)`` otherwise, before any work that would write there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write in the {what} ({exc.strerror or exc})", folder) from None
    return folder
