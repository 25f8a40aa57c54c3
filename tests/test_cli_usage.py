"""Usage errors of ``swap``, ``demo`` and ``live`` (exit status 2, one line that says what is wrong): a missing
source face, --source and --pair mixed, --keep none beside a region, a registry model that is not a swapper;
and ``demo --pair``, which works."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from ghostlive.cli import main
from ghostlive.errors import ConfigError
from ghostlive.models.personal import check_name

from .conftest import sample

GRACE, ASTRONAUT = sample("grace_hopper.jpg"), sample("astronaut.png")


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    """The last stderr line of a command that must stop with exit status 2."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2, err
    return err[-1]


def test_swap_without_a_source_face_is_a_usage_error(tmp_path: Path, capsys) -> None:
    line = usage_error(capsys, "swap", "--target", ASTRONAUT, "-o", tmp_path / "out.jpg")
    assert line == "ghostlive swap: error: give a source face: --source FACE, or --pair FACE=REFERENCE"
    line = usage_error(capsys, "live")
    assert line == "ghostlive live: error: give a source face: --source FACE, or --pair FACE=REFERENCE"
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["swap", "live"])
def test_source_and_pair_together_say_what_is_missing(tmp_path: Path, capsys, command: str) -> None:
    files = ("--target", ASTRONAUT, "-o", tmp_path / "out.jpg") if command == "swap" else ()
    line = usage_error(capsys, command, *files, "--source", GRACE, "--pair", f"{GRACE}={ASTRONAUT}")
    assert line.startswith(f"ghostlive {command}: error: --source FACE and --pair together need --reference IMAGE")
    assert "one more --pair FACE=REFERENCE" in line
    line = usage_error(capsys, command, *files, "--reference", ASTRONAUT, "--pair", f"{GRACE}={ASTRONAUT}")
    assert line.endswith("--reference goes with --source FACE; each --pair FACE=REFERENCE names its own reference")
    assert not list(tmp_path.iterdir())


def test_source_with_its_reference_joins_the_pairs(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.jpg"
    pair = f"{GRACE}={ASTRONAUT}"
    assert main(["swap", "--source", str(GRACE), "--reference", str(ASTRONAUT), "--pair", pair,
                 "--target", str(ASTRONAUT), "-o", str(out)]) == 0  # fmt: skip
    assert "swapped 1 of 1 face(s)" in capsys.readouterr().out and cv2.imread(str(out)) is not None


def test_demo_pair_pastes_the_users_face(tmp_path: Path, capsys) -> None:
    """``demo --pair FACE=REFERENCE`` swaps FACE onto the sample photo's person who looks like REFERENCE (it used
    to fail, asking for the --pair it was given)."""
    out = tmp_path / "demo.png"
    assert main(["demo", "--pair", f"{sample('grace_hopper.jpg')}={ASTRONAUT}", "-o", str(out)]) == 0
    assert "swapped 1 of 1 face(s)" in capsys.readouterr().out and cv2.imread(str(out)) is not None
    line = usage_error(capsys, "demo", "--faces", "reference", "-o", out)
    assert line.endswith("error: --faces reference needs at least one --reference IMAGE (or --pair FACE=REFERENCE)")


@pytest.mark.parametrize("value", ["mouth,none", "none,eyes,brows"])
def test_keep_none_beside_a_region_is_refused(tmp_path: Path, capsys, value: str) -> None:
    files = ("--source", GRACE, "--target", ASTRONAUT, "-o", tmp_path / "o.jpg")
    line = usage_error(capsys, "swap", *files, "--keep", value)
    assert "argument --keep: 'none' means keep nothing and cannot be combined with" in line
    assert not list(tmp_path.iterdir())


def test_keep_none_alone_still_keeps_nothing() -> None:
    from ghostlive.cli import build_parser

    base = ["swap", "--source", "a.jpg", "--target", "b.jpg", "-o", "c.jpg", "--keep"]
    assert build_parser().parse_args([*base, "none"]).keep == ()
    assert build_parser().parse_args([*base, "mouth, eyes"]).keep == ("mouth", "eyes")


def test_a_registry_model_is_not_a_swapper(tmp_path: Path, capsys) -> None:
    files = ("--source", GRACE, "--target", ASTRONAUT, "-o", tmp_path / "o.jpg")
    line = usage_error(capsys, "swap", "--swapper", "scrfd", *files)
    assert "argument --swapper: scrfd is a model, not a swapper: SCRFD-10GF face detector" in line
    assert "swappers: classic, ghost-1, ghost-2, ghost-3, inswapper, or a personal swapper" in line
    line = usage_error(capsys, "models", "optimise", "scrfd")
    assert "scrfd is a model, not a swapper" in line


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("scrfd", "it is the name of a registry model, SCRFD-10GF face detector"),
        ("ghost-arcface", "it is the name of a registry model, ArcFace"),
        ("ghost-2", "it is a built-in swapper's name"),
        ("Anna", "use lower-case letters, digits"),
        ("me.int8", "names ending in '.int8' are those of files made from another model (me's)"),
        ("me-fp16", "names ending in '-fp16' are those of files made from another model (me's)"),
    ],
)
def test_check_name_says_which_rule_a_name_breaks(name: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_name(name)
    assert str(err.value).startswith(f"'{name}' cannot name a personal swapper: {why}")
    assert check_name("anna-2") == "anna-2"
