"""Live output recorded to a video file (written beside the destination, renamed into place when closed).

The encoder, quality and speed are the video files' settings (``--codec``, ``--crf``, ``--preset``:
:class:`~ghostlive.media.video_out.EncodeOptions`), chosen per container as the video jobs choose them (the first
of :data:`~ghostlive.media.video_out.VIDEO_CODECS` the container takes: H.264, VP9 for WebM) and checked on a
throwaway stream before anything is recorded: a container that cannot hold the codec, or an encoder that refuses
the options, is an :class:`~ghostlive.errors.OutputError` naming the file before the live loop starts. A recording
that fails while it runs (a full disk) deletes its unfinished file and says so, naming the file; closing it then
does nothing.
"""

from __future__ import annotations

import io
import logging
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError, GhostliveError, OutputError
from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, Matrix, matrix_for
from ghostlive.media.encoders import encoder_name, quiet_options
from ghostlive.media.leftovers import KeepFresh, recover_recordings
from ghostlive.media.paths import check_name_length, check_replaceable, mkstemp_beside, publish
from ghostlive.media.video import SYNTHETIC_NOTE, VIDEO_SUFFIXES, add_video_stream, video_frame
from ghostlive.media.video_out import (
    MP4_FAMILY,
    VIDEO_CODECS,
    EncodeOptions,
    codec_options,
    fit_frame,
    warn_unused_crf,
    warn_unused_preset,
)
from ghostlive.media.watched_file import WatchedFile
from ghostlive.types import Frame

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 1000)
"""Frames are timed in milliseconds at their own pace (variable frame rate)."""
NOMINAL_FPS = 30
"""The rate a recording is tagged with (and a fixed-rate one holds) when the camera's is not known."""
FIXED_RATE_FORMATS = ("avi", "asf", "mpegts", "mpeg")
"""Containers that cannot store variable timing (AVI numbers its frames; the others' players take the rate from
the stream): recorded at the camera's rate, frames placed by the clock (held over a gap by the muxer, dropped to
hold the rate)."""
LIVE_SPEED = {"libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"}}
"""Encoder options that keep a recording up with the camera where the video files' choice is slow (VP9's 'good'
deadline encodes ~40 frames of 720×528 a second on two cores, realtime ~190); quality stays the ``crf``."""
_PROBE_SIZE = (64, 64)
KEYFRAME_SECONDS = 2
"""At most this long between keyframes: a recording cut off by a crash or ``kill -9`` plays up to the last one."""
CRASH_SAFE = {".mp4", ".mov", ".m4v"}
"""Containers whose index is written only when the file is closed: recorded fragmented (an index per keyframe's
fragment), so that what was recorded before a crash still plays (see :func:`container_options`)."""


def check_record_path(path: str | Path) -> Path:
    """A recording's file name, checked before anything is opened: a video extension, an existing folder, not a
    folder itself, a name the file system takes, nothing there an output may not replace (a FIFO, a device, a
    write-protected file)."""
    p = Path(path)
    if p.is_dir():
        raise OutputError("is a folder; give a video file name in it (e.g. live.mp4)", p)
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(
            f"unsupported recording format {p.suffix or '(none)'}; use one of {', '.join(sorted(VIDEO_SUFFIXES))}", p
        )
    if not p.parent.is_dir():
        raise OutputError(f"the folder {p.parent} does not exist", p)
    check_name_length(p)
    check_replaceable(p)
    return p


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def live_encoder_options(codec: str, size: tuple[int, int], options: EncodeOptions) -> dict[str, str]:
    """``codec``'s options for a live recording: the video files' (:func:`codec_options`), at a live speed and
    without the encoder's own console output (:func:`~ghostlive.media.encoders.quiet_options`)."""
    return {
        **codec_options(codec, size, float(NOMINAL_FPS), options),
        **LIVE_SPEED.get(codec, {}),
        **quiet_options(codec),
    }


def container_options(suffix: str) -> dict[str, str]:
    """The muxer's options for a recording ending in ``suffix``: every packet goes to the file as it is muxed
    (nothing held in a buffer), and MP4/MOV are fragmented at keyframes, so a recording cut off by a crash, a
    power cut or ``kill -9`` leaves a file that plays up to its last keyframe (see :mod:`ghostlive.media.leftovers`
    for how it is found again). Fragmented MP4 plays and seeks in browsers, VLC, QuickTime and FFmpeg."""
    options = {"flush_packets": "1"}
    if suffix.lower() in CRASH_SAFE:
        options["movflags"] = "+frag_keyframe+empty_moov+delay_moov+default_base_moof+use_metadata_tags"
    return options


