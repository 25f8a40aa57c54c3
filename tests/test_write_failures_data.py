"""A dataset or eval report that cannot be written (disk full, read-only) stops ``train prepare`` and ``eval`` with
one line naming the file, and records nothing as done: a rerun with room prepares or scores what was left."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ghostlive.cli import main

from .conftest import DATA, read_only_mount, sample

VIDEO = DATA / "megamind_3s.mp4"
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="train needs torch")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mounts a fresh tmpfs with the given options (``size=150k``...); skips where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        folder = tmp_path / f"fs{len(mounted)}"
        folder.mkdir()
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root")
        cmd = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
        if subprocess.run(cmd, capture_output=True).returncode:
            pytest.skip("mounting a tmpfs is not allowed here")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=True)


def remount(folder: Path, size: str) -> None:
    """More room on a tmpfs of :func:`tmpfs` (the user freed some space)."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)


def ghostlive(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err.strip()


def crops(dataset: Path) -> list[Path]:
    return sorted(dataset.rglob("*.jpg"))


@needs_torch
def test_prepare_on_a_full_disk_stops_and_a_rerun_prepares_the_whole_video(tmpfs, tmp_path: Path, capsys) -> None:
    code, out, _ = ghostlive(capsys, "train", "prepare", VIDEO, "-o", tmp_path / "ref", "--every", "4", "-q")
    assert code == 0
    expected = len(crops(tmp_path / "ref"))  # the whole video where there is room
    disk = tmpfs("size=150k")  # room for a few crops only
    dataset = disk / "ds"
    code, out, err = ghostlive(capsys, "train", "prepare", VIDEO, "-o", dataset, "--every", "4", "-q")
    assert code == 1 and out == ""
    assert err.startswith(f"ghostlive: error: {dataset}/") and err.endswith("(No space left on device)")
    assert "\n" not in err
    manifest = dataset / "manifest.json"
    assert not manifest.exists() or not json.loads(manifest.read_text())["done"]  # the video is not done
    assert crops(dataset) == []  # what the stopped video wrote is gone with it (room freed)
    remount(disk, "8m")
    code, out, err = ghostlive(capsys, "train", "prepare", VIDEO, "-o", dataset, "--every", "4", "-q")
    assert code == 0 and f"{expected} crops of 1 identities" in out and "0 sources done before" in out
    assert len(crops(dataset)) == expected
    assert len(json.loads(manifest.read_text())["images"]) == expected


@needs_torch
def test_a_manifest_that_cannot_be_written_is_one_line_naming_it(tmpfs, capsys) -> None:
    # four inodes: the mount, the dataset folder, the identity folder and the crop; none left for the manifest
    dataset = tmpfs("size=1m,nr_inodes=4") / "ds"
    code, _, err = ghostlive(capsys, "train", "prepare", sample("grace_hopper.jpg"), "-o", dataset, "-q")
    assert code == 1
    manifest = dataset / "manifest.json"
    assert err == f"ghostlive: error: {manifest}: cannot write the dataset's manifest (No space left on device)"
    assert crops(dataset) == [] and not manifest.exists()


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    if not read_only_mount(folder):
        pytest.skip("a read-only bind mount needs root and mount")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@needs_torch
def test_prepare_into_a_read_only_folder_is_one_line(read_only: Path, capsys) -> None:
    code, _, err = ghostlive(capsys, "train", "prepare", sample("grace_hopper.jpg"), "-o", read_only / "ds", "-q")
    assert code == 1
    assert err == f"ghostlive: error: {read_only / 'ds'}: cannot write in the dataset folder (Read-only file system)"


@pytest.fixture
def faces(tmp_path: Path) -> tuple[Path, Path]:
    """Two sources, the same two photos as targets: two pairs (nobody onto themself)."""
    src, tgt = tmp_path / "sources", tmp_path / "targets"
    for folder in (src, tgt):
        folder.mkdir()
        for name in ("astronaut.png", "grace_hopper.jpg"):
            shutil.copy(sample(name), folder)
    return src, tgt


def test_eval_into_a_read_only_folder_is_one_line(read_only: Path, faces, capsys) -> None:
    report = read_only / "evr"
    code, _, err = ghostlive(capsys, "eval", "--sources", faces[0], "--targets", faces[1], "-o", report, "-q")
    assert code == 1
    assert err == f"ghostlive: error: {report}: cannot write in the report folder (Read-only file system)"


@pytest.mark.slow
def test_eval_on_a_full_disk_stops_and_a_rerun_scores_every_pair(tmpfs, faces, capsys) -> None:
    disk = tmpfs("size=650k")  # room for one swapped photo (~570 KB), not two
    report = disk / "e2"
    argv = ("eval", "--sources", faces[0], "--targets", faces[1], "-o", report, "-q")
    code, _, err = ghostlive(capsys, *argv)
    assert code == 1
    assert err.startswith(f"ghostlive: error: {report}/") and err.endswith("(No space left on device)")
    assert "\n" not in err
    records = [json.loads(p.read_text()) for p in (report / "pairs").rglob("*.json")]
    assert len(records) < 2 and all(r["status"] == "ok" for r in records)  # no write failure kept as a result
    remount(disk, "8m")
    code, out, err = ghostlive(capsys, *argv)
    assert code == 0 and "(2 of 2 pairs scored)" in out, err
    assert len(list((report / "pairs").rglob("*.json"))) == 2
