"""--preset is a checked setting: a name x264/x265 does not know is a usage error (exit 2) naming the presets
before anything is opened; each preset offered is one the real encoders take; and an encoder without presets
(VP9 for .webm) says once that it ignores one that was asked for. Real encoders (PyAV), real clip frames."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import av
import cv2
import pytest

from ghostlive.cli import main
from ghostlive.media import video_out
from ghostlive.media.recorder import Recorder
from ghostlive.media.video import VideoSource
from ghostlive.media.video_out import EncodeOptions, VideoSink
from ghostlive.settings import SCHEMA, settings_for
from ghostlive.types import Frame

from .conftest import sample
from .media_tools import CLIP, frames_of

ALL_PRESETS = "ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo"
IGNORED = "--preset applies to x264/x265 only; libvpx-vp9 ignores 'ultrafast'"


@pytest.fixture(scope="module")
def small_frames() -> list[Frame]:
    return [cv2.resize(f, (176, 128), interpolation=cv2.INTER_AREA) for f in frames_of(CLIP)[30:34]]


def live(*extra: str) -> list[str]:
    grace = str(sample("grace_hopper.jpg"))
    return ["live", "-q", "--source", grace, "--camera", str(CLIP), "--duration", "1", *extra]


@pytest.mark.parametrize("preset", ["bogus", "fastest"])
@pytest.mark.parametrize("command", ["swap", "live"])
def test_an_unknown_preset_is_a_usage_error(command: str, preset: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.mp4"
    if command == "swap":
        argv = ["swap", "--source", str(sample("grace_hopper.jpg")), "--target", str(CLIP), "-o", str(out)]
    else:
        argv = live("--record", str(out))
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--preset", preset])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2
    assert err[-1].endswith(f"error: argument --preset: unknown x264 preset '{preset}'; choose from {ALL_PRESETS}")
    assert not any("x264 [error]" in line or "avcodec_open2" in line for line in err)
    assert list(tmp_path.iterdir()) == []


def test_a_settings_value_is_checked_as_the_flag_is() -> None:
    spec = SCHEMA["preset"]
    assert spec.check("slow") == "slow"
    with pytest.raises(ValueError, match=f"unknown x264 preset 'fastest'; choose from {ALL_PRESETS}"):
        spec.check("fastest")


def test_the_defaults_are_presets_and_not_warned_about() -> None:
    defaults = {s.default for c in ("swap", "live") for s in settings_for(c) if s.key == "preset"}
    assert defaults == set(video_out.DEFAULT_PRESETS) and defaults <= set(video_out.PRESETS)


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_every_preset_offered_is_one_the_encoder_takes(codec: str, small_frames: list[Frame]) -> None:
    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        pytest.skip(f"{codec} is not in this build of FFmpeg")
    assert ", ".join(video_out.PRESETS) == ALL_PRESETS
    for preset in video_out.PRESETS:
        opts = video_out.codec_options(codec, (176, 128), 30.0, EncodeOptions(codec=codec, preset=preset))
        assert opts["preset"] == preset
        quiet = {"x265-params": "log-level=error"} if codec == "libx265" else {}
        with av.open(io.BytesIO(), "w", format="matroska") as out:
            stream = out.add_stream(codec, rate=30, options={**opts, **quiet})
            stream.width, stream.height, stream.pix_fmt = 176, 128, "yuv420p"
            packets = 0
            for i, image in enumerate(small_frames):
                frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
                frame.pts = i
                packets += len(stream.encode(frame))
            packets += len(stream.encode(None))
        assert packets == len(small_frames), preset


def preset_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "--preset" in r.getMessage()]


@pytest.mark.parametrize(
    ("name", "preset", "warned"),
    [
        ("r.webm", "ultrafast", True),
        ("r.webm", "medium", False),
        ("r.webm", "veryfast", False),
        ("r.mp4", "ultrafast", False),
    ],
)
def test_a_recording_says_once_that_vp9_ignores_the_preset(
    tmp_path: Path, small_frames: list[Frame], caplog, name: str, preset: str, warned: bool
) -> None:
    caplog.set_level(logging.WARNING)
    out = tmp_path / name
    rec = Recorder(out, EncodeOptions(preset=preset))
    for i, frame in enumerate(small_frames):
        rec.send(frame, t=i / 30)
    rec.close()
    assert len(frames_of(out)) == len(small_frames)
    assert preset_warnings(caplog) == ([f"{out}: {IGNORED}"] if warned else [])


def test_a_webm_video_file_says_once_that_vp9_ignores_the_preset(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    with VideoSource(CLIP) as source:
        sink = VideoSink(tmp_path / "tmp.webm", source, EncodeOptions(preset="ultrafast"), name="out.webm")
        sink.abort()
    assert preset_warnings(caplog) == [f"out.webm: {IGNORED}"]


def test_live_says_once_that_vp9_ignores_the_preset(tmp_path: Path, caplog, capsys) -> None:
    caplog.set_level(logging.WARNING)
    out = tmp_path / "r.webm"
    code = main(live("--record", str(out), "--preset", "ultrafast"))
    assert code == 0, capsys.readouterr().err
    assert preset_warnings(caplog) == [f"{out}: {IGNORED}"]  # checked before the loop starts, then opened
    assert len(frames_of(out)) >= 5