def choose_codec(path: Path, container_format: str, options: EncodeOptions) -> str:
    """The encoder of a recording ``path`` in ``container_format``: ``options.codec``, or the first of VIDEO_CODECS
    that the container takes. It is opened with its options on a throwaway stream in memory, so that whatever
    would fail on the first frame fails here: an OutputError naming ``path`` and the reason."""
    import av

    problems = []
    for codec in [encoder_name(options.codec)] if options.codec else VIDEO_CODECS:
        probe = av.open(io.BytesIO(), "w", format=container_format)
        try:
            try:
                opts = live_encoder_options(codec, _PROBE_SIZE, options)
                matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, _PROBE_SIZE[1])
                fmt = options.pix_fmt
                add_video_stream(probe, codec, NOMINAL_FPS, _PROBE_SIZE, TIME_BASE, matrix, pix_fmt=fmt, options=opts)
            except (av.codec.codec.UnknownCodecError, ConfigError) as exc:  # not in this FFmpeg, or not for video
                if options.codec:
                    raise OutputError(exc.message if isinstance(exc, ConfigError) else str(exc), path) from None
                problems.append(f"{codec}: no such encoder in this build of FFmpeg")
                continue
            except (av.error.FFmpegError, ValueError) as exc:  # the container cannot hold it: the next one
                problems.append(f"{codec}: {_one_line(exc)}")
                continue
            try:
                probe.start_encoding()
            except (av.error.FFmpegError, ValueError) as exc:  # the encoder refuses the settings (--preset, --crf)
                raise OutputError(f"cannot record with {codec} ({' '.join(str(exc).split())})", path) from None
            return codec
        finally:
            try:
                probe.close()
            except Exception:  # the probe is thrown away
                log.debug("closing the codec probe failed", exc_info=True)
    suffix = path.suffix.lower()
    if options.codec:
        raise OutputError(f"cannot record {suffix} with --codec {options.codec} ({problems[0]})", path)
    raise OutputError(f"no usable video codec for {suffix} ({'; '.join(problems)})", path)


def check_recording(path: str | Path, options: EncodeOptions | None = None) -> str:
    """Check a recording's name and encoder without creating any file (see :class:`Recorder`); the encoder."""
    import av

    p = check_record_path(path)
    try:  # the file itself is created only when encoding starts, which this container never does
        container = av.open(str(p), "w")
        container_format = container.format.name
        container.close()
    except (av.error.FFmpegError, ValueError) as exc:
        raise OutputError(f"cannot record to this file ({_one_line(exc)})", p) from None
    return choose_codec(p, container_format, options or EncodeOptions())


