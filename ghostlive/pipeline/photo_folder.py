"""A folder of photos as one job: which of its entries are photos (every format a single photo target reads), the
file each one is written to, what is left out and why, and the output folder checked before any work."""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ghostlive.errors import InvalidInputError, OutputError
from ghostlive.media.image import WRITABLE
from ghostlive.media.paths import check_sinks, same_file
from ghostlive.media.video import VIDEO_SUFFIXES

AUDIO_SUFFIXES = {".m4a", ".mp3", ".wav", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma"}
EXPLAINED = {".heic", ".heif"}
"""Photo formats the photo reader refuses with a reason of its own: such a photo fails with that reason."""
NOT_PHOTOS = {"BUFR", "GRIB", "HDF5", "WMF", "EPS"}
"""Pillow formats it names but cannot decode without handlers or programs of its own (stubs; EPS needs
Ghostscript): files of these are not photos to a folder job, as before it read more formats."""


@lru_cache(maxsize=1)
def photo_suffixes() -> frozenset[str]:
    """The suffixes of the formats the photo reader (:func:`ghostlive.media.image.read_image`, Pillow) opens,
    those it writes and GIF; never a video's or an audio file's."""
    Image.init()
    opened = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN and fmt not in NOT_PHOTOS}
    return frozenset((opened | set(WRITABLE) | {".gif"} | EXPLAINED) - VIDEO_SUFFIXES - AUDIO_SUFFIXES)


def is_photo(path: Path) -> bool:
    """Whether a single photo target ``path`` is read as a photo: a photo's suffix, or content the photo reader
    recognises whatever the name (an AVIF photo named .heic). A damaged photo counts: reading it says why."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES or suffix in AUDIO_SUFFIXES:
        return False
    if suffix in photo_suffixes():
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return image.format not in NOT_PHOTOS
    except Image.DecompressionBombError:  # recognised; reading it refuses the size
        return True
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


@dataclass
class FolderScan:
    """The entries of a folder: its photos (sorted) and how many of each other kind it holds."""

    photos: list[Path] = field(default_factory=list)
    subfolders: int = 0
    videos: int = 0
    audio: int = 0
    others: int = 0

    @property
    def skipped(self) -> int:
        return self.subfolders + self.videos + self.audio + self.others

    def skipped_note(self) -> str:
        """``skipped N (a subfolder, 2 videos: folder jobs swap photos; …)``, or "" when nothing was left out."""
        if not self.skipped:
            return ""
        kinds = (
            (self.subfolders, "a subfolder", "subfolders"),
            (self.videos, "a video", "videos"),
            (self.audio, "an audio file", "audio files"),
            (self.others, "a file that is not a photo", "files that are not photos"),
        )
        parts = [one if n == 1 else f"{n} {many}" for n, one, many in kinds if n]
        advice = "; give a video as --target on its own" if self.videos else ""
        return f"skipped {self.skipped} ({', '.join(parts)}: folder jobs swap photos{advice})"


def scan_folder(folder: Path) -> FolderScan:
    """Sort the entries of ``folder`` into photos (:func:`is_photo`), subfolders, videos, audio files and others."""
    scan = FolderScan()
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise InvalidInputError(f"cannot list the folder ({exc.strerror or exc})", folder) from None
    for p in entries:
        suffix = p.suffix.lower()
        if p.is_dir():
            scan.subfolders += 1
        elif not p.is_file():
            scan.others += 1
        elif suffix in VIDEO_SUFFIXES:
            scan.videos += 1
        elif suffix in AUDIO_SUFFIXES:
            scan.audio += 1
        elif is_photo(p):
            scan.photos.append(p)
        else:
            scan.others += 1
    return scan


def check_output_folder(src: Path, dst: Path) -> None:
    """The output of a folder job: a folder (existing, or a new one whose parent exists) that is not the input
    folder, not named like a photo or video file, and takes new files (checked with a temporary file, removed at
    once: the real test, also for root on a read-only mount)."""
    if dst.exists() and not dst.is_dir():
        raise OutputError("must be a folder when the target is a folder", dst)
    suffix = dst.suffix.lower()
    if not dst.exists() and (suffix in photo_suffixes() or suffix in VIDEO_SUFFIXES):
        raise OutputError(
            f"the target is a folder, so the output is a folder too; give a folder name, not a {suffix} file name",
            dst,
        )
    if same_file(dst, src):
        raise OutputError("the output folder is the input folder; choose another so nothing is overwritten", dst)
    if not dst.parent.is_dir():
        raise OutputError(f"the folder {dst.parent} does not exist", dst)
    where = dst if dst.exists() else dst.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".ghostlive-", dir=where)
    except OSError as exc:
        what = "write in" if where == dst else "create"
        raise OutputError(f"cannot {what} the folder ({exc.strerror or exc})", dst) from None
    os.close(fd)
    os.unlink(probe)


def folder_plan(folder: str | Path, output: str | Path, inputs: tuple[str, ...] = ()) -> list[tuple[Path, Path]]:
    """Each photo of ``folder`` with the file of ``output`` it is written to: the same name, or the name with
    ".png" where the format cannot be written (GIF, AVIF) — "a.gif" becomes "a.png", or "a.gif.png" when another
    photo already takes "a.png", so no two photos share an output. Checks the output folder
    (:func:`check_output_folder`), and that no output is one of the photos or of ``inputs`` (source and reference
    photos, which may lie in ``output``); creates nothing."""
    plan, _ = plan_folder(folder, output, inputs)
    return plan


def plan_folder(
    folder: str | Path, output: str | Path, inputs: tuple[str, ...] = ()
) -> tuple[list[tuple[Path, Path]], FolderScan]:
    """:func:`folder_plan` and the folder's :class:`FolderScan` (what was left out)."""
    src, dst = Path(folder), Path(output)
    check_output_folder(src, dst)
    scan = scan_folder(src)
    files = scan.photos
    if not files:
        note = scan.skipped_note()
        raise InvalidInputError("is a folder with no images in it" + (f"; {note}" if note else ""), src)
    kept = [p for p in files if p.suffix.lower() in WRITABLE]
    taken = {p.name.casefold() for p in kept}
    plan = {p: dst / p.name for p in kept}
    for p in (p for p in files if p.suffix.lower() not in WRITABLE):
        name = p.stem + ".png" if (p.stem + ".png").casefold() not in taken else p.name + ".png"
        taken.add(name.casefold())
        plan[p] = dst / name
    check_sinks(plan.values(), [*inputs, *files])
    return [(p, plan[p]) for p in files], scan


def folder_summary(written: int, problems: list[str], output: str | Path) -> str:
    """One line: how many images were written where, how many failed and which (from ``run_folder``)."""
    line = f"{written} done, {len(problems)} failed"
    if problems:
        line += " (" + ", ".join(p.split(": ", 1)[0] for p in problems) + ")"
    return line + (f" → {output}" if written else "; nothing written")
