"""Writing a swapped video: a video codec that fits the container at the source's exact size, every audio and
subtitle stream the container can hold (copied packet for packet, audio re-encoded only when the container
cannot hold its codec), and a warning for whatever is left out. Every codec and container problem is found
before the first frame is encoded; write errors name the user's output, not the temporary file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ghostlive import __version__
from ghostlive.errors import ConfigError, OutputError
from ghostlive.media.encoders import QSCALE_CODECS, encoder_name, open_failure, qscale, quiet_options
from ghostlive.media.leftovers import KeepFresh
from ghostlive.media.stream_copy import Transcode, add_passthrough, codec_name, copy_stream_tags
from ghostlive.media.video import SYNTHETIC_NOTE, VideoSource, _av, add_video_stream, video_frame
from ghostlive.ops.filters import resize
from ghostlive.types import Frame

log = logging.getLogger(__name__)

VIDEO_CODECS = ("libx264", "libvpx-vp9", "libsvtav1")
"""Tried in this order when no codec is asked for: the first one the container accepts (H.264; VP9 for WebM)."""
FRAME_NUMBERED = ("avi",)
"""Containers that store one entry per tick of their time base: frames are timed in 1/frame rate there."""
DEFAULT_CRF = {"libx264": 18, "libx265": 20, "libvpx-vp9": 31, "libsvtav1": 35}
EVEN_ONLY_420 = ("libx264", "libx265")
"""Encoders that need an even width and height in 4:2:0; odd sizes are encoded in 4:4:4 to keep them exact."""
PRESET_CODECS = ("libx264", "libx265")
"""Encoders that take ``--preset``; the others' speed is ghostlive's own (see :func:`codec_options`)."""
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
"""x264's speed presets, fastest first (x265 has the same names): the values ``--preset`` takes."""
MP4_FAMILY = ("mp4", "mov", "ipod", "3gp", "3g2")
"""Containers (FFmpeg's muxer names) where HEVC is tagged hvc1, not FFmpeg's default hev1."""
DEFAULT_PRESETS = ("medium", "veryfast")
"""``--preset``'s defaults (video files, live: :mod:`ghostlive.settings_swap`): not a choice the user made, so not
warned about where the encoder ignores it."""


@dataclass(frozen=True)
class EncodeOptions:
    codec: str = ""
    """Video encoder; empty: the first of VIDEO_CODECS that the output container accepts."""
    crf: int | None = None
    """Quality on the encoder's own scale, lower is better; None: DEFAULT_CRF for that encoder."""
    preset: str = "medium"
    pix_fmt: str = "yuv420p"


