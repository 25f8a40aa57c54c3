"""Making real test videos with PyAV: real frames (the bundled clip, the portraits) and a generated audio track."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, bgr_to_yuv420, matrix_for
from ghostlive.media.sources import FileCamera
from ghostlive.media.video import VideoItem, VideoSource

from .conftest import DATA

CLIP = DATA / "megamind_3s.mp4"
ASS_HEADER = b"[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nStyle: Default,Arial,16\n\n[Events]\n"
"""The minimal header FFmpeg's SubRip encoder asks for (cue packets are muxed directly, not encoded)."""


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int = 24,
    pts: list[int] | None = None,
    rotation: int = 0,
    crf: int = 18,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
) -> Path:
    """Encode BGR frames (libx264 by default); ``pts`` in units of 1/(fps·10) for variable frame rate. Frames of
    an odd size, and pixel formats other than yuv420p (``yuvj420p`` for MJPEG), are converted by FFmpeg (the
    exact converter makes limited-range 4:2:0 of even sizes); use a codec that takes them."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        s.options = {"crf": str(crf), "preset": "veryfast"} if codec == "libx264" else {}
        tb = Fraction(1, fps * 10)
        s.codec_context.time_base = tb
        s.time_base = tb
        if rotation:
            s.set_display_rotation(rotation)
        matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, h)
        for i, img in enumerate(frames):
            if w % 2 or h % 2 or pix_fmt != "yuv420p":
                f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24").reformat(format=pix_fmt)
            else:
                f = av.VideoFrame.from_ndarray(bgr_to_yuv420(np.ascontiguousarray(img), matrix), format="yuv420p")
            f.pts = pts[i] if pts is not None else i * 10
            f.time_base = tb
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def add_tone(src: Path, dst: Path, codec: str = "aac", rate: int = 48000) -> Path:
    """Copy ``src``'s video packets into ``dst`` and add a 440 Hz tone as a real encoded audio track."""
    return add_tracks(src, dst, (440.0,), codec, rate)


def add_tracks(
    src: Path,
    dst: Path,
    tones: tuple[float, ...] = (440.0,),
    codec: str = "aac",
    rate: int = 48000,
    subtitles: tuple[tuple[float, float, str], ...] = (),
) -> Path:
    """Copy ``src``'s video packets into ``dst``, add one real encoded stereo audio track per tone frequency (Hz)
    and, if given, a SubRip subtitle track of (start s, end s, text) cues."""
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        vs = i.streams.video[0]
        ov = o.add_stream_from_template(vs)
        tracks = []
        for _ in tones:
            oa = o.add_stream(codec, rate=rate)
            oa.layout = "stereo"
            tracks.append(oa)
        sub = o.add_stream("subrip") if subtitles else None
        if sub is not None:
            sub.time_base = sub.codec_context.time_base = Fraction(1, 1000)
            sub.codec_context.subtitle_header = ASS_HEADER
        seconds = float(vs.frames / vs.average_rate) if vs.frames else float(i.duration / 1e6)
        for p in i.demux(vs):
            if p.dts is None:
                continue
            p.stream = ov
            o.mux(p)
        for oa, freq in zip(tracks, tones, strict=True):
            _encode_tone(o, oa, freq, seconds, rate)
        for start, end, text in subtitles:
            p = av.Packet(text.encode())
            p.pts = p.dts = int(start * 1000)
            p.duration = int((end - start) * 1000)
            p.time_base, p.stream = Fraction(1, 1000), sub
            o.mux(p)
    return dst


def _encode_tone(o: Any, oa: Any, freq: float, seconds: float, rate: int) -> None:
    n = int(seconds * rate)
    tone = (0.3 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)
    size = oa.codec_context.frame_size or 1024
    for k in range(0, n, size):
        chunk = tone[k : k + size]
        frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, k
        for p in oa.encode(frame):
            o.mux(p)
    for p in oa.encode():
        o.mux(p)


def dominant_frequency(path: Path, index: int) -> float:
    """The strongest frequency (Hz) of audio stream ``index``, decoded."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[index]
        samples = np.concatenate([f.to_ndarray()[0] for f in c.decode(stream)])
        rate = stream.codec_context.sample_rate
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


def frames_of(path: Path) -> list[np.ndarray]:
    """Decoded frames, converted exactly as ghostlive converts them (with rounding, no swscale bias)."""
    with VideoSource(path) as src:
        return [item.image for item in src.items() if isinstance(item, VideoItem)]


def frame_times(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [f.pts for f in c.decode(video=0)]


def audio_packets(path: Path, index: int = 0) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(audio=index) if p.size]


class BrokenCamera:
    """The clip as a camera whose decoder fails after ``n`` frames (``read`` raises)."""

    def __init__(self, path: str, n: int) -> None:
        self.inner, self.n = FileCamera(path), n
        self.name, self.fps, self.ended = self.inner.name, self.inner.fps, False

    def read(self):
        self.n -= 1
        if self.n < 0:
            raise OSError("decoder error")
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()
