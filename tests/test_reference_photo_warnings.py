"""A reference photo that does not show one whole face is warned about: with several faces the warning names the
photo, how many faces it shows and which one is used (the largest); a face cut off by the photo's edge (which may
match nobody) is warned about too. A plain portrait gets no warning."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import pytest

from ghostlive.cli import main
from ghostlive.faces import FaceAnalyzer

from .conftest import compose, sample

GRACE, ASTRONAUT = sample("grace_hopper.jpg"), sample("astronaut.png")


def _swap(tmp_path: Path, reference: Path) -> int:
    out = tmp_path / "out.png"
    return main(["swap", "-q", "--source", str(GRACE), "--target", str(ASTRONAUT), "-o", str(out),
                 "--reference", str(reference), "--similarity", "-1"])


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_reference_with_several_faces_says_which_one_is_used(tmp_path: Path, caplog) -> None:
    grace, astronaut = cv2.imread(str(GRACE)), cv2.imread(str(ASTRONAUT))
    canvas, _ = compose(grace, astronaut)  # same height: Grace's face is the larger, on the left
    ref = tmp_path / "two.png"
    cv2.imwrite(str(ref), canvas)
    with caplog.at_level(logging.WARNING):
        assert _swap(tmp_path, ref) == 0
    notes = [w for w in _warnings(caplog) if w.startswith(str(ref))]
    assert notes == [f"{ref}: the reference photo shows 2 faces; using the largest (the leftmost); crop it to the "
                     "person to match"]


def test_a_reference_face_cut_off_by_the_edge_is_warned_about(tmp_path: Path, caplog) -> None:
    astronaut = cv2.imread(str(ASTRONAUT))
    x1, _, x2, _ = max(FaceAnalyzer().analyze(astronaut), key=lambda f: f.detection.area).box
    ref = tmp_path / "cut.png"
    cv2.imwrite(str(ref), astronaut[:, int(x1 + 0.2 * (x2 - x1)) :])  # a fifth of the face is outside the photo
    with caplog.at_level(logging.WARNING):
        assert _swap(tmp_path, ref) == 0
    assert [w for w in _warnings(caplog) if w.startswith(str(ref))] == [
        f"{ref}: the reference face is cut off by the edge of the photo; it may match nobody: use a photo that "
        "shows the whole face"
    ]


def test_a_plain_portrait_as_reference_is_not_warned_about(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        assert _swap(tmp_path, ASTRONAUT) == 0
    assert not [w for w in _warnings(caplog) if "reference" in w]