def codec_options(codec: str, size: tuple[int, int], rate: float, opts: EncodeOptions) -> dict[str, str]:
    """Encoder options: constant quality where the encoder has it, else a generous bit rate (~0.3 bit/pixel);
    ``--crf`` held as the quantiser of the MPEG-family encoders (:data:`QSCALE_CODECS`: qscale 1–31)."""
    crf = str(opts.crf if opts.crf is not None else DEFAULT_CRF.get(codec, 23))
    if codec in ("libx264", "libx265"):
        return {"crf": crf, "preset": opts.preset}
    if codec == "libvpx-vp9":
        return {"crf": crf, "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
    if codec == "libsvtav1":
        return {"crf": crf, "preset": "8"}
    bit_rate = {"b": str(int(size[0] * size[1] * max(rate, 1.0) * 0.3))}
    if codec in QSCALE_CODECS and opts.crf is not None:
        q = str(qscale(opts.crf))
        return {**bit_rate, "qmin": q, "qmax": q}
    return bit_rate


def fit_frame(frame: Frame, width: int, height: int) -> Frame:
    """``frame`` at an output's fixed ``width``×``height`` (a virtual camera, a recording) when its size has
    changed mid-stream (a camera that renegotiates its resolution): scaled, area-averaged when shrinking and
    bilinear when enlarging; the frame itself when it has that size."""
    if frame.shape[:2] == (height, width):
        return frame
    return resize(frame, (width, height), interpolation="area")


def warn_unused_preset(codec: str, opts: EncodeOptions, name: str | Path) -> None:
    """Say once per output that ``opts.preset``, asked for, does not apply to ``codec`` (VP9, AV1)."""
    if codec not in PRESET_CODECS and opts.preset not in DEFAULT_PRESETS:
        log.warning("%s: --preset applies to x264/x265 only; %s ignores '%s'", name, codec, opts.preset)


def warn_unused_crf(codec: str, opts: EncodeOptions, name: str | Path) -> None:
    """Say once per output that ``opts.crf``, asked for, is ignored by ``codec`` (no CRF, no quantiser scale), or
    is outside the quantiser scale it is taken as (:data:`QSCALE_CODECS`)."""
    if opts.crf is None or codec in DEFAULT_CRF:
        return
    if codec not in QSCALE_CODECS:
        log.warning("%s: --crf applies to x264/x265/VP9/SVT-AV1 (and qscale encoders); %s ignores it", name, codec)
    elif qscale(opts.crf) != opts.crf:
        log.warning("%s: %s's quality scale (qscale) is 1–31; --crf %d is taken as %d", name, codec, opts.crf,
                    qscale(opts.crf))  # fmt: skip


HDR_TRANSFERS = {16: "HDR10/PQ", 18: "HLG"}
"""Transfer characteristics (ITU-T H.273) of high-dynamic-range video, which ghostlive processes as 8-bit SDR."""


def warn_downgrades(name: str | Path, source: Any) -> None:
    """Say what of the source stream (its codec context) the 8-bit SDR output cannot keep: samples deeper than 8
    bits, a high-dynamic-range transfer (written without tone mapping: its colours look washed out)."""
    try:
        bits = max(c.bits for c in source.format.components)
    except (AttributeError, TypeError, ValueError):
        bits = 8
    if bits > 8:
        log.warning("%s: written with 8 bits per sample (the video has %d)", name, bits)
    hdr = HDR_TRANSFERS.get(int(getattr(source, "color_trc", 0) or 0))
    if hdr:
        log.warning("%s: the video is %s HDR; it is written as SDR without tone mapping (colours look washed out)",
                    name, hdr)  # fmt: skip


class VideoSink:
    """Writes frames at their source timestamps and hands on the source's audio and subtitle packets.

    ``path`` is the file written (a temporary file); ``name`` is what errors and warnings call it (the user's
    output). ``dropped`` lists the streams left out, each with the reason."""

    def __init__(
        self, path: str | Path, source: VideoSource, options: EncodeOptions | None = None, name: str | Path = ""
    ) -> None:
        av = _av()
        self._av = av
        self.path = Path(path)
        self.name = Path(name or path)
        self.suffix = self.name.suffix.lower()
        movflags = {"movflags": "+faststart+use_metadata_tags"} if self.suffix in (".mp4", ".mov", ".m4v") else {}
        try:
            self.container = av.open(str(self.path), "w", options=movflags)
        except av.error.FFmpegError as exc:
            raise OutputError(f"cannot create the video ({exc.strerror or exc})", self.name) from None
        self.container.metadata["comment"] = SYNTHETIC_NOTE
        self.container.metadata["ghostlive_synthetic"] = "1"
        self.container.metadata["encoder_app"] = f"ghostlive {__version__}"
        self.matrix = source.matrix
        self.source_time_base = source.video.time_base
        cfr = self.container.format.name in FRAME_NUMBERED
        rate = source.info.fps
        self.time_base = Fraction(rate.denominator, rate.numerator) if cfr else self.source_time_base
        """The frames' time base: the source's, or one tick per frame for containers that number frames (AVI)."""
        self.dropped: list[str] = []
        self.video = self._add_video(source, options or EncodeOptions())
        self._out: dict[int, Any] = {}
        for s in source.passthrough:
            self._out[s.index], reason = add_passthrough(self.container, s, self.name)
            if reason:
                self.dropped.append(reason)
        for s in source.ignored:
            self.dropped.append(f"{s.type} #{s.index} ({codec_name(s)}): ghostlive copies only audio and subtitles")
        try:
            self.container.start_encoding()
        except (av.error.FFmpegError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, av.error.FFmpegError) else str(exc)  # not the temporary file
            self.container.close()
            raise OutputError(f"cannot write these streams as {self.suffix} ({reason})", self.name) from None
        if self.dropped:
            log.warning("%s: left out: %s", self.name, "; ".join(self.dropped))
        warn_downgrades(self.name, source.video.codec_context)
        self._last_pts: int | None = None
        self._step = max(1, round(1 / (rate * self.time_base)))
        """One frame in the frames' time base (at least one tick)."""
        self._fresh = KeepFresh(self.path)  # never taken for a killed job's leftover while it is written

    def _add_video(self, source: VideoSource, opts: EncodeOptions) -> Any:
        av = self._av
        size = (source.info.width, source.info.height)
        odd = size[0] % 2 or size[1] % 2
        problems = []
        for codec in [encoder_name(opts.codec)] if opts.codec else VIDEO_CODECS:
            pix_fmt = "yuv444p" if odd and codec in EVEN_ONLY_420 and opts.pix_fmt == "yuv420p" else opts.pix_fmt
            options = {**codec_options(codec, size, float(source.info.fps), opts), **quiet_options(codec)}
            try:
                stream = add_video_stream(
                    self.container, codec, source.info.fps, size, self.time_base, self.matrix, pix_fmt=pix_fmt,
                    options=options, exact=True,
                )  # fmt: skip
            except ConfigError as exc:  # not a video encoder of this FFmpeg
                if opts.codec:
                    self.container.close()
                    raise ConfigError(exc.message, self.name) from None
                problems.append(exc.message)
                continue
            except (av.error.FFmpegError, ValueError) as exc:
                problems.append(f"{codec}: {exc}")
                continue
            if pix_fmt != opts.pix_fmt:
                log.warning(
                    "%s: %d×%d has an odd side, which %s cannot encode in 4:2:0; written in 4:4:4 to keep the exact "
                    "size (some players, web browsers among them, cannot play 4:4:4; --codec libvpx-vp9 keeps "
                    "odd sizes in 4:2:0)",
                    self.name,
                    *size,
                    codec,
                )
            if stream.pix_fmt != pix_fmt:
                log.info("%s: %s encodes %s here, not %s", self.name, codec, stream.pix_fmt, pix_fmt)
            warn_unused_preset(codec, opts, self.name)
            warn_unused_crf(codec, opts, self.name)
            _copy_colour_tags(source.video, stream)
            copy_stream_tags(source.video, stream, self.container)
            stream.metadata["comment"] = SYNTHETIC_NOTE
            if stream.codec_context.codec.canonical_name == "hevc" and self.container.format.name in MP4_FAMILY:
                stream.codec_context.codec_tag = "hvc1"  # parameter sets in the sample entry: what Apple plays
            try:  # now, not with the header: a failure is the encoder's, not the container's
                stream.codec_context.open()
            except (av.error.FFmpegError, ValueError) as exc:
                self.container.close()
                raise OutputError(open_failure(codec, exc), self.name) from None
            return stream
        self.container.close()
        raise OutputError(f"no usable video codec for {self.suffix} ({'; '.join(problems)})", self.name)

    def _mux(self, packets: Any) -> None:
        try:
            self.container.mux(packets)
        except (OSError, self._av.error.FFmpegError) as exc:
            raise self.write_error(exc) from None

    def write_error(self, exc: BaseException) -> OutputError:
        """``exc`` (raised while writing the temporary file) as an error that names the user's output."""
        reason = getattr(exc, "strerror", None) or str(exc)
        return OutputError(f"writing the video failed: {reason}; nothing was written", self.name)

    def write(self, image: Frame, pts: int | None, index: int) -> None:
        """``image`` at ``pts`` (in the source's time base; frames come in presentation order, see
        :meth:`VideoSource.items`). A frame without a timestamp, or one that does not come after the previous
        frame's, takes the time one frame after the previous one; the frames after it keep their own."""
        frame = video_frame(image, self.video.pix_fmt, self.matrix)
        if pts is not None and self.time_base != self.source_time_base:
            pts = round(pts * self.source_time_base / self.time_base)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = index * self._step if self._last_pts is None else self._last_pts + self._step
        frame.pts = pts
        frame.time_base = self.time_base
        self._last_pts = pts
        self._mux(self.video.encode(frame))

    def write_packet(self, packet: Any) -> None:
        """An audio or subtitle packet of the source: copied, re-encoded, or dropped (see ``dropped``)."""
        out = self._out.get(packet.stream.index)
        if isinstance(out, Transcode):
            self._mux(out.packets(packet))
        elif out is not None:
            packet.stream = out
            self._mux(packet)

    def close(self) -> None:
        """Flush the encoders and finish the file (raises an OutputError naming the output on failure)."""
        try:
            self._mux(self.video.encode(None))
            for index, out in self._out.items():
                if isinstance(out, Transcode):
                    self._mux(out.flush())
                    if out.skipped:
                        log.warning("%s: audio #%d: %d damaged packet(s) skipped", self.name, index, out.skipped)
            self.container.close()
        except (OSError, self._av.error.FFmpegError) as exc:
            raise self.write_error(exc) from None
        finally:
            self._fresh.close()

    def abort(self) -> None:
        """Close the file without caring whether it is complete (it is deleted next)."""
        self._fresh.close()
        try:
            self.container.close()
        except Exception:  # the file is being thrown away
            log.debug("closing an aborted video failed", exc_info=True)


def _copy_colour_tags(source: Any, stream: Any) -> None:
    try:
        for attr in ("color_primaries", "color_trc"):
            setattr(stream.codec_context, attr, getattr(source.codec_context, attr))
    except (AttributeError, ValueError, TypeError):
        log.debug("colour primaries/transfer not copied")
