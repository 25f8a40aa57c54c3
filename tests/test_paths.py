"""No output may replace an input: same-file detection (links, case), live sink checks, option ranges."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest

from ghostlive.cli import main
from ghostlive.cli_args import address, float_range, int_range
from ghostlive.errors import InvalidInputError, OutputError
from ghostlive.media import paths
from ghostlive.media.paths import case_insensitive, check_live_sinks, require_file, same_file

from .conftest import DATA, sample

GRACE = str(sample("grace_hopper.jpg"))
CLIP = DATA / "megamind_3s.mp4"


def test_same_file_through_links(tmp_path: Path) -> None:
    a = tmp_path / "a.mp4"
    a.write_bytes(b"video")
    os.link(a, tmp_path / "hard.mp4")
    os.symlink(a, tmp_path / "soft.mp4")
    (tmp_path / "sub").mkdir()
    assert same_file(a, tmp_path / "hard.mp4")
    assert same_file(a, tmp_path / "soft.mp4")
    assert same_file(a, tmp_path / "sub" / ".." / "a.mp4")
    assert not same_file(a, tmp_path / "b.mp4")  # not there yet: a different name
    (tmp_path / "b.mp4").write_bytes(b"video")
    assert not same_file(a, tmp_path / "b.mp4")  # equal content is still another file


def test_case_is_compared_as_the_file_system_does(tmp_path: Path, monkeypatch) -> None:
    """Here (Linux, case-sensitive) Clip.mp4 and clip.mp4 are two files, and detection says so. On a
    case-insensitive file system (a stand-in: detection answering True, as it does on macOS/Windows/vfat,
    which this machine cannot mount) the same two names are refused as one file."""
    cam = tmp_path / "Clip.mp4"
    cam.write_bytes(b"video")
    assert case_insensitive(str(tmp_path)) is False
    assert not list(tmp_path.glob(".GhostLive-Case-*"))  # the probe file is gone
    check_live_sinks([tmp_path / "clip.mp4"], str(cam), [])  # allowed: really another file here
    monkeypatch.setattr(paths, "case_insensitive", lambda folder: True)
    with pytest.raises(OutputError, match="would overwrite an input"):
        check_live_sinks([tmp_path / "clip.mp4"], str(cam), [])


def test_live_inputs_are_the_camera_file_and_photos(tmp_path: Path) -> None:
    photo = tmp_path / "face.jpg"
    shutil.copy(GRACE, photo)
    check_live_sinks([tmp_path / "0"], "0", [])  # a camera index is not a file
    check_live_sinks([tmp_path / "x.mp4"], "rtsp://host/x.mp4", [])
    os.symlink(photo, tmp_path / "face.mp4")
    with pytest.raises(OutputError, match=r"face\.mp4: the output would overwrite an input \(.*face\.jpg\)"):
        check_live_sinks([tmp_path / "face.mp4", None], "0", [None, photo])


def test_symlink_loop_is_named(tmp_path: Path) -> None:
    loop = tmp_path / "loop.jpg"
    os.symlink(loop.name, loop)
    with pytest.raises(InvalidInputError, match=r"loop\.jpg: is a symbolic link loop"):
        require_file(loop)
    with pytest.raises(InvalidInputError, match="symbolic link loop"):
        same_file(tmp_path / "out.jpg", loop)


def test_option_types() -> None:
    assert int_range(0, 8)("8") == 8 and int_range(1)("5") == 5
    assert float_range(0.0, lo_open=True)("0.5") == 0.5
    for parse, text in ((int_range(0, 8), "9"), (int_range(0), "-1"), (int_range(0), "1.5"), (float_range(0.0), "nan")):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            parse(text)
    with pytest.raises(argparse.ArgumentTypeError):
        float_range(0.0, lo_open=True)("0")
    assert address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert address(":0") == ("127.0.0.1", 0)
    assert address("[::1]:9000") == ("::1", 9000)
    for bad in ("127.0.0.1:abc", "8080x", "host:70000", "host:"):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad)):
            address(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["swap", "--tiles", "-3"],
        ["swap", "--tiles", "99"],
        ["swap", "--crf", "99"],
        ["swap", "--detect-every", "0"],
        ["swap", "--max-gap", "-1"],
        ["swap", "--face-index", "-1"],
        ["swap", "--source-face", "-2"],
        ["swap", "--similarity", "2"],
        ["live", "--fps", "-5"],
        ["live", "--duration", "-1"],
        ["bench", "--frames", "0"],
        ["bench", "--threads", "-1"],
        ["bench", "--runs", "0"],
        ["bench", "--live-seconds", "0"],
        ["engines", "build", "--max-batch", "0"],
    ],
    ids=lambda a: " ".join(a),
)
def test_numeric_options_are_range_checked(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--target", "t.jpg", "-o", "o.jpg"] if argv[0] == "swap" else argv)
    assert exc.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {argv[-2]}: must be" in last and repr(argv[-1]) in last


def test_live_size_must_be_positive(capsys) -> None:
    with pytest.raises(SystemExit) as usage:  # a usage error, as a bad --fps is
        main(["live", "--source", GRACE, "--size=-3x4"])
    assert usage.value.code == 2
    assert "--size '-3x4' is outside 16x16" in capsys.readouterr().err


def test_video_output_equal_to_a_source_photo_is_refused_before_work(tmp_path: Path, capsys) -> None:
    face = tmp_path / "face.mp4"  # a photo with an odd name: the output named after it must not replace it
    shutil.copy(GRACE, face)
    code = main(["swap", "--source", str(face), "--target", str(CLIP), "-o", str(face)])
    assert code == 1 and "face.mp4: the output would overwrite an input" in capsys.readouterr().err
    assert face.read_bytes() == Path(GRACE).read_bytes()
