"""Checks shared by every reader of user files, the rule that no output may replace an input, and how every
output is written: to a temporary file beside it, then moved into place as ``open()`` would write it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
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


NAME_MAX = 255
"""The longest file name where the file system cannot say (``pathconf``, absent on Windows): bytes on POSIX,
UTF-16 units on Windows (NTFS); most file systems allow exactly this."""
TEMP_TAG = "ghostlive"
"""In every temporary output name (``.NAME.ghostlive-XXXXXXXX.part``), so that leftovers are recognisable."""


def reason(exc: OSError) -> str:
    """An OS error's reason as a message part: ``no space left on device``."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _name_max(folder: Path) -> int:
    """The file system's longest name for the nearest existing folder of ``folder`` (:data:`NAME_MAX` where it
    cannot say, or says no limit)."""
    pathconf = getattr(os, "pathconf", None)
    for f in (folder, *folder.parents) if pathconf is not None else ():
        try:
            limit = int(pathconf(f, "PC_NAME_MAX"))
        except (OSError, ValueError):
            continue
        return limit if limit > 0 else NAME_MAX
    return NAME_MAX


def _name_size(name: str) -> int:
    """A name's length as its file system counts it: UTF-16 units on Windows, bytes elsewhere."""
    return len(name.encode("utf-16-le")) // 2 if os.name == "nt" else len(os.fsencode(name))


def check_name_length(path: PathLike) -> Path:
    """``path`` if no part of it is longer than its file system allows; otherwise an OutputError naming it
    (``file name too long (N bytes; this file system allows 255)``), before any work."""
    p = Path(path)
    limit = _name_max(p.parent)
    unit = "characters" if os.name == "nt" else "bytes"
    for part in p.parts[p.is_absolute() :]:  # not the root or drive
        size = _name_size(part)
        if size > limit:
            what = "file name" if part == p.name else f"folder name {part[:40]}…"
            raise OutputError(f"{what} too long ({size} {unit}; this file system allows {limit})", p)
    return p


def target_of(dest: PathLike) -> Path:
    """Where writing ``dest`` lands: ``dest`` itself, or the file a symbolic link (chain) at ``dest`` points to,
    which is written through like ``open()`` would. OutputError for a link loop."""
    p = Path(dest)
    if not p.is_symlink():
        return p
    try:
        return Path(os.path.realpath(p, strict=True))
    except FileNotFoundError:  # a link to a file not made yet: it is made where the link points
        return Path(os.path.realpath(p))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError("is a symbolic link loop (it points back to itself)", p) from None
        raise OutputError(f"cannot follow the symbolic link ({reason(exc)})", p) from None


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
          stat.S_IFBLK: "a device", stat.S_IFDIR: "a folder"}  # fmt: skip


def check_replaceable(dest: PathLike) -> os.stat_result | None:
    """The ``stat`` of what writing ``dest`` replaces (through a symbolic link), None when nothing is there yet.
    OutputError naming ``dest`` when it is not a regular file (FIFO, device, socket, folder) or one we may not
    write (write-protected): an output never replaces those."""
    p = Path(dest)
    target = target_of(p)
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot be checked ({reason(exc)})", p) from None
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        shown = "" if target == p else f" ({target})"
        raise OutputError(f"is {kind}{shown}, not a file an output may replace; choose another output path", p)
    if not os.access(target, os.W_OK):
        raise OutputError("the file is write-protected; make it writable or choose another output path", p)
    return st


def temp_affixes(dest: PathLike, *, keep_suffix: bool = False) -> tuple[str, str]:
    """What comes before and after the 8 random characters in the name of ``dest``'s temporary files (see
    :func:`mkstemp_beside`): ``(".NAME.ghostlive-", ".part")``, NAME shortened so that the name fits."""
    given, target = Path(dest), target_of(dest)
    suffix = ".part" + (given.suffix if keep_suffix else "")
    tag = f".{TEMP_TAG}-"
    room = _name_max(target.parent) - _name_size(f".{tag}{suffix}") - 8  # mkstemp adds 8 characters
    if room < 0:
        raise OutputError(f"file name too long ({_name_size(target.name)})", dest)
    return f".{fit_name(target.stem if keep_suffix else target.name, room)}{tag}", suffix


