"""``ghostlive export --checkpoint X -o OUT`` checks OUT before any work: never the checkpoint itself (also
through a hard or symbolic link), only a ``.onnx`` name, never a folder; the checkpoint is left as it was and
nothing is written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from ghostlive.cli import main  # noqa: E402
from ghostlive.errors import OutputError  # noqa: E402
from ghostlive.export import onnx as exporter  # noqa: E402

from .test_export_files import released_layout  # noqa: E402


@pytest.fixture
def checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GHOST's 1-block generator layout; loading it at all fails the test (the output is refused first)."""
    path = released_layout("G_unet_1block", tmp_path / "G_unet_1block.pth")

    def loaded(*args: object) -> None:
        raise AssertionError("the checkpoint was loaded before the output was checked")

    monkeypatch.setattr(exporter, "read_state_dict", loaded)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(capsys: pytest.CaptureFixture[str], checkpoint: Path, output: Path | str) -> tuple[int, str]:
    code = main(["export", "--checkpoint", str(checkpoint), "-o", str(output)])
    return code, capsys.readouterr().err


def test_the_checkpoint_itself_is_refused_as_output(tmp_path: Path, capsys, checkpoint: Path) -> None:
    before = digest(checkpoint)
    hard, soft = tmp_path / "hard.pth", tmp_path / "soft.onnx"
    os.link(checkpoint, hard)
    soft.symlink_to(checkpoint)
    for output in (checkpoint, hard, soft):
        code, err = export(capsys, checkpoint, output)
        assert code == 1 and f"{output}: the output would overwrite an input" in err, err
        assert "Traceback" not in err and err.count("\n") == 1
    assert digest(checkpoint) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["G_unet_1block.pth", "hard.pth", "soft.onnx"]


def test_an_output_that_is_not_an_onnx_file_name_is_refused(tmp_path: Path, capsys, checkpoint: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    cases = {
        tmp_path / "arc.jpg": "an ONNX export needs a .onnx file name, not .jpg",
        tmp_path / "arc": "an ONNX export needs a .onnx file name, not one without a suffix",
        folder: "is a folder; name the .onnx file to write in it",
        tmp_path / "missing" / "arc.onnx": "the folder",
    }
    for output, message in cases.items():
        code, err = export(capsys, checkpoint, output)
        assert code == 1 and f"ghostlive: error: {output}: {message}" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["G_unet_1block.pth", "exports"]
    assert not list(folder.iterdir())


def test_check_output_accepts_any_case_of_onnx(tmp_path: Path) -> None:
    assert exporter.check_output(tmp_path / "arc.ONNX") == tmp_path / "arc.ONNX"
    with pytest.raises(OutputError, match="would overwrite an input"):
        exporter.check_output(tmp_path / "in.onnx", (tmp_path / "in.onnx",))
