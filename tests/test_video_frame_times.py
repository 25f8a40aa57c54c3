"""Frames keep their presentation times when a file labels them out of order (packed B-frames in AVI: a decoder hands
frames on in presentation order, labelled 1, 2, 3, 5, 4, 6, …), and a frame without a time, or with the previous
one's, takes the next frame's time without pushing the frames after it. All media made here with PyAV: real frames
of the bundled clip, intra-coded so the decoder keeps the stored order, with each third pair's labels swapped, and
a real AC-3 track."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from ghostlive.cli import main  # noqa: E402
from ghostlive.media.video import VideoItem, VideoSource  # noqa: E402
from ghostlive.media.video_out import VideoSink  # noqa: E402

from .conftest import sample  # noqa: E402
from .media_tools import CLIP, frames_of, write_video  # noqa: E402

FPS = 24
FRAMES = 24
LABELS = [k + 1 for k in range(FRAMES)]
for _k in range(3, FRAMES - 1, 3):
    LABELS[_k], LABELS[_k + 1] = LABELS[_k + 1], LABELS[_k]
"""Each frame's stored time in frames: 1, 2, 3, 5, 4, 6, 7, 9, 8, … (as Megamind.avi's packed B-frames decode)."""


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of the real clip in Matroska, every frame intra-coded (MPEG-4 part 2) and stored in presentation
    order with :data:`LABELS` as times, and a real AC-3 tone."""
    path = tmp_path_factory.mktemp("packed") / "packed.mkv"
    frames = frames_of(CLIP)[:FRAMES]
    h, w = frames[0].shape[:2]
    tb = Fraction(1, FPS)
    with av.open(str(path), "w") as out:
        s = out.add_stream("mpeg4", rate=FPS)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.gop_size = 1
        s.codec_context.time_base = tb
        audio = out.add_stream("ac3", rate=48000)
        audio.layout = "stereo"
        packets = []
        for k, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
            f.pts, f.time_base = k, tb
            packets += s.encode(f)
        packets += s.encode()
        assert len(packets) == FRAMES
        for k, p in enumerate(packets):
            p.pts, p.dts, p.time_base = LABELS[k], k, tb
            out.mux(p)
        tone = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(48000) / 48000)).astype(np.float32)
        for k in range(0, len(tone), 1536):
            chunk = tone[k : k + 1536]
            frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, k
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
    with av.open(str(path)) as c:  # the property of the AVI: decoded in this order, labelled out of order
        assert [round(float(f.time) * FPS) for f in c.decode(video=0)] == LABELS
    return path


def _times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


def _audio_packets(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for p in c.demux(audio=0) if p.size)


def test_frames_are_read_with_their_times_in_order(packed: Path) -> None:
    with VideoSource(packed) as src:
        times = [item.time for item in src.items() if isinstance(item, VideoItem)]
    assert [round(t * FPS) for t in times] == sorted(LABELS)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_a_swapped_video_keeps_every_frame_time_and_audio_packet(packed: Path, tmp_path: Path, suffix: str) -> None:
    """Into MP4 (the source's time base) the frame stored after its successor lost its place (1 ms after it in a
    1/1000 time base); into AVI (one tick per frame) every frame after it came one frame late."""
    out = tmp_path / f"out{suffix}"
    source = str(sample("grace_hopper.jpg"))
    assert main(["swap", "-q", "--tiles", "0", "--source", source, "--target", str(packed), "-o", str(out)]) == 0
    # an AVI of B-frames is itself read back labelled out of order: compare the set of times
    assert sorted(round(t * FPS, 1) for t in _times(out)) == [float(k) for k in sorted(LABELS)]
    assert _audio_packets(out) == _audio_packets(packed)


def test_a_missing_or_repeated_time_takes_the_next_frame_time(tmp_path: Path) -> None:
    """The writer gives a frame without a time, or with the previous frame's, the time one frame later (it was one
    tick later: 1 ms in Matroska) and leaves the frames after it where they are."""
    clip = write_video(tmp_path / "clip.mp4", frames_of(CLIP)[:6], fps=FPS)
    out = tmp_path / "out.mkv"
    with VideoSource(clip) as src:
        unit = round(1 / (FPS * src.video.time_base))  # one frame in the source's ticks
        sink = VideoSink(out, src)
        images = [item.image for item in src.items() if isinstance(item, VideoItem)]
        for index, (image, k) in enumerate(zip(images, [0, 1, 1, 3, None, 5], strict=True)):
            sink.write(image, None if k is None else k * unit, index)
        sink.close()
    assert [round(t * FPS, 1) for t in _times(out)] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
