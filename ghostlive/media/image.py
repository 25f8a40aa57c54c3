"""Reading and writing still images safely.

Reading validates before decoding (existence, empty files, declared dimensions) and decodes fully, so a
truncated file is an error rather than a half-grey picture. Writing is atomic: the image goes to a temporary
file beside the destination and is renamed over it only once complete.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, TiffImagePlugin, UnidentifiedImageError

from ghostlive.errors import InvalidInputError, OutputError
from ghostlive.media.image_kinds import LOSSY_FORMATS, icc_fits, lossy_webp, refuse_heif, warn_extra_frames
from ghostlive.media.paths import (
    atomic_write_bytes,
    check_name_length,
    check_replaceable,
    check_sinks,
    reason,
    require_file,
)
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
    icc: bytes | None = None
    """The embedded ICC colour profile, written back into the result (the pixels stay in its colour space)."""
    lossy: bool = False
    """Stored with lossy compression (JPEG, lossy WebP, AVIF): a WebP result is then lossy too, at the writer's
    quality, instead of lossless (5-10× the size for nothing a lossy original held)."""


def read_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode ``path`` into a BGR uint8 frame (EXIF rotation applied; 16-bit and float scaled to 8 bits; alpha
    kept aside). Formats Pillow cannot hold (float or 16-bit colour TIFF) are decoded by OpenCV."""
    p = require_file(path)
    bomb = Image.DecompressionBombWarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", bomb)
            try:
                im, large = Image.open(p), False
            except bomb:  # over Pillow's 89.5 MP: the limit is ours (max_pixels), for a format that declares
                im, large = _open_large(p), True  # its size before decoding anything
        with im:
            _check_size(p, im.size, max_pixels)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore" if large else "error", bomb)  # an icon's image is sized only here
                im.load()
            warn_extra_frames(p, im)
            icc = im.info.get("icc_profile")
            lossy = im.format in LOSSY_FORMATS or (im.format == "WEBP" and lossy_webp(p))
            loaded = _to_loaded(p, ImageOps.exif_transpose(im))
            return replace(loaded, icc=icc if icc_fits(icc, loaded.grayscale) else None, lossy=lossy)
    except InvalidInputError:
        raise
    except UnidentifiedImageError:
        refuse_heif(p)
        return _read_tiff_with_opencv(p, max_pixels)
    except (Image.DecompressionBombError, bomb) as exc:  # over twice Pillow's limit, or an icon's image over it
        raise InvalidInputError(f"image declares too many pixels to decode safely ({exc})", p) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(f"the image is damaged or truncated ({exc})", p) from None


def _open_large(path: Path) -> Image.Image:
    """``path`` opened again without Pillow's size warning, as any format but those that decode an embedded image
    to learn its size (ICO while opening, ICNS while loading): those stay refused above Pillow's limit."""
    Image.init()
    sized = [f for f in Image.OPEN if f not in ("ICO", "ICNS")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path, formats=sized)
        except UnidentifiedImageError:
            raise InvalidInputError("image declares too many pixels to decode safely", path) from None


def _check_size(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w * h > max_pixels:
        raise InvalidInputError(f"image declares too many pixels ({w}×{h}, more than the {max_pixels:,} allowed)", path)


def _read_tiff_with_opencv(path: Path, max_pixels: int) -> LoadedImage:
    """A TIFF that Pillow cannot represent (3-channel float32, for one): size checked from its header, then
    decoded by OpenCV with its depth kept."""
    not_image = InvalidInputError("not an image file, or a format that cannot be read", path)
    try:
        with open(path, "rb") as f:
            ifd = TiffImagePlugin.ImageFileDirectory_v2(f.read(8))
            f.seek(ifd.next)
            ifd.load(f)
        size = (int(ifd[256]), int(ifd[257]))
    except (KeyError, OSError, SyntaxError, ValueError, TypeError):
        raise not_image from None
    _check_size(path, size, max_pixels)
    data = np.fromfile(path, np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise InvalidInputError("the image is damaged or truncated (OpenCV cannot decode this TIFF)", path)
    alpha = to_uint8(arr[..., 3]) if arr.ndim == 3 and arr.shape[2] == 4 else None
    depth = 16 if arr.dtype == np.uint16 else (32 if arr.dtype.kind == "f" else 8)
    if arr.ndim == 2 or arr.shape[2] == 1:
        gray = to_uint8(arr.reshape(arr.shape[:2]))
        return LoadedImage(path, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), None, True, depth)
    return LoadedImage(path, np.ascontiguousarray(to_uint8(arr[..., :3])), alpha, False, depth)


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Samples of any depth as uint8. 16-bit scales by 1/257, wider integers and floats by their value range:
    0–1 (the usual float convention), else 0–255, else 0–65535, else by their maximum. NaN becomes 0."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        top = 65535.0
    elif arr.dtype.kind in "ui":
        top = 255.0 if arr.max(initial=0) <= 255 else 65535.0 if arr.max(initial=0) <= 65535 else float(arr.max())
    else:
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(arr.max(initial=0.0))
        top = next((t for t in (1.0, 255.0, 65535.0) if peak <= t * (1 + 1e-6)), peak)
    return np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)


def _to_loaded(path: Path, im: Image.Image) -> LoadedImage:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im)
        if mode.startswith("I;16"):
            arr = arr.astype(np.uint16)
        depth = 32 if mode == "F" else 16
        return LoadedImage(path, cv2.cvtColor(to_uint8(arr), cv2.COLOR_GRAY2BGR), None, True, depth)
    if mode in ("L", "1"):
        gray = np.asarray(im.convert("L"))
        return LoadedImage(path, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), None, True, 8)
    alpha = None
    if mode in ("LA", "La", "RGBA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"))
        alpha = rgba[..., 3].copy()
        rgb = rgba[..., :3]
    else:
        rgb = np.asarray(im.convert("RGB"))
    return LoadedImage(path, np.ascontiguousarray(rgb[..., ::-1]), alpha, mode in ("LA", "La"), 8)


