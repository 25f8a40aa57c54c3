"""What a photo file is, beyond its pixels: lossy or lossless storage, extra frames or pages, a colour profile that
fits, a format no decoder here reads (HEIC)."""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image

from ghostlive.errors import InvalidInputError

log = logging.getLogger(__name__)

LOSSY_FORMATS = {"JPEG", "MPO", "AVIF"}
"""Pillow's names of the formats whose photos are stored lossy (WebP is either: see :func:`lossy_webp`)."""


def lossy_webp(path: Path) -> bool:
    """Whether a WebP file holds a lossy image (a ``VP8 `` chunk) rather than a lossless one (``VP8L``)."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)
    except OSError:
        return False
    pos = 12  # after RIFF, size, WEBP
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if kind in (b"VP8 ", b"VP8L"):
            return kind == b"VP8 "
        pos += 8 + size + (size & 1)
    return False


def warn_extra_frames(path: Path, im: Image.Image) -> None:
    """Say that only the first frame of an animation (GIF, PNG, WebP) or page of a multi-page TIFF is read."""
    count = int(getattr(im, "n_frames", 1) or 1)
    if count < 2 or im.format not in ("GIF", "PNG", "WEBP", "TIFF"):
        return  # a camera's MPO JPEG holds a preview or a second view, not more photos
    if im.format == "TIFF":
        advice = "save each page as an image of its own to swap it"
        log.warning("%s has %d pages; only the first is swapped (%s)", path, count, advice)
    else:
        log.warning("%s has %d frames; only the first is swapped (swap it as a video: convert to .mp4)", path, count)


def icc_fits(icc: bytes | None, grayscale: bool) -> bool:
    """Whether the profile ``icc`` describes the pixels as decoded: an RGB profile for colour, a grey one for grey
    (CMYK and Lab photos are decoded as RGB, which their profile does not describe)."""
    return icc is not None and icc[16:20] == (b"GRAY" if grayscale else b"RGB ")


HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
"""ISO media file brands of HEIF photos (an iPhone's .heic), which no decoder here reads."""


def refuse_heif(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        raise InvalidInputError("HEIC photos are not supported (convert to JPEG or PNG)", path)
