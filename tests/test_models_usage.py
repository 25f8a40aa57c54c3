"""``models import --as``, ``models list``, ``models optimise``, ``export`` and the manifest: what the user is
told (QA pass 16, defects 2, 6, 7, 8 and 9). Stand-in ONNX graphs and tiny checkpoints; nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import ConfigError, ModelError
from ghostlive.hub import ModelStore

from .golden import manifests
from .onnx_graphs import arcface as arcface_graph
from .test_hub import ghost_checkpoint, leftovers


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A loadable ONNX model of a name the registry does not know."""
    src = tmp_path / "some_model.onnx"
    src.write_bytes(arcface_graph(np.ones((3, 512), np.float32)))
    return src


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The last line of what ``argv`` printed, after checking it stopped as a usage error (exit status 2)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unexpected error" not in err
    return err.splitlines()[-1]


# defect 2: --as ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../outside.onnx", "not a plain file name"),
        ("/abs/path.onnx", "not a plain file name"),
        ("sub/x.onnx", "not a plain file name"),
        ("sub\\x.onnx", "not a plain file name"),
        (".hidden.onnx", "a hidden file name"),
        ("..", "not a plain file name"),
        ("", "a file name is needed"),
    ],
)
def test_import_as_takes_a_plain_file_name(
    name: str, problem: str, home: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = usage_error(["models", "import", str(model), "--as", name], capsys)
    assert line.startswith(f"ghostlive models import: error: argument --as: {name!r}: {problem}")
    assert not (home.parent / "outside.onnx").exists() and not Path("/abs/path.onnx").exists()
    with pytest.raises(ConfigError, match=problem):  # the store itself refuses it too (the GUI, training)
        ModelStore(home).import_file(model, name)
    assert ModelStore(home).manifest() == {} and leftovers(ModelStore(home)) == []


def test_a_hidden_source_file_needs_another_name(home: Path, model: Path, capsys) -> None:
    hidden = model.with_name(".mine.onnx")
    model.rename(hidden)
    assert main(["models", "import", str(hidden)]) == 1
    assert capsys.readouterr().err == (
        f"ghostlive: error: {hidden}: a hidden file name (it starts with '.'); store it under another name with "
        "--as NAME\n"
    )
    assert main(["models", "import", str(hidden), "--as", "mine.onnx"]) == 0
    assert main(["models", "remove", "mine.onnx"]) == 0


# defect 7: files of names the registry does not know ---------------------------------------------------------
def test_list_shows_other_files(home: Path, model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("foo.onnx", "My Model.onnx"):
        assert main(["models", "import", str(model), "--as", name]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("other files (imported under names ghostlive does not know; remove: ghostlive models remove FILE):")
    assert out[at + 1 :] == ["  My Model.onnx installed", "  foo.onnx      installed"]
    (home / "models" / "foo.onnx").unlink()
    assert main(["models", "remove", "My Model.onnx"]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "  foo.onnx missing"


# defect 8: the manifest ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["[]", '{"x.onnx": []}', '{"x.onnx": {"filename": "x.onnx"}}', "{"])
def test_a_damaged_manifest_is_named(text: str, home: Path, model: Path, capsys) -> None:
    manifest = home / "models" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(text)
    for argv in (["list"], ["verify"], ["import", str(model)]):
        assert main(["models", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"ghostlive: error: {manifest}: the model manifest is damaged (") and err.count("\n") == 1
    assert sorted(os.listdir(home / "models")) == ["manifest.json"]  # the import copied nothing in
    assert manifest.read_text() == text


def test_uses_says_when_the_export_is_missing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ghost-2 runs ghost-arcface.onnx: the checkpoint alone is not enough, and the list says how to make it."""
    pytest.importorskip("torch")
    backbone = ghost_checkpoint(home.parent / "backbone.pth", manifests()["arcface_backbone_iresnet100"])
    assert main(["models", "import", str(backbone)]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    arcface = "ghost-arcface (installed, not exported: run ghostlive export ghost-arcface)"
    assert f"uses: {arcface}, 2d106det (missing)" in capsys.readouterr().out
    with pytest.raises(ModelError, match=r"ghost-arcface.onnx is not installed; run: ghostlive export ghost-arcface$"):
        ModelStore(home).path("ghost-arcface.onnx")


def test_doctor_with_a_home_that_is_a_file(tmp_path: Path, monkeypatch) -> None:
    from ghostlive.optimise import int8_status

    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.setenv("GHOSTLIVE_HOME", str(afile))
    status, detail, _ = int8_status()
    assert status == "warn" and detail.startswith(f"{afile}: not a folder, so it cannot hold the model folder")
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "nothing_yet"))
    assert int8_status() == ("ok", "no GHOST generator installed", "")
    assert not (tmp_path / "nothing_yet").exists()


# defect 6: optimise names the export ------------------------------------------------------------------------
def test_optimise_an_imported_checkpoint_that_is_not_exported(home: Path, capsys) -> None:
    pytest.importorskip("torch")
    checkpoint = ghost_checkpoint(home.parent / "G_unet_1block.pth", manifests()["G_unet_1block"])
    assert main(["models", "import", str(checkpoint)]) == 0
    assert main(["models", "optimise", "ghost-1", "--runs", "1"]) == 1
    err = capsys.readouterr().err
    assert err == "ghostlive: error: ghost-1 is not exported to ONNX (ghost-1.onnx); run: ghostlive export ghost-1\n"
    assert main(["models", "optimise", "ghost-2", "--runs", "1"]) == 1
    err = capsys.readouterr().err
    assert err == "ghostlive: error: ghost-2 is not installed (ghost-2.onnx); run: ghostlive models download ghost-2\n"


# defect 9: export's arguments -------------------------------------------------------------------------------
def test_export_usage_errors(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = "ghost-1, ghost-2, ghost-3, ghost-arcface, ghost-sr"
    assert usage_error(["export"], capsys) == (
        f"ghostlive export: error: name an installed checkpoint ({names}) or give --checkpoint FILE -o OUT.onnx"
    )
    assert usage_error(["export", "ghost-9"], capsys) == (
        f"ghostlive export: error: argument name: unknown checkpoint 'ghost-9'; choose from {names}"
    )
    out = tmp_path / "a.onnx"
    assert usage_error(["export", "ghost-2", "--checkpoint", "X.pth", "-o", str(out)], capsys) == (
        "ghostlive export: error: give a checkpoint name (ghost-2) or --checkpoint FILE, not both"
    )
    assert usage_error(["export", "ghost-2", "-o", str(out)], capsys) == (
        "ghostlive export: error: -o goes with --checkpoint: ghost-2 is exported into the model folder"
    )
    assert usage_error(["export", "--checkpoint", "X.pth"], capsys) == (
        "ghostlive export: error: --checkpoint needs -o OUT.onnx"
    )
    assert not out.exists() and not (home / "models").exists()
    assert main(["export", "ghost-2"]) == 1  # well formed: not installed is an error, not a usage error
    assert "G_unet_2blocks.pth is not installed; run: ghostlive models download ghost-2" in capsys.readouterr().err
