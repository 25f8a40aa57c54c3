"""A source face that will swap worse than a frontal close-up is warned about before the swap: real photos, the
real command line and the real window."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.pipeline.advice import source_advice

from .conftest import DATA, largest, sample
from .test_cli import run

CAMERAMAN = DATA / "cameraman_gray.png"  # a face turned about 50° to the side
GRACE = sample("grace_hopper.jpg")  # frontal, 200 px tall
MESSI = DATA / "messi5.jpg"  # a face 36 px tall


def advice(analyzer: FaceAnalyzer, path: Path) -> list[str]:
    return source_advice(largest(analyzer.analyze(cv2.imread(str(path)))))


def test_a_turned_face_and_a_small_one_are_warned_about(analyzer: FaceAnalyzer) -> None:
    assert advice(analyzer, GRACE) == [] and advice(analyzer, sample("astronaut.png")) == []
    turned = advice(analyzer, CAMERAMAN)
    assert len(turned) == 1 and "turned far to the side" in turned[0]
    small = advice(analyzer, MESSI)
    assert len(small) == 1 and "only 36 px tall" in small[0]


def test_swap_names_the_source_file_it_warns_about(tmp_path: Path, capsys, caplog) -> None:
    """The warning is logged (the command line prints warnings on standard error: ``logging.basicConfig``)."""
    target = sample("astronaut.png")
    code, _, _ = run(capsys, "swap", "--source", CAMERAMAN, "--target", target, "-o", tmp_path / "a.png")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert code == 0 and any("cameraman_gray.png" in m and "turned far to the side" in m for m in warned)
    caplog.clear()
    code, _, _ = run(capsys, "swap", "--source", GRACE, "--target", target, "-o", tmp_path / "b.png")
    assert code == 0 and "swaps better" not in caplog.text


def test_the_window_marks_such_a_source_face(window) -> None:
    pytest.importorskip("PySide6")
    assert window.add_source_photos([str(CAMERAMAN), str(GRACE)]) == 2
    turned, frontal = window.source_list.item(0), window.source_list.item(1)
    assert turned.text().endswith("⚠") and "turned far to the side" in turned.toolTip()
    assert not frontal.text().endswith("⚠") and "swaps better" not in frontal.toolTip()
