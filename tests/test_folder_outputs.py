"""Outputs of file jobs refused before any work: a video output that is an existing folder, a folder job's output
named like a photo or video file, and a folder job's output folder that cannot be created (read-only file system,
missing parent); each one line naming the output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ghostlive.cli import main
from ghostlive.errors import OutputError
from ghostlive.jobs import PairSpec, SwapSettings
from ghostlive.session.files import run_file

from .conftest import DATA, read_only_mount, sample

GRACE = str(sample("grace_hopper.jpg"))
CLIP = str(DATA / "megamind_3s.mp4")


def no_job(*_: object) -> None:
    pytest.fail("the models were built: the output was not checked first")


def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(sample("astronaut.png").read_bytes())
    return folder


def test_a_video_output_that_is_an_existing_folder_is_refused_before_the_encode(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d11.mp4"
    out.mkdir()
    with pytest.raises(OutputError, match="is a folder, not a file name"):
        run_file(SwapSettings(), [PairSpec(GRACE)], CLIP, out, job=no_job)  # type: ignore[arg-type]
    assert main(["swap", "-q", "--source", GRACE, "--target", CLIP, "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ghostlive: error: {out}: is a folder, not a file name"]
    assert sorted(tmp_path.iterdir()) == [out] and not any(out.iterdir())


@pytest.mark.parametrize("name", ["out.jpg", "out.PNG", "out.mp4"])
def test_a_folder_job_refuses_an_output_named_like_a_file(tmp_path: Path, capsys, name: str) -> None:
    folder, out = photo_folder(tmp_path), tmp_path / name
    with pytest.raises(OutputError, match="give a folder name"):
        run_file(SwapSettings(), [PairSpec(GRACE)], str(folder), out, job=no_job)  # type: ignore[arg-type]
    assert main(["swap", "-q", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ghostlive: error: {out}: ") and "folder" in err[0]
    assert not out.exists()


def test_an_existing_folder_named_like_a_photo_still_takes_a_folder_job(tmp_path: Path) -> None:
    folder, out = photo_folder(tmp_path), tmp_path / "shots.jpg"
    out.mkdir()
    assert main(["swap", "-q", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["a.png"]


def test_a_folder_job_on_a_read_only_file_system_is_one_line_naming_the_folder(tmp_path: Path, capsys) -> None:
    folder, ro = photo_folder(tmp_path), tmp_path / "ro"
    ro.mkdir()
    if not read_only_mount(ro):
        pytest.skip("a read-only bind mount needs root and mount")
    try:
        out = ro / "fold"
        with pytest.raises(OutputError, match="cannot create the folder"):  # before any model loads
            run_file(SwapSettings(), [PairSpec(GRACE)], str(folder), out, job=no_job)  # type: ignore[arg-type]
        assert main(["swap", "-q", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"ghostlive: error: {out}: cannot create the folder (Read-only file system)"]
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_a_folder_job_whose_output_parent_is_missing_is_one_line(tmp_path: Path, capsys) -> None:
    folder, out = photo_folder(tmp_path), tmp_path / "nothere" / "fold"
    assert main(["swap", "-q", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ghostlive: error: {out}: the folder {out.parent} does not exist"]
