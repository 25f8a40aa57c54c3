"""A video in which the face choice finds nobody (a ``--reference`` of someone who is not there, a ``--face-index``
past the faces found) fails as a photo does: exit status 1, one line naming the video with the best similarity or
the number of faces found, and no output (its temporary file is discarded). So does a video without faces,
whether or not a particular face was asked for."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main

from .conftest import compose, sample

GRACE, ASTRONAUT = sample("grace_hopper.jpg"), sample("astronaut.png")


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six frames of two real portraits side by side (the astronaut and Grace Hopper), swaying a little."""
    from .media_tools import write_video

    canvas, _ = compose(cv2.imread(str(ASTRONAUT)), cv2.imread(str(GRACE)), height=240, gap=24)
    canvas = canvas[:, : canvas.shape[1] // 2 * 2]
    frames = [np.roll(canvas, 2 * i, axis=1) for i in range(6)]
    return write_video(tmp_path_factory.mktemp("two") / "two.mp4", frames)


def _swap(two_people: Path, out: Path, *options: str) -> int:
    return main(["swap", "-q", "--source", str(ASTRONAUT), "--target", str(two_people), "-o", str(out), *options])


def _left_nothing(folder: Path) -> bool:
    return list(folder.iterdir()) == []


def test_reference_of_nobody_in_the_video_is_an_error_with_the_best_similarity(
    two_people: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out" / "nomatch.mp4"
    out.parent.mkdir()
    cam = str(Path(__file__).parent / "data" / "cameraman_gray.png")
    assert _swap(two_people, out, "--reference", cam) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and not captured.out, captured
    assert err[0].startswith(f"ghostlive: error: {two_people}: no face matches the reference in any of the 6 frames")
    assert "best similarity 0." in err[0] and "threshold 0.88" in err[0] and "--similarity" in err[0]
    assert _left_nothing(out.parent)


def test_face_index_past_the_faces_of_the_video_is_an_error_with_the_count(
    two_people: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out" / "i5.mp4"
    out.parent.mkdir()
    assert _swap(two_people, out, "--face-index", "5") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ghostlive: error: {two_people}: at most 2 face(s) found in a frame; face index 5 does not exist"]
    assert _left_nothing(out.parent)
    assert _swap(two_people, out, "--face-index", "1") == 0  # a face that exists: written as before
    assert "swapped faces in 6 of 6 frames" in capsys.readouterr().out and out.exists()


def test_the_progress_line_ends_before_the_error(two_people: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "i5.mp4"
    assert main(["swap", "--source", str(ASTRONAUT), "--target", str(two_people), "-o", str(out), "--face-index", "5"])
    err = capsys.readouterr().err
    assert "\n" + f"ghostlive: error: {two_people}: at most 2 face(s)" in err, err
    assert not out.exists()


def test_a_video_without_faces_is_an_error_whether_or_not_a_face_was_asked_for(tmp_path: Path, capsys) -> None:
    from .media_tools import write_video

    clip = write_video(tmp_path / "grey.mp4", [np.full((96, 128, 3), 90, np.uint8)] * 6)
    out = tmp_path / "out.mp4"
    for asked in ([], ["--reference", str(GRACE)]):
        assert main(["swap", "-q", "--source", str(GRACE), "--target", str(clip), "-o", str(out), *asked]) == 1
        assert capsys.readouterr().err.strip() == f"ghostlive: error: {clip}: no face found in any of the 6 frames"
        assert not out.exists()
