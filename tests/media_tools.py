"""Making real test videos with PyAV: real frames (the bundled clip, the portraits) and a generated audio track."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, bgr_to_yuv420, matrix_for
from ghostlive.media.video import VideoItem, VideoSource

from .conftest import DATA

CLIP = DATA / "megamind_3s.mp4"


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int = 24,
    pts: list[int] | None = None,
    rotation: int = 0,
    crf: int = 18,
) -> Path:
    """Encode BGR frames with libx264; ``pts`` in units of 1/(fps·10) for variable frame rate."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": str(crf), "preset": "veryfast"}
        tb = Fraction(1, fps * 10)
        s.codec_context.time_base = tb
        s.time_base = tb
        if rotation:
            s.set_display_rotation(rotation)
        matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, h)
        for i, img in enumerate(frames):
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
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        vs = i.streams.video[0]
        ov = o.add_stream_from_template(vs)
        oa = o.add_stream(codec, rate=rate)
        oa.layout = "stereo"
        seconds = float(vs.frames / vs.average_rate) if vs.frames else float(i.duration / 1e6)
        for p in i.demux(vs):
            if p.dts is None:
                continue
            p.stream = ov
            o.mux(p)
        n = int(seconds * rate)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
        size = oa.codec_context.frame_size or 1024
        for k in range(0, n, size):
            chunk = tone[k : k + size]
            frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = rate, k
            for p in oa.encode(frame):
                o.mux(p)
        for p in oa.encode():
            o.mux(p)
    return dst


def frames_of(path: Path) -> list[np.ndarray]:
    """Decoded frames, converted exactly as ghostlive converts them (with rounding, no swscale bias)."""
    with VideoSource(path) as src:
        return [item.image for item in src.items() if isinstance(item, VideoItem)]


def frame_times(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [f.pts for f in c.decode(video=0)]


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(audio=0) if p.size]
