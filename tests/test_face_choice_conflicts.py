"""Face choices that contradict each other are usage errors (exit status 2, before anything loads), in ``swap``
and ``live`` alike: a reference (``--reference``, ``--pair``) picks the people to swap, so ``--faces
largest|first|index`` and ``--face-index`` cannot pick as well; ``--similarity`` is the threshold of reference
matching (and of ``--faces first``) and is refused without either."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostlive.cli import main

from .conftest import sample

GRACE, ASTRONAUT = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))
CASES = [
    (["--faces", "largest", "--reference", ASTRONAUT], "--faces largest cannot be combined with --reference"),
    (["--faces", "first", "--reference", ASTRONAUT], "--faces first cannot be combined with --reference"),
    (["--faces", "index", "--reference", ASTRONAUT], "--faces index cannot be combined with --reference"),
    (["--face-index", "0", "--reference", ASTRONAUT], "--face-index picks a face by its place and cannot be "
                                                       "combined with --reference"),
    (["--similarity", "0.5"], "--similarity is the threshold of --reference/--pair matching"),
    (["--faces", "largest", "--similarity", "0.5"], "--similarity is the threshold of --reference/--pair matching"),
]


def _usage_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2, err
    return err[-1]


@pytest.mark.parametrize(("options", "message"), CASES)
def test_contradictory_face_choices_are_usage_errors_in_swap(
    tmp_path: Path, capsys, options: list[str], message: str
) -> None:
    out = tmp_path / "x.png"
    argv = ["swap", "-q", "--source", GRACE, "--target", ASTRONAUT, "-o", str(out), *options]
    assert message in _usage_error(capsys, argv)
    assert not out.exists()


@pytest.mark.parametrize(("options", "message"), CASES)
def test_contradictory_face_choices_are_usage_errors_in_live(capsys, options: list[str], message: str) -> None:
    """Refused before any camera opens (the camera named here does not exist)."""
    argv = ["live", "-q", "--source", GRACE, "--camera", "/nonexistent/cam.mp4", *options]
    assert message in _usage_error(capsys, argv)


def test_a_pair_with_face_index_is_a_usage_error(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.png"
    argv = ["swap", "--pair", f"{GRACE}={ASTRONAUT}", "--target", ASTRONAUT, "-o", str(out), "--face-index", "1"]
    assert "cannot be combined with --pair" in _usage_error(capsys, argv)


def test_choices_that_agree_still_run(tmp_path: Path, capsys) -> None:
    base = ["swap", "-q", "--source", GRACE, "--target", ASTRONAUT]
    assert main([*base, "-o", str(tmp_path / "a.png"), "--faces", "reference", "--reference", ASTRONAUT,
                 "--similarity", "0.5"]) == 0
    assert main([*base, "-o", str(tmp_path / "b.png"), "--faces", "first", "--similarity", "0.5"]) == 0
    assert capsys.readouterr().out.count("swapped 1 of 1") == 2
