"""Handing a source's audio and subtitle streams on to a video being written: copied packet for packet where the
container holds them, audio re-encoded where it does not, anything else left out.

Whether the container holds a stream is tried first on a throwaway file in memory: some containers accept a stream
when it is added and refuse it only when the header is written (MPEG program streams refuse AAC there), which is too
late to choose another codec for the real file."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ghostlive.media.video import _av

log = logging.getLogger(__name__)

AUDIO_CODECS = ("aac", "libopus", "ac3", "mp2")
"""Tried in this order for an audio stream whose codec the container cannot hold (Opus for WebM, AC-3 for MPEG)."""
AVI_FRAMED_AUDIO = frozenset({"aac", "ac3", "eac3", "mp3", "mp3float"})
"""Compressed audio whose block align an AVI file states as its largest frame (3840 bytes for AC-3). Copied as it
is, that block align makes the AVI writer count the track in fixed-size samples, which squeezes its timing (3 s of
sound stamped over 0.6 s); it is cleared on copy, as the FFmpeg tool does (for AC-3 and MP3)."""


class Transcode:
    """An audio stream re-encoded because the container cannot hold its codec."""

    def __init__(self, source: Any, out: Any) -> None:
        self.source, self.out = source, out
        self.skipped = 0
        """Damaged packets the decoder rejected (skipped, like damaged video packets)."""

    def packets(self, packet: Any) -> list[Any]:
        result = []
        try:
            frames = packet.decode() if packet is not None else self.source.codec_context.decode(None)
        except _av().error.InvalidDataError:
            self.skipped += 1
            return []
        for frame in frames:
            result += self.out.encode(frame)
        return result

    def flush(self) -> list[Any]:
        return [*self.packets(None), *self.out.encode(None)]


GENERIC_HANDLER = re.compile(r"handle|^core media|produced by", re.IGNORECASE)
"""Handler names that muxers write on every track of a kind, not a track's title: FFmpeg's SoundHandler, Android's
VideoHandle, "Apple Video Media Handler", "L-SMASH Video Handler", "GPAC ISO Video Handler", "Core Media Audio",
"ISO Media file produced by Google Inc. Created on: …"."""
HANDLER_FORMATS = ("mp4", "mov", "ipod", "3gp", "3g2")
"""Muxers that store a track's name as its handler name (FFmpeg's muxer names)."""


def _kept_dispositions() -> int:
    from av.stream import Disposition

    names = ("default", "dub", "original", "comment", "lyrics", "karaoke", "forced", "hearing_impaired",
             "visual_impaired", "captions", "descriptions", "dependent")  # fmt: skip
    return sum(int(getattr(Disposition, n, 0)) for n in names)


def codec_name(stream: Any) -> str:
    ctx = getattr(stream, "codec_context", None)
    return getattr(ctx, "name", None) or "unknown codec"


def add_passthrough(container: Any, stream: Any, name: Path) -> tuple[Any, str]:
    """``stream`` (a source's audio or subtitle stream) added to ``container`` (an output not yet started): the copy
    stream, a :class:`Transcode`, or None with the reason it is left out. ``name`` is the user's output."""
    label = f"{stream.type} #{stream.index} ({codec_name(stream)})"
    suffix = name.suffix.lower()
    if _holds(container, lambda c: c.add_stream_from_template(stream)):
        return _copy(container, stream), ""
    if stream.type == "audio":
        for codec in AUDIO_CODECS:
            if _holds(container, lambda c, codec=codec: _encoder(c, codec, stream)):
                out = _encoder(container, codec, stream)
                copy_stream_tags(stream, out, container)
                log.warning("%s: %s re-encoded as %s (%s cannot hold it)", name, label, codec, suffix)
                return Transcode(stream, out), ""
    return None, f"{label}: {suffix} cannot hold it (.mkv holds most streams)"


def copy_stream_tags(stream: Any, out: Any, container: Any) -> None:
    """Give ``out`` (a stream of ``container``, not yet started) the language, title and disposition (default,
    forced, …) of ``stream``, its source: a title from the track name an MP4/MOV stores as its handler (unless it
    is a muxer's generic one), written as the handler there too (what players show as the track's name)."""
    tags = stream.metadata
    language = tags.get("language", "")
    title = tags.get("title") or tags.get("name") or tags.get("handler_name", "")
    if GENERIC_HANDLER.search(title):
        title = ""
    if language and language != "und":
        out.metadata["language"] = language
    if title:
        out.metadata["title"] = title
        if container.format.name in HANDLER_FORMATS:
            out.metadata["handler_name"] = title
    try:
        out.disposition = stream.disposition & _kept_dispositions()
    except (AttributeError, TypeError, ValueError):  # an older PyAV: the muxer's own choice
        log.debug("disposition of %s #%d not copied", stream.type, stream.index, exc_info=True)


def _holds(container: Any, add: Callable[[Any], Any]) -> bool:
    """Whether ``container``'s format writes a header for the stream that ``add`` puts into a container, tried on
    a throwaway one in memory (the stream's codec, its parameters, an encoder's settings)."""
    av = _av()
    try:
        probe = av.open(io.BytesIO(), "w", format=container.format.name)
    except (av.error.FFmpegError, ValueError):  # a format that cannot write to memory: adding the stream decides
        log.debug("%s cannot be tried in memory", container.format.name, exc_info=True)
        return True
    try:
        add(probe)
        probe.start_encoding()
    except (av.error.FFmpegError, ValueError):
        return False
    finally:
        try:
            probe.close()
        except (av.error.FFmpegError, ValueError):
            log.debug("closing a trial container failed", exc_info=True)
    return True


def _copy(container: Any, stream: Any) -> Any:
    out = container.add_stream_from_template(stream)
    copy_stream_tags(stream, out, container)
    if container.format.name == "avi" and stream.type == "audio" and codec_name(stream) in AVI_FRAMED_AUDIO:
        ctx = out.codec_context
        ctx.options = {"block_align": "0"}  # set when the (never used) context opens; the header is written from it
        try:
            ctx.open()
        except (_av().error.FFmpegError, ValueError):
            log.debug("block align of %s not cleared", codec_name(stream), exc_info=True)
    return out


def _encoder(container: Any, codec: str, stream: Any) -> Any:
    rate = 48000 if codec == "libopus" else stream.codec_context.sample_rate
    out = container.add_stream(codec, rate=rate)
    out.layout = stream.codec_context.layout
    return out