def check_output_path(path: str | os.PathLike[str], inputs: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Validate an output image path before any work is done: known extension, a name the file system takes,
    existing folder, not an input, nothing there that an output may not replace (a FIFO, device or socket, a
    write-protected file; see :func:`ghostlive.media.paths.check_replaceable`)."""
    p = check_name_length(path)
    if p.suffix.lower() not in WRITABLE:
        raise OutputError(
            f"unsupported output format {p.suffix or '(none)'}; use one of {', '.join(sorted(WRITABLE))}", p
        )
    try:
        if not p.parent.resolve().is_dir():
            raise OutputError(f"the folder {p.parent} does not exist", p)
        if p.is_dir():
            raise OutputError("is a folder, not a file name", p)
    except OutputError:
        raise
    except OSError as exc:  # a path too long as a whole, a folder we may not look into
        raise OutputError(f"cannot be checked ({reason(exc)})", p) from None
    check_sinks([p], inputs)
    check_replaceable(p)
    return p


def encode_image(frame: Frame, suffix: str, like: LoadedImage | None = None, quality: int = 95) -> bytes:
    """Encode ``frame`` (BGR) for ``suffix``, restoring the layout of ``like`` (greyscale, alpha) and its ICC colour
    profile (in every format but BMP) if given."""
    ext = WRITABLE[suffix.lower()]
    icc = like.icc if like is not None and ext != ".bmp" else None
    out: np.ndarray = frame
    if like is not None and like.grayscale:
        out = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if like.alpha is not None and ext in _ALPHA_FORMATS:
            return _encode_grey_alpha(out, like.alpha, ext, icc)
    elif like is not None and like.alpha is not None and ext in _ALPHA_FORMATS:
        out = np.dstack([frame, like.alpha])
    lossy_webp = ext == ".webp" and like is not None and like.lossy
    if icc:
        return _encode_with_profile(out, ext, icc, quality, lossy_webp)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == ".jpg" else []
    if ext == ".webp":  # OpenCV writes lossless WebP above quality 100
        params = [cv2.IMWRITE_WEBP_QUALITY, quality if lossy_webp else 101]
    ok, buf = cv2.imencode(ext, out, params)
    if not ok:
        raise OutputError(f"could not encode the image as {ext}")
    return buf.tobytes()


def _encode_grey_alpha(gray: np.ndarray, alpha: np.ndarray, ext: str, icc: bytes | None = None) -> bytes:
    """Grey + alpha as the format's own grey-with-alpha layout (OpenCV writes only 1, 3 or 4 channels)."""
    buf = io.BytesIO()
    profile = {"icc_profile": icc} if icc else {}
    Image.fromarray(np.dstack([gray, alpha]), "LA").save(buf, format=ext.lstrip(".").replace("jpg", "jpeg"), **profile)
    return buf.getvalue()


def _encode_with_profile(out: np.ndarray, ext: str, icc: bytes, quality: int, lossy_webp: bool = False) -> bytes:
    """``out`` (grey, BGR or BGRA) encoded by Pillow, which embeds an ICC profile, as OpenCV would encode it:
    JPEG at ``quality`` in 4:2:0, WebP lossless (``lossy_webp``: at ``quality``), LZW-compressed TIFF."""
    rgb = out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_BGR2RGB if out.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    options: dict[str, object] = {
        ".jpg": {"quality": quality, "subsampling": "4:2:0"},
        ".webp": {"quality": quality} if lossy_webp else {"lossless": True},
        ".tiff": {"compression": "tiff_lzw"},
    }.get(ext, {})
    buf = io.BytesIO()
    try:
        Image.fromarray(np.ascontiguousarray(rgb)).save(
            buf, format=ext.lstrip(".").replace("jpg", "jpeg"), icc_profile=icc, **options
        )
    except (OSError, ValueError) as exc:
        raise OutputError(f"could not encode the image as {ext} ({exc})") from None
    return buf.getvalue()


def write_image(path: str | os.PathLike[str], frame: Frame, like: LoadedImage | None = None, quality: int = 95) -> Path:
    """Atomically write ``frame`` to ``path`` (format from the extension)."""
    p = Path(path)
    if p.suffix.lower() not in WRITABLE:
        raise OutputError(f"unsupported output format {p.suffix or '(none)'}", p)
    data = encode_image(frame, p.suffix, like, quality)
    _warn_downgrades(p, like)
    try:
        atomic_write_bytes(p, data)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output ({exc.strerror or exc})", p) from exc
    log.info("wrote %s", p)
    return p


def _warn_downgrades(path: Path, like: LoadedImage | None) -> None:
    """Say what of the original ``like`` the result at ``path`` cannot keep: transparency in a format without
    it, samples deeper than 8 bits."""
    if like is None:
        return
    ext = WRITABLE[path.suffix.lower()]
    if like.alpha is not None and ext not in _ALPHA_FORMATS and bool((like.alpha < 255).any()):
        keep = ", ".join(sorted(_ALPHA_FORMATS))
        log.warning("%s: %s has no transparency; the photo's is dropped (write %s to keep it)", path, ext, keep)
    if like.bit_depth > 8:
        log.warning("%s: written with 8 bits per sample (the photo has %d)", path, like.bit_depth)
