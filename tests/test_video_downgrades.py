"""What an 8-bit SDR video output cannot keep of its source is said in a warning naming the output: 10-bit
samples, and an HDR (PQ or HLG) transfer written without tone mapping. Real FFV1 10-bit clips made from the
bundled clip; an 8-bit SDR clip gets no such warning."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import pytest

from ghostlive.cli import main

from .conftest import sample
from .media_tools import CLIP, frames_of

GRACE = str(sample("grace_hopper.jpg"))


def ffv1_clip(path: Path, pix_fmt: str, trc: int = 0) -> Path:
    frames = frames_of(CLIP)[:6]
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=24)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if trc:
            s.codec_context.color_trc = trc
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format=pix_fmt)):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


@pytest.mark.parametrize(
    ("pix_fmt", "trc", "expected"),
    [
        ("yuv420p10le", 0, ["written with 8 bits per sample (the video has 10)"]),
        ("yuv420p10le", 16, ["written with 8 bits per sample (the video has 10)", "HDR10/PQ HDR"]),
        ("yuv420p", 18, ["HLG HDR"]),
        ("yuv420p", 0, []),
    ],
)
def test_what_the_output_cannot_keep_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, pix_fmt: str, trc: int, expected: list[str]
) -> None:
    target = ffv1_clip(tmp_path / "in.mkv", pix_fmt, trc)
    out = tmp_path / "out.mp4"
    with caplog.at_level(logging.WARNING):
        assert main(["swap", "-q", "--tiles", "0", "--source", GRACE, "--target", str(target), "-o", str(out)]) == 0
    lines = [r.getMessage() for r in caplog.records if "bits per sample" in r.getMessage() or "HDR" in r.getMessage()]
    assert len(lines) == len(expected)
    for line, part in zip(lines, expected, strict=True):
        assert line.startswith(f"{out}: ") and part in line
