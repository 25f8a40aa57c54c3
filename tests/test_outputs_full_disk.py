"""A full disk while importing a model or exporting to ONNX is one line naming where the file was going and why
(``no space left on device``), not a raw OSError; nothing half-written stays behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostlive.cli import main

from .conftest import sample


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (as root, where mount works): too small for any model file."""
    folder = tmp_path / "small"
    folder.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs mount (root) to make a small file system")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("mount -t tmpfs is not allowed here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_importing_a_model_onto_a_full_disk(full_disk: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    model = tmp_path / "xseg_1.onnx"
    shutil.copy(sample("astronaut.png"), model)  # 465 KB: the copy fails before its content is looked at
    monkeypatch.setenv("GHOSTLIVE_HOME", str(full_disk))
    assert main(["models", "import", str(model)]) == 1
    dest = full_disk / "models" / "xseg_1.onnx"
    assert capsys.readouterr().err.strip() == (
        f"ghostlive: error: {dest}: cannot copy it into the model folder (no space left on device)"
    )
    assert sorted(p.name for p in (full_disk / "models").iterdir()) == []


def test_exporting_onto_a_full_disk(full_disk: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from ghostlive.errors import OutputError
    from ghostlive.export.onnx import export_arcface

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 112 * 112, 8))  # 1.2 MB of weights
    out = full_disk / "x.onnx"
    with pytest.raises(OutputError) as err:
        export_arcface(model, out)  # type: ignore[arg-type]
    assert str(err.value) == f"{out}: cannot write the export (no space left on device)"
    assert list(full_disk.iterdir()) == []


def test_a_link_to_another_file_system_is_written_through(full_disk: Path, tmp_path: Path) -> None:
    """A writer whose temporary file lies beside the link, not the target (a rename across file systems fails):
    the file is copied beside the target first, the target keeps its mode."""
    from ghostlive.media.paths import publish

    target = full_disk / "settings.toml"
    target.write_text("old = 1\n")
    target.chmod(0o640)
    link = tmp_path / "settings.toml"
    link.symlink_to(target)
    tmp = tmp_path / ".settings.toml.part"
    tmp.write_text("new = 2\n")
    publish(tmp, link)
    assert link.is_symlink() and target.read_text() == "new = 2\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert not tmp.exists() and sorted(p.name for p in full_disk.iterdir()) == ["settings.toml"]
