"""The list options (--keep, --mask, --regions and their settings-file keys) read alike: names in any case,
duplicates folded, an empty value refused with a hint (``--keep ""`` used to mean none while ``--mask ""`` was
refused, and ``MOUTH`` was refused while ``mouth,mouth`` was accepted)."""

from __future__ import annotations

import argparse

import pytest

from ghostlive import config
from ghostlive.cli import main
from ghostlive.settings import setting
from tests.conftest import sample

ARGS = ["swap", "--source", str(sample("grace_hopper.jpg")), "--target", str(sample("astronaut.png"))]
ARGS += ["-o", "unused.png"]  # never written: the options are refused first


@pytest.mark.parametrize("flag", ["--keep", "--mask", "--regions"])
@pytest.mark.parametrize("empty", ["", " ", ","])
def test_an_empty_list_is_a_usage_error(flag: str, empty: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*ARGS, flag, empty])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {flag}: empty list" in err
    assert ("give none" in err) == (flag != "--regions")


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("keep", "MOUTH,mouth, Eyes", ("mouth", "eyes")),
        ("keep", "None", ()),
        ("mask", "LIPS,lips,box", ("lips", "box")),
        ("mask", "none", ()),
        ("regions", "Skin,NOSE,skin", ("skin", "nose")),
    ],
)
def test_names_in_any_case_and_duplicates_folded(key: str, text: str, expected: tuple[str, ...]) -> None:
    parse = setting(key, "swap").parse
    assert parse is not None and parse(text) == expected
    if expected and key in config.FIELDS:  # the settings file stores keep as keep_mouth, keep_eyes, ...
        assert getattr(config.parse_settings({key: text.split(",")}, "settings.toml"), key) == expected


def test_unknown_names_are_still_refused() -> None:
    for key in ("keep", "mask", "regions"):
        parse = setting(key, "swap").parse
        assert parse is not None
        with pytest.raises(argparse.ArgumentTypeError):
            parse("mouth,bogus")
