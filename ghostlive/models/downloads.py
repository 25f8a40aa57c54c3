"""Downloads for the model manager (:class:`ghostlive.hub.ModelStore`): an HTTP(S) or file URL fetched into a
``.part`` file that a later run resumes, and the registry's members of a zip pack copied out of it."""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from ghostlive.errors import ModelError
from ghostlive.models.registry import BY_NAME, ModelSpec

Progress = Callable[[int, int | None], None]
CHUNK = 1 << 20


def fetch(url: str, part: Path, *, progress: Progress | None = None, timeout: float = 60.0) -> None:
    """Download ``url`` into ``part``, continuing from its current size with an HTTP Range request.

    An incomplete transfer raises ModelError and keeps ``part`` so the same command resumes it.
    """
    have = part.stat().st_size if part.exists() else 0
    try:
        request = urllib.request.Request(
            url, headers={"User-Agent": "ghostlive", **({"Range": f"bytes={have}-"} if have else {})}
        )
    except ValueError as exc:  # no scheme, or one urllib does not know
        raise ModelError(f"not a download address: {url!r} ({exc}); give an http://, https:// or file:// URL") from None
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            return
        raise ModelError(f"download failed: HTTP {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(f"download failed: cannot reach {url} ({getattr(exc, 'reason', exc)})") from None
    with response:
        resumed = response.status == 206
        if not resumed:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        last = 0.0
        with open(part, "ab" if resumed else "wb") as f:
            try:
                while block := response.read(CHUNK):
                    f.write(block)
                    done += len(block)
                    if progress and time.monotonic() - last > 0.2:
                        progress(done, total)
                        last = time.monotonic()
            except (OSError, TimeoutError, http.client.HTTPException) as exc:
                raise ModelError(
                    f"download interrupted after {done:,} bytes ({exc}); run the same command again to resume"
                ) from None
        if progress:
            progress(done, total)
    if total is not None and done < total:
        raise ModelError(
            f"download incomplete: got {done:,} of {total:,} bytes from {url}; run the same command again to resume"
        )


def extract_members(archive: Path, spec: ModelSpec, url: str, staging: Path) -> list[tuple[ModelSpec, Path, str]]:
    """Copy out of the zip ``archive`` (fetched from ``url``) the members the registry names: ``spec``'s and
    those of its siblings in the same pack. Returns (model, staged file in ``staging``, member's name) for each;
    ModelError when it is not a zip archive. The caller deletes the staged files."""
    staged: list[tuple[ModelSpec, Path, str]] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {Path(n).name: n for n in zf.namelist()}
            home = BY_NAME[spec.name].url if spec.name in BY_NAME else url  # siblings in the same pack
            siblings = [m for m in BY_NAME.values() if m.url == home and m.archive_member] or [spec]
            for m in (m for m in siblings if m.archive_member in members):
                fd, tmp = tempfile.mkstemp(dir=staging, prefix=f"{m.filename}.", suffix=".part")
                staged.append((m, Path(tmp), members[m.archive_member]))
                with os.fdopen(fd, "wb") as out, zf.open(members[m.archive_member]) as src:
                    shutil.copyfileobj(src, out, CHUNK)
    except BaseException as exc:
        for _, tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, zipfile.BadZipFile):
            raise ModelError(f"the download from {url} is not a valid zip archive; it has been deleted") from None
        raise
    return staged
