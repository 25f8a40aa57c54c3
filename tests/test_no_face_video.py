"""A video with no face in any frame fails as a photo with no face does (README, "Behaviour on bad input"): exit
status 1, one line ``PATH: no face found in any of the N frames``, no output file and no temporary file left; the
desktop app's video job (the session's file job) fails with the same message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import NoFaceError
from ghostlive.hub import ModelStore
from ghostlive.jobs import SwapSettings
from ghostlive.session import Session

from .conftest import sample
from .media_tools import CLIP, frames_of, write_video

GRACE = str(sample("grace_hopper.jpg"))


@pytest.fixture(scope="module")
def faceless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six frames with no face: the real clip's black opening frame, then a grey one of its size."""
    first = frames_of(CLIP)[0]
    frames = [first] * 3 + [np.full_like(first, 90)] * 3
    return write_video(tmp_path_factory.mktemp("faceless") / "faceless.mp4", frames)


@pytest.mark.parametrize("quiet", [True, False])
def test_a_video_without_any_face_is_an_error_and_writes_nothing(
    faceless: Path, tmp_path: Path, capsys, quiet: bool
) -> None:
    out = tmp_path / "out" / "swapped.mp4"
    out.parent.mkdir()
    argv = ["swap", *(["-q"] if quiet else []), "--source", GRACE, "--target", str(faceless), "-o", str(out)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert not captured.out, captured
    lines = captured.err.rstrip("\n").split("\n")  # a progress line, if shown, ends before the error
    assert lines[-1] == f"ghostlive: error: {faceless}: no face found in any of the 6 frames"
    assert len(lines) == 1 if quiet else all(line.startswith("\r  frame ") for line in lines[:-1])
    assert list(out.parent.iterdir()) == []


def test_a_one_frame_video_without_a_face_is_an_error(tmp_path: Path, capsys) -> None:
    clip = write_video(tmp_path / "one.mp4", [np.zeros((96, 128, 3), np.uint8)])
    out = tmp_path / "one_out.mp4"
    assert main(["swap", "-q", "--source", GRACE, "--target", str(clip), "-o", str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"ghostlive: error: {clip}: no face found in any of the 1 frames"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mp4"]


def test_the_apps_video_job_fails_with_the_same_message(faceless: Path, tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    out = tmp_path / "app.mp4"
    task = s.start_file_job(SwapSettings(), str(faceless), str(out))
    with pytest.raises(NoFaceError) as failed:
        task.result(300)
    assert str(failed.value) == f"{faceless}: no face found in any of the 6 frames"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
