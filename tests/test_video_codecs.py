"""Video files written with the encoder asked for (--codec, --crf) and the source's track tags: audio and subtitle
tracks keep their language, title and disposition; an audio encoder, an unknown one or a hardware one without its
hardware is refused in one line naming the output; MJPEG and ProRes get a pixel format they take, with the right
colours; --crf is the quantiser of MPEG-4/MJPEG and is said to be ignored elsewhere; x265 and SVT-AV1 print
nothing; HEVC in MP4/MOV is tagged hvc1. Real encoders (PyAV), real clip frames, the real command line."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.stream import Disposition

from ghostlive.cli import main
from ghostlive.errors import OutputError
from ghostlive.media.recorder import Recorder
from ghostlive.media.video import VideoItem, VideoSource
from ghostlive.media.video_out import EncodeOptions, VideoSink

from .conftest import sample
from .media_tools import CLIP, add_tracks, frames_of, write_video

GRACE = str(sample("grace_hopper.jpg"))
TRACKS = [  # (language, title, disposition) of audio #1, audio #2 and the subtitles (MKV only)
    ("eng", "English", Disposition.default),
    ("fra", "Francais", Disposition(0)),
    ("deu", "Deutsch forced", Disposition.forced),
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four frames of the bundled clip (a face in each), 24 fps."""
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", frames_of(CLIP)[30:34])


