"""Video encoders by name (``--codec``): which encoder a name means, the pixel format it takes, its quality and
quiet options, what to say when it cannot be used; the stream and the exactly converted frames it is given.
Shared by the video files and the live recordings."""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import Any

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.media.colour import RANGE_JPEG, RANGE_MPEG, Matrix, bgr_to_yuv_planes, colorspace_tag
from ghostlive.threads import active_plan
from ghostlive.types import Frame

log = logging.getLogger(__name__)

QUIET = {"libx265": {"x265-params": "log-level=error"}}
"""Encoder options that keep an encoder from printing its settings and summary (x265 writes them to stderr
itself, past Python's logging)."""
QUIET_ENV = {"libsvtav1": ("SVT_LOG", "1")}
"""Environment variables that do the same for encoders without such an option: SVT-AV1 reads its log level
(1: errors only) from SVT_LOG when its first encoder opens; a value the user set is kept."""
HARDWARE = {
    "_nvenc": "an NVIDIA GPU and driver",
    "_qsv": "an Intel GPU with Quick Sync and its driver",
    "_vaapi": "a VA-API GPU device and driver",
    "_videotoolbox": "macOS VideoToolbox",
    "_amf": "an AMD GPU and driver",
}
"""Encoder name endings of hardware encoders, and what each needs to open."""
QSCALE_CODECS = frozenset(
    {"mpeg4", "msmpeg4", "msmpeg4v2", "mpeg1video", "mpeg2video", "mjpeg", "h263", "h263p", "flv", "wmv1", "wmv2"}
)
"""Encoders with FFmpeg's quantiser scale (qscale 1–31, lower is better) instead of a CRF: ``--crf`` is that scale."""
QSCALE_RANGE = (1, 31)
FULL_RANGE_FIRST = ("mjpeg",)
"""Encoders that take limited-range Y′CbCr only under a non-standard setting: full range (yuvj…) is written."""
COMMON = ("libx264", "libx265", "libvpx-vp9", "libsvtav1", "libaom-av1", "mpeg4", "mjpeg", "prores_ks", "ffv1")
"""Encoders named when one asked for is not in this FFmpeg build (those of them that are)."""


def video_encoder(name: str) -> Any:
    """The encoder called ``name`` (an ``av.Codec``); a ConfigError when this FFmpeg has none or it is not a video
    encoder (checked before a stream is added: a failed ``add_stream`` leaves a container unusable)."""
    import av

    try:
        codec = av.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        have = ", ".join(c for c in COMMON if c != name and _exists(c))
        raise ConfigError(
            f"no video encoder '{name}' in this FFmpeg build (it has {have}; all: "
            "python -c 'import av; print(sorted(av.codecs_available))')"
        ) from None
    if codec.type != "video":
        article = "an" if codec.type[:1] in "aeiou" else "a"
        raise ConfigError(f"{name} is {article} {codec.type} encoder; --codec takes a video encoder, e.g. libx264")
    return codec


def encoder_name(name: str) -> str:
    """The encoder FFmpeg opens for ``name`` by its own name (``hevc`` is libx265, ``h264`` libx264 where those
    are built in), so that per-encoder choices (CRF, presets, quiet options) follow it; ``name`` itself when
    there is no such encoder (:func:`video_encoder` says so)."""
    import av

    try:
        return av.Codec(name, "w").name
    except (av.codec.codec.UnknownCodecError, ValueError):
        return name


def _exists(name: str) -> bool:
    import av

    try:
        av.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True


_CHROMA = {"420": ("420", "422", "444"), "422": ("422", "444", "420"), "444": ("444", "422", "420")}


def encoder_pix_fmt(codec: Any, wanted: str) -> str:
    """The pixel format to encode ``wanted`` frames in with ``codec``: ``wanted`` where the encoder takes it, else
    the closest it takes: the same chroma subsampling first, then more chroma, then less; 8-bit limited range,
    then full range (first for :data:`FULL_RANGE_FIRST`), then 10-bit (ProRes has no 8-bit format)."""
    formats = [f.name for f in codec.video_formats or ()]
    if not formats:
        return wanted
    chroma = next((c for c in _CHROMA if c in wanted), "420")
    ranges = ("yuvj", "yuv") if codec.name in FULL_RANGE_FIRST else ("yuv", "yuvj")
    own = [wanted] if codec.name not in FULL_RANGE_FIRST else []
    candidates = own + [f"{r}{c}p" for c in _CHROMA[chroma] for r in ranges] + [f"yuv{c}p10le" for c in _CHROMA[chroma]]
    return next((f for f in candidates if f in formats), formats[0])


