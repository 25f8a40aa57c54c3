"""What a run killed outright (``kill -9``, a crash, a power cut) leaves beside its output, found by the next run
writing the same output.

Every output is written to a hidden temporary file beside it (:func:`ghostlive.media.paths.mkstemp_beside`) and
renamed into place when complete; any signal a process can catch removes that file, but nothing runs on
``SIGKILL``. The next run writing the same output finds such a file by its name
(``.STEM.ghostlive-XXXXXXXX.part.SUFFIX``) when nothing has written to it for :data:`STALE_SECONDS`:

- an unfinished **recording** (:func:`recover_recordings`) is kept: it plays up to its last keyframe (recordings
  are written to be, see :func:`ghostlive.media.recorder.container_options`), so it is renamed to a visible
  ``STEM (unfinished YYYY-MM-DD HH.MM.SS).SUFFIX`` beside the output and the user is told;
- an unfinished **video job** output (:func:`remove_leftovers`) is deleted: a job's output is whole or nothing.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from pathlib import Path

from ghostlive.media.paths import TEMP_TAG, target_of

log = logging.getLogger(__name__)

STALE_SECONDS = 120.0
"""A temporary output nothing has written to for this long belongs to a run that has ended (a running video job or
recording writes every few seconds)."""
MIN_RECORDING_BYTES = 1024
"""An unfinished recording smaller than this holds no frame (only the container's header): deleted, not kept."""


def leftovers(dest: str | Path, *, now: float | None = None) -> list[Path]:
    """The temporary files of earlier runs writing ``dest`` (through a symbolic link, where the file lands) that
    nothing has written to for :data:`STALE_SECONDS`, oldest first."""
    target = target_of(dest)  # the temporary file lies beside it, named after it with the given name's suffix
    suffix = re.escape(Path(dest).suffix)
    pattern = re.compile(rf"\.{re.escape(target.stem)}\.{TEMP_TAG}-[A-Za-z0-9_]{{8}}\.part{suffix}")
    limit = (time.time() if now is None else now) - STALE_SECONDS
    found = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:  # a folder we cannot list: its writers report that themselves
        return []
    for p in entries:
        if not pattern.fullmatch(p.name):
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        if st.st_mtime < limit and p.is_file() and not p.is_symlink():
            found.append((st.st_mtime, p))
    return [p for _, p in sorted(found)]


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
    """Keep what recordings to ``dest`` cut off by a crash or ``kill -9`` hold: each is renamed to a visible
    ``STEM (unfinished YYYY-MM-DD HH.MM.SS).SUFFIX`` beside ``dest`` (the time it was last written), and a warning
    names it; one without a frame is deleted. The files kept, oldest first."""
    target = target_of(dest)
    kept = []
    for p in leftovers(dest):
        try:
            st = p.stat()
            if st.st_size < MIN_RECORDING_BYTES:
                p.unlink()
                continue
            stamp = datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H.%M.%S")
            new = _free_name(target.with_name(f"{target.stem} (unfinished {stamp}){target.suffix}"))
            p.rename(new)
        except OSError as exc:
            log.warning("%s: an unfinished recording of an earlier run was found but not kept (%s)", p, exc)
            continue
        log.warning(
            "%s: a recording to this file was cut off (crash or kill); what it holds is kept as %s", dest, new.name
        )
        kept.append(new)
    return kept


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with `` 2``, `` 3``… added to its stem when a file of that name exists."""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem} {n}{path.suffix}")
    return candidate