class Recorder:
    """Records the swapped output to a video file at the frames' own timing (variable frame rate), or, in a
    container that cannot store it (:data:`FIXED_RATE_FORMATS`: AVI, WMV, MPEG-TS/PS), at ``fps`` (the camera's
    rate; :data:`NOMINAL_FPS` when 0) with each frame placed by its time (held over a gap, dropped to hold the
    rate). Encoded with ``options`` (the video files' codec, crf and preset; see the module docstring); the file appears
    under its name only when the recording is closed complete."""

    repeats = False

    def __init__(self, path: str | Path, options: EncodeOptions | None = None, fps: float = 0.0) -> None:
        import av

        self.path = check_record_path(path)
        self.options = options or EncodeOptions()
        self.rate = Fraction(fps if fps > 0 else NOMINAL_FPS).limit_denominator(1001)
        """Frames per second: the stream's tag, and the fixed rate where the container needs one."""
        self.name = f"recording {self.path}"
        self.failed = ""
        """Why the recording failed (its unfinished file is deleted); empty while it has not."""
        self.saved = False
        """The recording was closed complete and is under its name."""
        self.stream: Any = None
        self.matrix: Matrix | None = None
        self.fixed_rate = False
        self._t0: float | None = None
        self._size: tuple[int, ...] = ()
        """(height, width) of the first frame: later frames of another size are scaled to it."""
        self._last = -1
        self._time_base = TIME_BASE
        recover_recordings(self.path)  # what a killed recording to this file left plays: kept under a visible name
        try:
            fd, tmp = mkstemp_beside(self.path, keep_suffix=True)
        except OutputError:
            raise
        except OSError as exc:  # a read-only or full folder
            raise OutputError(f"cannot record here ({_one_line(exc)})", self.path) from None
        self._tmp = Path(tmp)
        self._file = WatchedFile(fd)  # FFmpeg writes through it: no write error is lost (see its module)
        self._fresh = KeepFresh(self._tmp)  # never taken for a killed recording while it records
        try:
            fmt = av.open(tmp, "w").format.name  # from the name; the file is opened only when encoding starts
            opts = container_options(self.path.suffix)
            self.container: Any = av.open(self._file, "w", format=fmt, options=opts)
        except Exception as exc:  # noqa: BLE001 - PyAV raises per-format errors; nothing may stay behind
            self._fresh.close()
            self._file.close()
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot record to this file ({_one_line(exc)})", self.path) from None
        try:
            self.codec = choose_codec(self.path, self.container.format.name, self.options)
            self.fixed_rate = self.container.format.name in FIXED_RATE_FORMATS
        except BaseException:
            self._discard()
            raise
        warn_unused_preset(self.codec, self.options, self.path)
        warn_unused_crf(self.codec, self.options, self.path)
        self.container.metadata["comment"] = SYNTHETIC_NOTE

    def send(self, frame: Frame, t: float | None = None) -> None:
        """Encode ``frame`` (captured at monotonic time ``t``, now when None); an OutputError naming the file when
        writing fails, and the recording is then given up (its unfinished file deleted)."""
        if self.container is None:
            raise OutputError(self.failed or "the recording is closed", self.path)
        now = time.monotonic() if t is None else t
        try:
            if self.stream is None:
                self._start(frame, now)
            elapsed = now - (self._t0 or now)
            if not self.fixed_rate:
                self._encode(frame, max(int(elapsed * 1000), self._last + 1))
                return
            slot = round(elapsed * self.rate)
            if slot <= self._last:  # a second frame within one frame period: dropped to hold the rate
                return
            # after a gap (a slow frame, a camera outage) the frame's own slot: the muxer holds the last frame over
            # it (AVI with empty index entries), nothing is encoded again, so no backlog holds the outputs up
            self._encode(frame, slot)
        except Exception as exc:  # noqa: BLE001 - PyAV and the OS raise many kinds; all end the recording
            raise self._fail(exc) from None

    def _encode(self, frame: Frame, pts: int) -> None:
        self._last = pts
        if frame.shape[:2] != self._size:  # the camera changed resolution: scaled to the first frames' size
            frame = fit_frame(frame, self._size[1], self._size[0])
        # an odd side was trimmed to even by the encoder's stream: cropped by that pixel, not rescaled
        vf = video_frame(frame[: self.stream.height, : self.stream.width], self.stream.pix_fmt, self.matrix)
        vf.pts, vf.time_base = pts, self._time_base
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def _start(self, frame: Frame, now: float) -> None:
        self._size = frame.shape[:2]
        size = (frame.shape[1], frame.shape[0])
        self.matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, frame.shape[0])
        opts = live_encoder_options(self.codec, size, self.options)
        fmt = self.options.pix_fmt
        self._time_base = 1 / self.rate if self.fixed_rate else TIME_BASE
        """The frames' (the encoder's): the muxer may give the stream another once it starts."""
        self.stream = add_video_stream(
            self.container, self.codec, self.rate, size, self._time_base, self.matrix, pix_fmt=fmt, options=opts
        )
        self.stream.codec_context.gop_size = max(1, round(KEYFRAME_SECONDS * self.rate))
        if self.stream.codec_context.codec.canonical_name == "hevc" and self.container.format.name in MP4_FAMILY:
            self.stream.codec_context.codec_tag = "hvc1"  # what Apple players take
        self._t0 = now

    def close(self) -> None:
        """Finish the file and move it into place (no file when no frame came). When that fails the unfinished
        file is deleted and an OutputError names the file and the reason. Closing a recording that failed or is
        closed already does nothing."""
        if self.container is None:
            return
        try:
            if self.stream is not None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
            self.container.close()
            self._file.finish()  # a write FFmpeg's close did not report (a fragmented MP4's last fragment)
            if self.stream is not None:
                publish(self._tmp, self.path)
                self.saved = True
        except Exception as exc:  # noqa: BLE001 - PyAV and the OS raise many kinds; nothing half-written stays
            raise self._fail(exc) from None
        finally:
            self._fresh.close()
            self._tmp.unlink(missing_ok=True)
            self.container = None

    @property
    def seconds(self) -> float:
        """The length of what was recorded so far (its last frame lasting one frame period)."""
        if self._last < 0:
            return 0.0
        start = self._last if self.fixed_rate else self._last * TIME_BASE * self.rate
        return float((start + 1) / self.rate)

    def _fail(self, exc: BaseException) -> OutputError:
        """Give the recording up after ``exc``: its unfinished file is deleted; the error to raise."""
        why = exc.message if isinstance(exc, GhostliveError) else _one_line(exc)  # its file is this one
        self.failed = f"recording failed: {why}; the unfinished file was deleted"
        log.debug("recording %s failed", self.path, exc_info=exc)
        self._discard()
        return OutputError(self.failed, self.path)

    def _discard(self) -> None:
        container, self.container = self.container, None
        try:
            if container is not None:
                container.close()
        except Exception:  # the file is being thrown away
            log.debug("closing a discarded recording failed", exc_info=True)
        finally:
            self._fresh.close()
            self._file.close()
            self._tmp.unlink(missing_ok=True)
