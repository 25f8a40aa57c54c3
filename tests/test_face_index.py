"""``--face-index 0`` picks the leftmost face only (0 used to read as "not given" and every face was swapped), and
``--face-index`` with another face mode is a usage error (exit status 2) whatever the index, in ``swap`` and
``live`` alike."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main

from .conftest import compose, sample

GRACE, ASTRONAUT = sample("grace_hopper.jpg"), sample("astronaut.png")


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, list[tuple[int, int]]]:
    """Two real portraits side by side: Grace Hopper left, the astronaut right."""
    canvas, spans = compose(cv2.imread(str(GRACE)), cv2.imread(str(ASTRONAUT)))
    target = tmp_path_factory.mktemp("group") / "two.png"
    cv2.imwrite(str(target), canvas)
    return target, canvas, spans


def test_face_index_0_swaps_only_the_leftmost_face(two_faces, tmp_path: Path, capsys) -> None:
    target, canvas, spans = two_faces
    out = tmp_path / "idx0.png"
    argv = ["swap", "-q", "--source", str(ASTRONAUT), "--target", str(target), "--face-index", "0", "-o", str(out)]
    assert main(argv) == 0
    assert "swapped 1 of 2" in capsys.readouterr().out
    result = cv2.imread(str(out)).astype(int)
    changed = [np.abs(result[:, a:b] - canvas[:, a:b]).max() for a, b in spans]
    assert changed[0] > 50 and changed[1] == 0


@pytest.mark.parametrize("index", ["0", "1"])
def test_face_index_with_another_face_mode_is_a_usage_error(two_faces, tmp_path: Path, capsys, index: str) -> None:
    target, _, _ = two_faces
    out = tmp_path / "x.png"
    argv = ["swap", "--source", str(GRACE), "--target", str(target), "--faces", "largest", "--face-index", index]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "-o", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2, err
    assert "--face-index picks one face and cannot be combined with --faces largest" in err[-1]
    assert not out.exists()


@pytest.mark.parametrize("index", ["0", "1"])
def test_live_face_index_with_another_face_mode_is_a_usage_error(capsys, index: str) -> None:
    """Refused before any camera opens."""
    with pytest.raises(SystemExit) as exc:
        main(["live", "--source", str(GRACE), "--faces", "largest", "--face-index", index])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2, err
    assert "--face-index picks one face" in err[-1]
