"""Reading and writing still images safely.

Reading validates before decoding (existence, empty files, declared dimensions) and decodes fully, so a
truncated file is an error rather than a half-grey picture. Writing is atomic: the image goes to a temporary
file beside the destination and is renamed over it only once complete.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ghostlive.errors import InvalidInputError, OutputError
from ghostlive.media.paths import atomic_write_bytes, require_file
from ghostlive.types import Frame

log = logging.getLogger(__name__)

MAX_PIXELS = 100_000_000
"""Largest image accepted (declared width × height), 100 megapixels."""

WRITABLE = {
    ".jpg": ".jpg",
    ".jpeg": ".jpg",
    ".png": ".png",
    ".bmp": ".bmp",
    ".webp": ".webp",
    ".tif": ".tiff",
    ".tiff": ".tiff",
}
_ALPHA_FORMATS = {".png", ".webp", ".tiff"}


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image as a BGR frame, plus what is needed to write a result in the same layout."""

    path: Path
    bgr: Frame
    alpha: np.ndarray | None = None
    """The original alpha channel (uint8), kept aside and restored on write."""
    grayscale: bool = False
    bit_depth: int = 8


def read_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode ``path`` into a BGR uint8 frame (EXIF rotation applied; 16-bit scaled to 8; alpha kept aside)."""
    p = require_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise InvalidInputError(
                        f"image declares too many pixels ({w}×{h}, more than the {max_pixels:,} allowed)", p
                    )
                im.load()
                im = ImageOps.exif_transpose(im)
                return _to_loaded(p, im)
    except InvalidInputError:
        raise
    except UnidentifiedImageError:
        raise InvalidInputError("not an image file, or a format that cannot be read", p) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInputError(f"image declares too many pixels to decode safely ({exc})", p) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(f"the image is damaged or truncated ({exc})", p) from None


def _to_loaded(path: Path, im: Image.Image) -> LoadedImage:
    mode = im.mode
    bit_depth = 16 if mode in ("I;16", "I;16B", "I;16L", "I") else 8
    alpha = None
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        scale = 65535.0 if arr.max(initial=0) > 255 or mode != "I" else 255.0
        gray = np.clip(np.rint(arr * (255.0 / scale)), 0, 255).astype(np.uint8)
        return LoadedImage(path, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), None, True, bit_depth)
    if mode in ("L", "1"):
        gray = np.asarray(im.convert("L"))
        return LoadedImage(path, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), None, True, bit_depth)
    if mode in ("LA", "RGBA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"))
        alpha = rgba[..., 3].copy()
        rgb = rgba[..., :3]
    else:
        rgb = np.asarray(im.convert("RGB"))
    return LoadedImage(path, np.ascontiguousarray(rgb[..., ::-1]), alpha, mode in ("LA",), bit_depth)


def check_output_path(path: str | os.PathLike[str], inputs: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Validate an output image path before any work is done: known extension, existing folder, not an input."""
    p = Path(path)
    if p.suffix.lower() not in WRITABLE:
        raise OutputError(
            f"unsupported output format {p.suffix or '(none)'}; use one of {', '.join(sorted(WRITABLE))}", p
        )
    if not p.parent.resolve().is_dir():
        raise OutputError(f"the folder {p.parent} does not exist", p)
    if p.is_dir():
        raise OutputError("is a folder, not a file name", p)
    for i in inputs:
        same_file = Path(i).exists() and p.exists() and os.path.samefile(i, p)
        if same_file or Path(i).resolve() == p.resolve():
            raise OutputError("the output would overwrite an input; choose another output path", p)
    return p


def encode_image(frame: Frame, suffix: str, like: LoadedImage | None = None, quality: int = 95) -> bytes:
    """Encode ``frame`` (BGR) for ``suffix``, restoring the layout of ``like`` (greyscale, alpha) if given."""
    ext = WRITABLE[suffix.lower()]
    out: np.ndarray = frame
    if like is not None and like.grayscale and like.alpha is None:
        out = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    elif like is not None and like.alpha is not None and ext in _ALPHA_FORMATS:
        out = np.dstack([frame, like.alpha])
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, out, params)
    if not ok:
        raise OutputError(f"could not encode the image as {ext}")
    return buf.tobytes()


def write_image(path: str | os.PathLike[str], frame: Frame, like: LoadedImage | None = None, quality: int = 95) -> Path:
    """Atomically write ``frame`` to ``path`` (format from the extension)."""
    p = Path(path)
    if p.suffix.lower() not in WRITABLE:
        raise OutputError(f"unsupported output format {p.suffix or '(none)'}", p)
    data = encode_image(frame, p.suffix, like, quality)
    try:
        atomic_write_bytes(p, data)
    except OSError as exc:
        raise OutputError(f"cannot write the output ({exc.strerror or exc})", p) from exc
    log.info("wrote %s", p)
    return p