def fit_name(name: str, room: int) -> str:
    """``name`` shortened (by characters) to at most ``room`` units as its file system counts them."""
    while _name_size(name) > room:
        name = name[:-1]
    return name


def name_room(folder: PathLike, name: str) -> int:
    """How many units (bytes on POSIX) a file name in ``folder`` may have beyond ``name``."""
    return _name_max(Path(folder)) - _name_size(name)


def mkstemp_beside(dest: PathLike, *, keep_suffix: bool = False) -> tuple[int, Path]:
    """Create the temporary file for writing ``dest``, open and private: ``(fd, path)`` like ``tempfile.mkstemp``.
    It lies beside the file ``dest`` lands on (through a symbolic link), so publishing it is a rename on one file
    system, and is named ``.NAME.ghostlive-XXXXXXXX.part`` (``keep_suffix``: ``.STEM.ghostlive-XXXXXXXX.part.mp4``
    with ``dest``'s own suffix, for writers that take the format from the extension), NAME shortened so that the
    name fits the file system. The OSError of a folder that takes no new file is the caller's to word."""
    given, target = Path(dest), target_of(dest)
    prefix, suffix = temp_affixes(dest, keep_suffix=keep_suffix)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    except FileNotFoundError:  # callers name other OS errors with their own words; this one is the link's
        if given.is_symlink():
            raise OutputError(f"is a symbolic link into a folder that does not exist ({target.parent})", dest) from None
        raise
    return fd, Path(tmp)


def publish(tmp: PathLike, dest: PathLike, *, follow_links: bool = True) -> None:
    """Move a finished temporary file (see :func:`mkstemp_beside`) into place as ``dest``, atomically, as writing
    ``dest`` with ``open()`` would: through a symbolic link to the file it points to (``follow_links=False``: the
    link itself is replaced, as the model store does with its own files); an existing file keeps its permissions
    and its owner and group where we may set them (when even the group cannot be kept, it gets a plain ``open()``'s
    permissions, so its owner is not locked out of a file that is now ours); a new one gets those of a plain
    ``open()`` (temporary files are created private). What :func:`check_replaceable` refuses (a FIFO, device,
    socket or folder, a write-protected file) is refused here too, with an OutputError naming ``dest``; ``tmp`` is
    then left to the caller. A temporary file on another file system than the target is copied beside it first."""
    replace_link = not follow_links and Path(dest).is_symlink()
    target = Path(dest) if replace_link else target_of(dest)
    st = None if replace_link else check_replaceable(dest)
    mode = 0o666 & ~_umask()
    if st is not None:
        own = os.stat(tmp)
        chown = getattr(os, "chown", None)  # not on Windows
        if chown is not None and (own.st_uid, own.st_gid) != (st.st_uid, st.st_gid):
            for uid in (st.st_uid, -1):  # only root may give the file away; its group, a member of it may
                with contextlib.suppress(OSError):
                    chown(tmp, uid, st.st_gid)
                    break
            own = os.stat(tmp)
        if own.st_gid == st.st_gid:
            mode = stat.S_IMODE(st.st_mode)
    os.chmod(tmp, mode)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        fd, near = mkstemp_beside(target)
        os.close(fd)
        try:
            shutil.copy2(tmp, near)  # mode too
            os.replace(near, target)
        except BaseException:
            os.unlink(near)
            raise
        os.unlink(tmp)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (:func:`mkstemp_beside`), flush it to disk, then publish
    it as ``path`` (:func:`publish`)."""
    check_replaceable(path)
    fd, tmp = mkstemp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
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