def is_hardware(codec: str) -> str:
    """What hardware encoder ``codec`` needs to open ("" for a software encoder)."""
    return next((need for end, need in HARDWARE.items() if codec.endswith(end)), "")


def open_failure(codec: str, exc: BaseException) -> str:
    """Why ``codec`` would not open (``exc``, from opening it), in one line."""
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
    need = is_hardware(codec)
    if need:
        return f"the encoder {codec} could not be opened here ({reason}): it needs {need}"
    return f"the encoder {codec} could not be opened with these settings ({reason})"


def quiet_options(codec: str) -> dict[str, str]:
    """Options that keep ``codec`` from printing to the terminal (:data:`QUIET`; :data:`QUIET_ENV` is set here)."""
    if codec in QUIET_ENV:
        os.environ.setdefault(*QUIET_ENV[codec])
    return dict(QUIET.get(codec, {}))


def qscale(crf: int) -> int:
    """``--crf`` on a quantiser scale (:data:`QSCALE_CODECS`): the value itself, taken into 1–31."""
    return min(max(crf, QSCALE_RANGE[0]), QSCALE_RANGE[1])


JPEG_MATRIX = Matrix(0.299, 0.114, full_range=True)
"""JPEG's Y′CbCr (JFIF): the frames of the yuvj… formats."""


def video_frame(image: Frame, pix_fmt: str, matrix: Matrix) -> Any:
    """A PyAV frame for encoding ``image`` (BGR, any size) in ``pix_fmt``, tagged with ``matrix``'s colour space
    and range (:func:`encoding_matrix`): 8-bit 4:2:0 and 4:4:4 are converted exactly (rounded); other formats
    (4:2:2, 10-bit) by FFmpeg from bgr24 with the same matrix and range."""
    import av

    matrix = encoding_matrix(pix_fmt, matrix)
    colour, levels = colorspace_tag(matrix), RANGE_JPEG if matrix.full_range else RANGE_MPEG
    if pix_fmt.replace("yuvj", "yuv") not in ("yuv420p", "yuv444p"):
        bgr = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame = bgr.reformat(format=pix_fmt, dst_colorspace=colour, dst_color_range=levels)
    else:
        h, w = image.shape[:2]
        frame = av.VideoFrame(w, h, pix_fmt)
        for plane, data in zip(frame.planes, bgr_to_yuv_planes(image, matrix, "420" in pix_fmt), strict=True):
            rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
            rows[: data.shape[0], : data.shape[1]] = data
    frame.colorspace, frame.color_range = colour, levels
    return frame


def encoding_matrix(pix_fmt: str, matrix: Matrix) -> Matrix:
    """The matrix frames in ``pix_fmt`` are written with: ``matrix``, or JPEG's (BT.601, full range) for the yuvj…
    formats, which MJPEG decoders assume whatever the stream is tagged with."""
    return JPEG_MATRIX if pix_fmt.startswith("yuvj") else matrix


def add_video_stream(
    container: Any,
    codec: str,
    rate: Fraction | int,
    size: tuple[int, int],
    time_base: Fraction,
    matrix: Matrix,
    *,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    exact: bool = False,
) -> Any:
    """A video stream of ``size`` (width, height; trimmed to even unless ``exact``) timed in ``time_base``, tagged
    with ``matrix``'s colour space and range (the frames are converted with it by :func:`video_frame`), in
    ``pix_fmt`` or the closest format the encoder takes (:func:`encoder_pix_fmt`). A ConfigError when ``codec``
    is not a video encoder of this FFmpeg (:func:`video_encoder`)."""
    encoder = video_encoder(codec)  # before add_stream, which another kind of codec leaves half done
    stream = container.add_stream(codec, rate=rate)
    stream.width, stream.height = size if exact else (size[0] - size[0] % 2, size[1] - size[1] % 2)
    stream.pix_fmt = encoder_pix_fmt(encoder, pix_fmt)
    stream.thread_count = active_plan().encode
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    if options:
        stream.options = options
    matrix = encoding_matrix(stream.pix_fmt, matrix)
    try:
        stream.codec_context.colorspace = colorspace_tag(matrix)
        stream.codec_context.color_range = RANGE_JPEG if matrix.full_range else RANGE_MPEG
    except (AttributeError, ValueError, TypeError):
        log.debug("colour tags not set on the output stream")
    return stream
