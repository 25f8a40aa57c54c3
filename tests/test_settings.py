"""The settings schema generates the command line and the GUI's settings file: every declared setting is a
flag of each command that uses it, with its (per-context) default; the settings file round-trips, loads files
written before the schema, and names the file and key of a bad value."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import build_parser, main
from ghostlive.config import GuiSettings, from_values, load_settings, save_settings, to_values
from ghostlive.errors import ConfigError
from ghostlive.jobs import PairSpec, SwapSettings
from ghostlive.media.video_out import EncodeOptions
from ghostlive.settings import SCHEMA, default, settings_for, swap_settings, values_from_args
from ghostlive.tracking import TrackerOptions

COMMANDS = {"swap": ("swap", "--target", "t.jpg", "-o", "o.jpg"), "demo": ("demo",), "live": ("live",),
            "bench": ("bench",), "eval": ("eval", "--sources", "s", "--targets", "t")}
CONTEXT = {"swap": "swap", "demo": "swap", "live": "live", "bench": "bench", "eval": "eval"}

OLD_FILE = """source_photos = ["/photos/a.jpg"]
swapper = "classic"
backend = "auto"
device = "cpu"
faces = "reference"
similarity = 0.75
reference_photos = ["/photos/bob.jpg"]
camera = "/dev/video2"
resolution = "640x480"
blend = 0.5
feather = 0.06
color = "mean"
keep_mouth = false
keep_eyes = true
keep_brows = true
smoothing = 0.0
virtual_camera = true
stream = true
stream_address = "0.0.0.0:9000"
output_folder = "/out"
pause_live_during_jobs = false
"""
"""A settings file as the app wrote it before the schema (every key GuiSettings had)."""


def subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_setting_is_a_flag_with_its_default(command: str) -> None:
    parser = subparser(command)
    args = build_parser().parse_args(list(COMMANDS[command]))
    specs = [s for s in settings_for(CONTEXT[command]) if s.names]
    assert len(specs) >= (1 if command == "eval" else 10)
    for spec in specs:
        for flag in spec.names:
            assert flag in parser._option_string_actions, (command, flag)
        # --face-index not given reads None (told apart from --face-index 0; the setting's default then applies)
        default = None if spec.key == "face_index" else spec.default
        assert getattr(args, spec.arg_dest) == default, (command, spec.key)
        action = parser._option_string_actions[spec.names[0]]
        assert action.help == spec.help
        if spec.parse is not None:  # the schema's own parser checks and converts the text
            assert action.type is spec.parse, (command, spec.key)
    values = values_from_args(args, CONTEXT[command])
    assert set(values) == {s.key for s in specs} - {"face_index"}  # not given: left out
    shown = parser.format_help()  # what `ghostlive COMMAND --help` prints
    assert all(flag in shown for spec in specs for flag in spec.names)


def test_detect_cadence_and_tiles_have_one_declared_default_per_context() -> None:
    assert (default("detect_every", "swap"), default("detect_every", "live")) == (1, 3)
    tiles = [default("tiles", c) for c in ("swap", "live", "bench", "eval")]
    assert tiles == [2, 0, 0, 2]
    live = build_parser().parse_args(["live"])
    assert (live.detect_every, live.tiles) == (3, 0)
    assert "run the detector every N frames (default 3)" in " ".join(subparser("live").format_help().split())
    # the live job gets the same cadence as the live loop in the bench
    options = swap_settings(values_from_args(live, "live"), "live")
    assert (options.tracker.detect_every, options.tiles) == (3, 0)


def test_schema_defaults_are_the_pipeline_defaults() -> None:
    assert swap_settings({}) == SwapSettings()
    # what `live` and `bench --live` ran with before the schema
    # (and its recordings with x264's veryfast preset, as the live recorder had before it took the settings)
    live = SwapSettings(tiles=0, tracker=TrackerOptions(detect_every=3), encode=EncodeOptions(preset="veryfast"))
    assert swap_settings({}, "live") == live
    args = build_parser().parse_args(list(COMMANDS["swap"]))
    assert swap_settings(values_from_args(args, "swap")) == SwapSettings()


def test_repeatable_flags() -> None:
    args = build_parser().parse_args([*COMMANDS["swap"], "--pair", "a.jpg=b.jpg", "--pair", "c.jpg=d.jpg",
                                      "--reference", "r.jpg"])
    assert args.pair == [PairSpec("a.jpg", "b.jpg"), PairSpec("c.jpg", "d.jpg")] and args.reference == ["r.jpg"]
    assert values_from_args(args, "swap")["reference_photos"] == ["r.jpg"]


def test_smoothing_flags() -> None:
    off = build_parser().parse_args([*COMMANDS["swap"], "--no-smoothing"])
    assert not swap_settings(values_from_args(off, "swap")).tracker.smoothing
    hz = swap_settings(values_from_args(build_parser().parse_args([*COMMANDS["swap"], "--smoothing", "2.5"]), "swap"))
    assert hz.tracker.smoothing and hz.tracker.min_cutoff == 2.5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--smoothing", "-1"), "argument --smoothing: must be a number from 0 to 5, got '-1'"),
        (("--detect-every", "0"), "argument --detect-every: must be an integer ≥ 1, got '0'"),
        (("--keep", "nose"), "argument --keep: unknown region(s) nose; choose from mouth, eyes, brows"),
        (("--mask", "ears"), "argument --mask: unknown mask ears; choose from"),
        (("--color", "sepia"), "argument --color: invalid choice: 'sepia'"),
        (("--pair", "x.jpg"), "argument --pair: expected FACE=REFERENCE, got 'x.jpg'"),
    ],
)
def test_bad_flag_values_are_one_usage_line(argv: tuple[str, ...], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*COMMANDS["swap"], *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and message in err[-1]


def test_keys_flags_and_contexts_are_consistent() -> None:
    flags = [f for s in SCHEMA.values() for f in s.names]
    for context in ("swap", "live", "bench"):
        names = [f for s in settings_for(context) for f in s.names]
        assert len(names) == len(set(names)), context
    assert all(s.help and s.contexts for s in SCHEMA.values())
    assert {"--tiles", "--detect-every", "--similarity", "--stream", "--live"} <= set(flags)
    for s in settings_for("gui"):  # what the GUI shows has a range or choices a widget can offer
        if s.kind in (int, float):
            assert s.lo is not None and s.hi is not None, s.key


def test_toml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    changed = from_values({"keep": ("eyes",), "mask": ("lips", "box"), "similarity": 0.6, "enhancer": "gfpgan-1.4",
                           "source_photos": ['C:\\faces\\"a".jpg'], "smoothing": 0.0})
    save_settings(changed, path)
    again = load_settings(path)
    assert again == changed and to_values(again)["keep"] == ("eyes",)
    assert load_settings(tmp_path / "none.toml") == GuiSettings()


def test_old_settings_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OLD_FILE)
    cfg = load_settings(path)
    assert (cfg.device, cfg.faces, cfg.similarity, cfg.camera, cfg.resolution) == ("cpu", "reference", 0.75,
                                                                                   "/dev/video2", "640x480")
    assert (cfg.blend, cfg.feather, cfg.color, cfg.smoothing) == (0.5, 0.06, "mean", 0.0)
    assert (cfg.keep_mouth, cfg.keep_eyes, cfg.keep_brows) == (False, True, True)
    assert cfg.stream and cfg.stream_address == "0.0.0.0:9000" and not cfg.pause_live_during_jobs
    assert cfg.source_photos == ["/photos/a.jpg"] and cfg.reference_photos == ["/photos/bob.jpg"]
    assert to_values(cfg)["keep"] == ("eyes", "brows")
    options = swap_settings({k: v for k, v in to_values(cfg).items() if k in SCHEMA}, "live")
    assert options.classic.keep == ("eyes", "brows") and not options.tracker.smoothing


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("blend = 3.0", "blend", "must be within [0, 1]"),
        ('blend = "high"', "blend", "expected a number"),
        ('color = "sepia"', "color", "unknown 'sepia'"),
        ("keep_eyes = 1", "keep_eyes", "expected true or false"),
        ('mask = ["ears"]', "mask", "unknown 'ears'"),
        ('stream_address = "nowhere"', "stream_address", "is not HOST:PORT"),
        ('swapper = "../evil"', "swapper", "swapper"),
    ],
)
def test_bad_value_is_one_line_naming_file_and_key(tmp_path: Path, line: str, key: str, problem: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'camera = "1"\n{line}\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: {key}: ") and problem in message and "\n" not in message


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("blend = = 1\n")
    with pytest.raises(ConfigError, match="not a TOML settings file") as exc:
        load_settings(path)
    assert str(exc.value).startswith(str(path))


def test_unknown_key_is_a_warning_and_the_rest_is_used(tmp_path: Path, caplog) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('colour_mode = "mean"\ncamera = "2"\n')
    with caplog.at_level(logging.WARNING, logger="ghostlive.config"):
        cfg = load_settings(path)
    assert cfg.camera == "2"
    assert any("colour_mode" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)


def test_shape_flag_reaches_the_classic_swapper(tmp_path: Path, capsys) -> None:
    from .conftest import sample

    grace, astronaut = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))
    outs = []
    for shape in ("0", "1"):
        out = tmp_path / f"shape{shape}.png"
        assert main(["swap", "--source", grace, "--target", astronaut, "-o", str(out), "--shape", shape]) == 0
        outs.append(cv2.imread(str(out)).astype(int))
    original = cv2.imread(astronaut).astype(int)
    moved = np.abs(outs[0] - outs[1]).max(axis=2) > 20
    assert moved.mean() > 0.002  # the features moved between the target's geometry and the source's
    ys, xs = np.nonzero(np.abs(outs[0] - original).max(axis=2))  # the swapped face's extent
    inside = np.zeros_like(moved)
    inside[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
    assert not moved[~inside].any()  # nothing outside the swapped face
    with pytest.raises(SystemExit):
        main(["swap", "--source", grace, "--target", astronaut, "-o", str(tmp_path / "x.png"), "--shape", "1.5"])
    assert "--shape" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"), [("--blend", "1.5"), ("--blend", "-0.1"), ("--feather", "0"), ("--feather", "0.3")]
)
def test_out_of_range_blend_and_feather_are_usage_errors(flag: str, value: str, capsys, tmp_path) -> None:
    """A value outside a setting's range is a usage error (exit 2, naming the flag) before anything loads, as for
    every other ranged flag; blend and feather used to pass argparse and fail later with exit 1."""
    with pytest.raises(SystemExit) as stop:
        main(["swap", "--source", "a.jpg", "--target", "b.jpg", "-o", str(tmp_path / "x.png"), flag, value])
    assert stop.value.code == 2
    assert flag in capsys.readouterr().err
