"""Nothing lost, nothing surprising with video: every container keeps duration, frames and all audio tracks;
signals, crashes, unwritable folders and full disks leave nothing behind and name the user's output; damaged
and truncated inputs are swapped as far as they decode, with the count in a warning. All media made here."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

av = pytest.importorskip("av")

from ghostlive.cli import main  # noqa: E402
from ghostlive.errors import OutputError  # noqa: E402
from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video  # noqa: E402
from ghostlive.media import video as video_module  # noqa: E402
from ghostlive.media.video_out import VideoSink  # noqa: E402
from ghostlive.pipeline import offline  # noqa: E402
from ghostlive.pipeline.chain import FrameProcessor  # noqa: E402

from .conftest import sample, signal_mid_job  # noqa: E402
from .media_tools import CLIP, add_tracks, audio_packets, dominant_frequency, frames_of, write_video  # noqa: E402

GRACE = str(sample("grace_hopper.jpg"))
TONES = (440.0, 880.0)


def swap(*argv: str) -> list[str]:
    return ["swap", "-q", "--tiles", "0", "--source", GRACE, *argv]


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of the real clip with two real audio tracks (440 Hz and 880 Hz AAC) and SubRip subtitles."""
    folder = tmp_path_factory.mktemp("second")
    short = write_video(folder / "short.mp4", frames_of(CLIP)[:24], fps=24)
    return add_tracks(short, folder / "second.mkv", TONES, subtitles=((0.1, 0.6, "one"), (0.6, 0.9, "two")))


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole 3 s clip (72 frames) with a real 440 Hz AAC track."""
    return add_tracks(CLIP, tmp_path_factory.mktemp("clip") / "megamind_tone.mp4")


@pytest.mark.parametrize(
    ("suffix", "video", "audio"),
    [(".mp4", "h264", "aac"), (".mkv", "h264", "aac"), (".mov", "h264", "aac"), (".avi", "h264", "aac"),
     (".webm", "vp9", "opus")],
)  # fmt: skip
def test_every_container_keeps_duration_frames_and_all_audio(
    second: Path, tmp_path: Path, caplog, suffix: str, video: str, audio: str
) -> None:
    out = tmp_path / f"out{suffix}"
    assert main(swap("--target", str(second), "-o", str(out))) == 0
    err = caplog.text
    with av.open(str(second)) as a, av.open(str(out)) as b:
        assert abs(b.duration - a.duration) < 100_000  # µs; AVI made a 3 s clip 59 s long
        assert b.streams.video[0].codec_context.name == video
        assert [s.codec_context.name for s in b.streams.audio] == [audio, audio]  # the second track was dropped
    assert len(frames_of(out)) == 24
    assert [round(dominant_frequency(out, k)) for k in (0, 1)] == [440, 880]  # real sound, the right track
    if audio == "aac":
        assert all(audio_packets(out, k) == audio_packets(second, k) for k in (0, 1))  # copied untouched
    else:
        assert "re-encoded as libopus" in err
    with av.open(str(out)) as b:
        if suffix == ".mkv":
            assert [bytes(p) for p in b.demux(subtitles=0) if p.size] == [b"one", b"two"]
        else:
            assert not b.streams.subtitles and "subtitle #3 (srt)" in err and "left out" in err


def test_odd_frame_size_is_kept(tmp_path: Path, astronaut: np.ndarray, caplog) -> None:
    frames = [cv2.resize(np.roll(astronaut, 3 * i, axis=1), (641, 479)) for i in range(6)]
    clip = write_video(tmp_path / "odd.mp4", frames, codec="mpeg4")
    for suffix, pix_fmt in ((".mp4", "yuv444p"), (".webm", "yuv420p")):
        out = tmp_path / f"out{suffix}"
        assert main(swap("--target", str(clip), "-o", str(out))) == 0
        with av.open(str(out)) as c:
            first = next(c.decode(video=0))
            assert (first.width, first.height, first.format.name) == (641, 479, pix_fmt)
        result, source = frames_of(out), frames_of(clip)
        assert result[0].shape == (479, 641, 3)
        assert np.abs(result[0][-40:].astype(int) - source[0][-40:].astype(int)).mean() < 3  # the edge rows too
    assert caplog.text.count("odd side") == 1  # H.264: 4:4:4, said; VP9 keeps 4:2:0


def test_truncated_video_is_swapped_as_far_as_it_goes_with_a_warning(tmp_path: Path, caplog) -> None:
    whole = tmp_path / "whole.mp4"
    with av.open(str(CLIP)) as i, av.open(str(whole), "w", options={"movflags": "+faststart"}) as o:
        stream = o.add_stream_from_template(i.streams.video[0])
        for packet in i.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                o.mux(packet)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the index is at the front: it still opens
    out = tmp_path / "out.mp4"
    assert main(swap("--target", str(cut), "-o", str(out))) == 0
    written = len(frames_of(out))
    assert 0 < written < 72
    assert f"cut.mp4: decoded {written} of the 72 frames" in caplog.text


def test_damage_in_the_middle_is_skipped_and_counted(tmp_path: Path, caplog) -> None:
    data = bytearray(CLIP.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    assert main(swap("--target", str(bad), "-o", str(out))) == 0
    written = len(frames_of(out))
    match = re.search(r"bad\.mp4: (\d+) damaged video packet\(s\) .* skipped \((\d+) of 72 frames", caplog.text)
    assert match and int(match[1]) > 0 and int(match[2]) == written
    assert written >= 72 - 2 * int(match[1])  # frames after the damage are there


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_termination_signal_leaves_nothing(clip_with_audio: Path, tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "ghostlive.cli", *swap("--target", str(clip_with_audio), "-o", str(out))]
    cmd.remove("-q")  # the progress line tells when frames are being encoded

    def has_temporary() -> None:
        assert list(tmp_path.glob(".out.*.mp4")), "the job had no temporary file yet"

    code, text = signal_mid_job(cmd, signum, has_temporary)
    assert code == 128 + signum
    assert list(tmp_path.iterdir()) == []
    assert f"stopped by {signal.Signals(signum).name}" in text and "Traceback" not in text


@pytest.mark.parametrize("stage", ["decode", "swap", "encode"])
def test_a_crash_in_any_stage_leaves_nothing(second: Path, tmp_path: Path, monkeypatch, stage: str) -> None:
    """Fault injection (stand-in for a bug or a library failure): the 5th call of a stage raises."""
    calls = []

    def failing(original):
        def wrapper(*args, **kwargs):
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError(f"injected {stage} failure")
            return original(*args, **kwargs)

        return wrapper

    if stage == "decode":
        monkeypatch.setattr(video_module, "upright", failing(video_module.upright))
    elif stage == "swap":
        monkeypatch.setattr(FrameProcessor, "process", failing(FrameProcessor.process))
    else:
        monkeypatch.setattr(VideoSink, "write", failing(VideoSink.write))
    job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
    with pytest.raises(RuntimeError, match=f"injected {stage}"):
        run_video(job, str(second), tmp_path / "out.mkv")
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("ghostlive-")]


def _mount_tmpfs(folder: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    return (
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True).returncode
        == 0
    )


@pytest.fixture(params=["read-only", "full"])
def unwritable_folder(request, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder no video can be written to, and the error's words. Read-only: mode 0555 for a normal user; for
    root (who ignores modes) a read-only tmpfs mount. Full: a tmpfs filled to the last byte (needs root)."""
    folder = tmp_path / "target"
    folder.mkdir()
    if request.param == "read-only" and os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder, "cannot write in the folder"
        folder.chmod(0o755)
        return
    if not _mount_tmpfs(folder, "ro,size=1m" if request.param == "read-only" else "size=64k"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        if request.param == "full":
            with open(folder / "filler", "wb") as f, pytest.raises(OSError):
                f.write(b"\0" * 200_000)
                f.flush()
        yield folder, "cannot write in the folder" if request.param == "read-only" else "the disk holding"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_unwritable_folder_fails_before_decoding(second: Path, unwritable_folder, capsys, monkeypatch) -> None:
    folder, words = unwritable_folder
    before = sorted(folder.iterdir())
    opened = []
    monkeypatch.setattr(offline, "VideoSource", lambda *a: opened.append(a))  # a spy: must not be reached
    out = folder / "out.mp4"
    assert main(swap("--target", str(second), "-o", str(out))) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ghostlive: error: {out}: {words}") and "\n" not in err
    assert opened == [] and sorted(folder.iterdir()) == before
    if words.startswith("cannot write"):
        assert err.endswith(("(Read-only file system)", "(Permission denied)"))


@pytest.fixture(params=["disk full (tmpfs)", "file size limit"])
def write_limit(request, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder where writing stops after ~150 KB: a 150 KB tmpfs (needs root), or RLIMIT_FSIZE (any user)."""
    import resource

    folder = tmp_path / "small"
    folder.mkdir()
    if request.param.startswith("disk"):
        if not _mount_tmpfs(folder, "size=150k"):
            pytest.skip("mounting a tmpfs needs root")
        yield folder, "No space left on device"
        subprocess.run(["umount", str(folder)], check=True)
        return
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, previous[1]))  # Python ignores SIGXFSZ: writes get EFBIG
    try:
        yield folder, "File too large"
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clip three times over (216 frames, 9 s): long enough to see where a job stops."""
    return write_video(tmp_path_factory.mktemp("long") / "long.mp4", frames_of(CLIP) * 3, fps=24)


def test_write_error_stops_the_job_and_names_the_output(long_clip: Path, write_limit: tuple[Path, str]) -> None:
    folder, reason = write_limit
    done = []
    job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
    out = folder / "out.mp4"  # MP4 writes as it goes (Matroska holds up to 5 s per cluster: this clip in one)
    with pytest.raises(OutputError) as info:
        run_video(job, str(long_clip), out, progress=lambda p: done.append(p.done))
    message = str(info.value)
    assert message.startswith(f"{out}: writing the video failed: {reason}")
    assert ".out." not in message and list(folder.iterdir()) == []
    assert max(done, default=0) < 150  # stopped at the first failed write, not after the whole encode
