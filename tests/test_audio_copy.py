"""Audio a container refuses only when its header is written (AAC in MPEG program streams) is re-encoded to a codec
it holds; audio copied into AVI from an AVI keeps its timing. All media made here with PyAV."""

from __future__ import annotations

from pathlib import Path

import pytest

av = pytest.importorskip("av")

from ghostlive.cli import main  # noqa: E402

from .conftest import sample  # noqa: E402
from .media_tools import CLIP, add_tracks, dominant_frequency, frames_of, write_video  # noqa: E402

GRACE = str(sample("grace_hopper.jpg"))


def swap(target: Path, out: Path) -> int:
    return main(["swap", "-q", "--tiles", "0", "--source", GRACE, "--target", str(target), "-o", str(out)])


def audio_span(path: Path) -> tuple[float, str]:
    """Seconds from the start of the first audio packet to the end of the last, and the audio codec."""
    with av.open(str(path)) as c:
        audio = c.streams.audio[0]
        times = [float(t * p.time_base) for p in c.demux(audio) if p.size for t in (p.pts, p.pts + p.duration)]
        return max(times) - min(times), audio.codec_context.name


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second (24 frames) of the real clip."""
    return write_video(tmp_path_factory.mktemp("short") / "short.mp4", frames_of(CLIP)[:24], fps=24)


@pytest.mark.parametrize("suffix", [".mpg", ".mpeg"])
def test_aac_into_mpeg_is_re_encoded(short: Path, tmp_path: Path, caplog, suffix: str) -> None:
    target = add_tracks(short, tmp_path / "aac.mp4")
    out = tmp_path / f"out{suffix}"
    assert swap(target, out) == 0
    assert f"audio #1 (aac) re-encoded as ac3 ({suffix} cannot hold it)" in caplog.text
    assert audio_span(out) == (pytest.approx(1.0, abs=0.05), "ac3")  # as long as the 24 frames
    assert round(dominant_frequency(out, 0)) == 440
    assert len(frames_of(out)) == 24


@pytest.mark.parametrize("codec", ["ac3", "aac"])
def test_audio_copied_from_avi_into_avi_keeps_its_timing(short: Path, tmp_path: Path, codec: str) -> None:
    """An AVI states AC-3's (and AAC's) block align as its largest frame; copied as such, 1 s of sound was stamped
    over 0.2 s, and the AVI then could not be written as MP4."""
    first, second, mp4 = tmp_path / "first.avi", tmp_path / "second.avi", tmp_path / "third.mp4"
    assert swap(add_tracks(short, tmp_path / "tone.mkv", codec=codec), first) == 0
    assert swap(first, second) == 0
    assert audio_span(second) == (pytest.approx(1.0, abs=0.05), codec)  # as long as the 24 frames
    assert swap(second, mp4) == 0
    assert audio_span(mp4) == (pytest.approx(1.0, abs=0.05), codec)
    assert round(dominant_frequency(mp4, 0)) == 440
