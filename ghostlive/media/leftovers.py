"""What a run killed outright (``kill -9``, a crash, a power cut) leaves beside its output, found by the next run
writing the same output.

Every output is written to a hidden temporary file beside it (:func:`ghostlive.media.paths.mkstemp_beside`) and
renamed into place when complete; any signal a process can catch removes that file, but nothing runs on
``SIGKILL``. The next run writing the same output finds such a file by its name
(``.STEM.ghostlive-XXXXXXXX.part.SUFFIX``) when nothing has written to it for :data:`STALE_SECONDS`:

- an unfinished **recording** (:func:`recover_recordings`; :func:`recover_folder` for the desktop app's
  time-stamped recordings) is kept: it plays up to its last keyframe (recordings
  are written to be, see :func:`ghostlive.media.recorder.container_options`), so it is renamed to a visible
  ``STEM (unfinished YYYY-MM-DD HH.MM.SS).SUFFIX`` beside the output and the user is told;
- an unfinished **video job** output (:func:`remove_leftovers`) is deleted: a job's output is whole or nothing.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import time
from datetime import datetime
from pathlib import Path

from ghostlive.errors import OutputError
from ghostlive.media.paths import TEMP_TAG, fit_name, name_room, target_of, temp_affixes
from ghostlive.media.video import VIDEO_SUFFIXES

log = logging.getLogger(__name__)

STALE_SECONDS = 120.0
"""A temporary output nothing has touched for this long belongs to a run that has ended: a running one touches
its file every :data:`FRESH_EVERY` seconds (:class:`KeepFresh`), whether or not its encoder has written yet."""
FRESH_EVERY = 20.0
MIN_RECORDING_BYTES = 1024
"""An unfinished recording smaller than this holds no frame (only the container's header): deleted, not kept."""


def leftovers(dest: str | Path, *, now: float | None = None) -> list[Path]:
    """The temporary files of earlier runs writing ``dest`` (through a symbolic link, where the file lands) that
    nothing has written to for :data:`STALE_SECONDS`, oldest first."""
    target = target_of(dest)  # the temporary file lies beside it, named after it (shortened to fit)
    try:
        prefix, suffix = temp_affixes(dest, keep_suffix=True)
    except OutputError:  # a name too long for any temporary file: none was made
        return []
    pattern = re.compile(rf"{re.escape(prefix)}[A-Za-z0-9_]{{8}}{re.escape(suffix)}")
    return [p for p, _ in _stale(target.parent, pattern, now)]


def _stale(folder: Path, pattern: re.Pattern[str], now: float | None) -> list[tuple[Path, re.Match[str]]]:
    """Regular files in ``folder`` whose whole name matches ``pattern``, unchanged for :data:`STALE_SECONDS`,
    oldest first, with their match."""
    limit = (time.time() if now is None else now) - STALE_SECONDS
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:  # a folder we cannot list: its writers report that themselves
        return []
    for p in entries:
        match = pattern.fullmatch(p.name)
        if match is None:
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        if st.st_mtime < limit and stat.S_ISREG(st.st_mode):
            found.append((st.st_mtime, p.name, p, match))
    return [(p, m) for _, _, p, m in sorted(found)]


def remove_leftovers(dest: str | Path) -> int:
    """Delete what killed runs left while writing ``dest`` (see :func:`leftovers`); how many files went."""
    removed = 0
    for p in leftovers(dest):
        try:
            p.unlink()
            removed += 1
        except OSError as exc:
            log.debug("could not remove %s: %s", p, exc)
    if removed:
        log.info("%s: removed %d unfinished file(s) of an earlier run that was killed", dest, removed)
    return removed


def recover_recordings(dest: str | Path) -> list[Path]:
    """Keep what recordings to ``dest`` cut off by a crash or ``kill -9`` hold (see :func:`keep_unfinished`)."""
    target = target_of(dest)
    return [kept for p in leftovers(dest) if (kept := keep_unfinished(p, target.stem, target.suffix)) is not None]


def recover_folder(folder: str | Path) -> list[Path]:
    """Keep what any recording into ``folder`` cut off by a crash or ``kill -9`` holds (the desktop app records
    to a new time-stamped name each time, so no later recording has the same name): see :func:`keep_unfinished`."""
    suffixes = "|".join(re.escape(s) for s in sorted(VIDEO_SUFFIXES))
    pattern = re.compile(rf"\.(?P<stem>.+)\.{TEMP_TAG}-[A-Za-z0-9_]{{8}}\.part(?P<suffix>{suffixes})")
    kept = []
    for p, match in _stale(Path(folder), pattern, None):
        new = keep_unfinished(p, match["stem"], match["suffix"])
        if new is not None:
            kept.append(new)
    return kept


def keep_unfinished(part: Path, stem: str, suffix: str) -> Path | None:
    """Rename the unfinished recording ``part`` to a visible ``STEM (unfinished YYYY-MM-DD HH.MM.SS)SUFFIX``
    beside it (the time it was last written), with a warning naming it; one that holds no playable frame (an
    unfinished video job's output, a recording killed before its first fragment) is deleted. The new path, or
    None."""
    try:
        if not _plays(part):
            part.unlink()
            log.info("%s: removed an unfinished file of a run that was killed (nothing in it plays)", part)
            return None
        stamp = datetime.fromtimestamp(part.stat().st_mtime).strftime("%Y-%m-%d %H.%M.%S")
        tail = f" (unfinished {stamp}) 99{suffix}"  # room for _free_name's number too
        new = _free_name(part.with_name(f"{fit_name(stem, name_room(part.parent, tail))} (unfinished {stamp}){suffix}"))
        part.rename(new)
    except OSError as exc:
        log.warning("%s: an unfinished recording of an earlier run was found but not kept (%s)", part, exc)
        return None
    log.warning("a recording to %s%s was cut off (crash or kill); what it holds is kept as %s", stem, suffix, new)
    return new


def _plays(path: Path) -> bool:
    """Whether a player gets a frame from ``path``."""
    import av

    if path.stat().st_size < MIN_RECORDING_BYTES:
        return False
    try:
        with av.open(str(path)) as container:
            return next(iter(container.decode(video=0)), None) is not None
    except (av.error.FFmpegError, StopIteration, IndexError, ValueError):
        return False


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with `` 2``, `` 3``… added to its stem when a file of that name exists."""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem} {n}{path.suffix}")
    return candidate


class KeepFresh:
    """Touch ``path`` every :data:`FRESH_EVERY` seconds until :meth:`close`, so that no other run takes the
    temporary file of a job still at work for a leftover (an encoder may hold its first packets for a long while
    when frames are slow: look-ahead, a neural swapper on the CPU, a stalled camera)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ghostlive-keepfresh", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FRESH_EVERY):
            try:
                os.utime(self.path)
            except OSError:  # gone (published or deleted): nothing left to keep
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