@pytest.fixture(scope="module")
def hd_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three frames at 1280×720 (BT.709, where a BT.601 conversion would shift the colours)."""
    frames = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_CUBIC) for f in frames_of(CLIP)[30:33]]
    return write_video(tmp_path_factory.mktemp("hd") / "hd.mp4", frames)


def tagged(clip: Path, folder: Path, suffix: str) -> Path:
    """``clip`` with two real AAC tracks (and in MKV a SubRip track) tagged with :data:`TRACKS`, as a muxer writes
    them (MP4 keeps a track's name as its handler)."""
    cues = ((0.0, 0.1, "Hallo"),) if suffix == ".mkv" else ()
    plain = add_tracks(clip, folder / f"plain{suffix}", (440.0, 660.0), subtitles=cues)
    out_path = folder / f"tagged{suffix}"
    with av.open(str(plain)) as src, av.open(str(out_path), "w") as out:
        streams = {}
        for s in src.streams:
            o = out.add_stream_from_template(s)
            if s.type != "video":
                language, title, disposition = TRACKS[s.index - 1]
                o.metadata["language"], o.metadata["title"] = language, title
                if suffix == ".mp4":
                    o.metadata["handler_name"] = title
                o.disposition = disposition
            streams[s.index] = o
        for p in src.demux():
            if p.size:  # Matroska stores no decoding time for some frames
                p.stream = streams[p.stream.index]
                out.mux(p)
    return out_path


def tags(path: Path) -> list[tuple[str, str, str, bool, bool]]:
    """(type, language, title, default, forced) of each audio and subtitle track of ``path``."""
    with av.open(str(path)) as c:
        return [
            (
                s.type,
                s.metadata.get("language", ""),
                s.metadata.get("title") or s.metadata.get("handler_name", ""),
                bool(s.disposition & Disposition.default),
                bool(s.disposition & Disposition.forced),
            )
            for s in c.streams
            if s.type in ("audio", "subtitle")
        ]


def swap(target: Path, out: Path, *extra: str) -> int:
    return main(["swap", "-q", "--source", GRACE, "--target", str(target), "-o", str(out), *extra])


@pytest.mark.parametrize(
    ("source", "output"),
    [(".mp4", ".mp4"), (".mkv", ".mkv"), (".mp4", ".mkv"), (".mkv", ".mov"), (".mkv", ".webm")],
)
def test_tracks_keep_their_language_title_and_disposition(
    clip: Path, tmp_path: Path, capsys, source: str, output: str
) -> None:
    target = tagged(clip, tmp_path, source)
    before = tags(target)
    assert [t[1:3] for t in before] == [t[:2] for t in TRACKS][: len(before)]  # the source is tagged as meant
    out = tmp_path / f"out{output}"
    assert swap(target, out) == 0, capsys.readouterr().err
    after = tags(out)
    audio = [(t[1], t[2], t[3]) for t in after if t[0] == "audio"]  # copied (re-encoded as Opus in WebM)
    assert audio == [("eng", "English", True), ("fra", "Francais", False)]
    if source == output == ".mkv":  # SubRip copied: Matroska keeps the forced flag too
        assert after[2] == ("subtitle", "deu", "Deutsch forced", False, True)


def test_an_audio_encoder_as_codec_is_refused_in_one_line(clip: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c12.mp4"
    assert swap(clip, out, "--codec", "aac") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ghostlive: error: {out}: aac is an audio encoder; --codec takes a video encoder, e.g. libx264"]
    assert not out.exists()
    with pytest.raises(OutputError, match="aac is an audio encoder; --codec takes a video encoder"):
        Recorder(tmp_path / "r.mp4", EncodeOptions(codec="aac"))
    assert not (tmp_path / "r.mp4").exists()


def test_an_unknown_encoder_is_named_once_with_those_there_are(clip: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c6.mp4"
    assert swap(clip, out, "--codec", "nonsense") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ghostlive: error: {out}: no video encoder 'nonsense' in this FFmpeg")
    assert err[0].count("nonsense") == 1 and "libx264" in err[0] and not out.exists()


def _opens(codec: str) -> bool | None:
    """Whether ``codec`` opens here (None: not in this FFmpeg build)."""
    try:
        av.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        return None
    with av.open(io.BytesIO(), "w", format="mp4") as c:
        s = c.add_stream(codec, rate=24)
        s.width, s.height, s.pix_fmt = 256, 256, "yuv420p"
        try:
            s.codec_context.open()
        except av.error.FFmpegError:
            return False
    return True


def test_a_hardware_encoder_without_its_hardware_says_what_it_needs(clip: Path, tmp_path: Path, capsys) -> None:
    opens = _opens("h264_nvenc")
    if opens is not False:
        pytest.skip("h264_nvenc is not in this FFmpeg build" if opens is None else "an NVIDIA GPU is here")
    out = tmp_path / "n.mp4"
    assert swap(clip, out, "--codec", "h264_nvenc") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ghostlive: error: {out}: the encoder h264_nvenc could not be opened")
    assert err[0].endswith("it needs an NVIDIA GPU and driver") and not out.exists()


def write(source_path: Path, out: Path, options: EncodeOptions) -> None:
    with VideoSource(source_path) as source:
        sink = VideoSink(out, source, options)
        for item in source.items():
            if isinstance(item, VideoItem):
                sink.write(item.image, item.pts, item.index)
        sink.close()


@pytest.mark.parametrize(
    ("codec", "suffix", "pix_fmt", "error"),
    [
        ("mjpeg", ".avi", "yuvj420p", 2.0),
        ("prores_ks", ".mov", "yuv422p10le", 1.0),
        ("huffyuv", ".avi", "yuv422p", 1.0),
    ],
)
def test_encoders_without_yuv420p_write_the_right_colours(
    hd_clip: Path, tmp_path: Path, codec: str, suffix: str, pix_fmt: str, error: float
) -> None:
    out = tmp_path / f"x{suffix}"
    write(hd_clip, out, EncodeOptions(codec=codec))
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == pix_fmt
    ins, outs = frames_of(hd_clip), frames_of(out)
    assert len(outs) == len(ins) == 3
    for a, b in zip(ins, outs, strict=True):
        diff = b.astype(float) - a.astype(float)
        assert np.abs(diff).mean() < error  # lossless or nearly: no colour shift, no range error
        assert np.abs(diff.reshape(-1, 3).mean(0)).max() < 0.5, diff.reshape(-1, 3).mean(0)


def crf_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "--crf" in r.getMessage()]


def test_crf_is_the_quantiser_of_mpeg4_and_mjpeg(clip: Path, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    for codec, suffix in (("mpeg4", ".mp4"), ("mjpeg", ".avi")):
        sizes = {}
        for crf in (2, 31):
            out = tmp_path / f"{codec}{crf}{suffix}"
            write(clip, out, EncodeOptions(codec=codec, crf=crf))
            sizes[crf] = out.stat().st_size
            assert len(frames_of(out)) == 4
        assert sizes[31] * 2 < sizes[2], (codec, sizes)  # a coarser quantiser: a much smaller file
    assert crf_warnings(caplog) == []
    write(clip, tmp_path / "q40.mp4", EncodeOptions(codec="mpeg4", crf=40))
    assert crf_warnings(caplog) == [
        f"{tmp_path / 'q40.mp4'}: mpeg4's quality scale (qscale) is 1–31; --crf 40 is taken as 31"
    ]
    assert (tmp_path / "q40.mp4").stat().st_size == (tmp_path / "mpeg431.mp4").stat().st_size


def test_crf_says_once_where_the_encoder_ignores_it(clip: Path, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    write(clip, tmp_path / "l.mkv", EncodeOptions(codec="ffv1", crf=10))
    write(clip, tmp_path / "d.mkv", EncodeOptions(codec="ffv1"))  # not asked for: nothing to say
    assert crf_warnings(caplog) == [
        f"{tmp_path / 'l.mkv'}: --crf applies to x264/x265/VP9/SVT-AV1 (and qscale encoders); ffv1 ignores it"
    ]


@pytest.mark.parametrize(
    ("codec", "suffix"), [("libx265", ".mp4"), ("libx265", ".mov"), ("hevc", ".mp4"), ("libsvtav1", ".mkv")]
)
def test_x265_and_svt_av1_print_nothing_and_hevc_is_hvc1(clip: Path, tmp_path: Path, codec: str, suffix: str) -> None:
    if _opens(codec) is None:
        pytest.skip(f"{codec} is not in this FFmpeg build")
    out = tmp_path / f"o{suffix}"
    env = {k: v for k, v in os.environ.items() if k != "SVT_LOG"}
    argv = ["swap", "-q", "--source", GRACE, "--target", str(clip), "-o", str(out), "--codec", codec]
    run = subprocess.run([sys.executable, "-m", "ghostlive.cli", *argv], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert len(frames_of(out)) == 4
    with av.open(str(out)) as c:  # "hevc" is FFmpeg's alias of libx265: the same options, quiet included
        if codec in ("libx265", "hevc"):
            assert c.streams.video[0].codec_tag == "hvc1"


def test_an_encoder_alias_gets_its_encoders_quality_and_recordings_their_tag(
    clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``--codec h264`` is libx264 by another name: its --crf is x264's (it was warned as ignored and encoded at a
    bit rate), and a live recording with ``--codec hevc`` into MP4 is tagged hvc1 (Apple players refuse hev1)."""
    from ghostlive.media.recorder import Recorder

    write(clip, tmp_path / "a.mp4", EncodeOptions(codec="h264", crf=20))
    assert crf_warnings(caplog) == []
    rec = Recorder(tmp_path / "rec.mp4", EncodeOptions(codec="hevc", preset="ultrafast"))
    for i, frame in enumerate(frames_of(clip)):
        rec.send(frame, 1 + i / 30)
    rec.close()
    with av.open(str(tmp_path / "rec.mp4")) as c:
        assert c.streams.video[0].codec_tag == "hvc1"


@pytest.mark.parametrize(
    "handler",
    ["VideoHandle", "SoundHandle", "Apple Video Media Handler", "L-SMASH Video Handler", "GPAC ISO Video Handler",
     "ISO Media file produced by Google Inc. Created on: 01/02/2026."],
)  # fmt: skip
def test_a_muxers_handler_name_is_not_taken_for_a_track_title(clip: Path, tmp_path: Path, handler: str) -> None:
    """Phones and muxers write a handler name on every track of a kind (Android's VideoHandle): it became the
    swapped video's track title, which players show as the track's name."""
    src = tmp_path / "phone.mp4"
    with av.open(str(clip)) as i, av.open(str(src), "w") as o:
        s = o.add_stream_from_template(i.streams.video[0])
        s.metadata["handler_name"] = handler
        for p in i.demux(i.streams.video[0]):
            if p.size:
                p.stream = s
                o.mux(p)
    with av.open(str(src)) as c:
        assert c.streams.video[0].metadata.get("handler_name") == handler  # as a phone writes it
    out = tmp_path / "out.mkv"
    assert swap(src, out) == 0
    with av.open(str(out)) as c:
        assert "title" not in c.streams.video[0].metadata
