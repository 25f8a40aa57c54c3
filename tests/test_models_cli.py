"""``ghostlive models list / remove`` and the model folder when it is read-only or not a folder (QA pass 15,
defects 7, 8 and the list alignment of 12). Stand-in ONNX graphs only: nothing is downloaded."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import ConfigError, OutputError
from ghostlive.hub import ModelStore
from ghostlive.models.personal import Personal, personal_models, register
from ghostlive.models.registry import MODELS

from .conftest import DATA, read_only_mount, sample
from .onnx_graphs import arcface as arcface_graph
from .onnx_graphs import inswapper as inswapper_graph


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GHOSTLIVE_HOME with a stand-in w600k (the real signature) imported through the CLI."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    src = tmp_path / "w600k_r50.onnx"
    src.write_bytes(arcface_graph(np.ones((3, 512), np.float32)))
    assert main(["models", "import", str(src)]) == 0
    return tmp_path / "home"


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    """``models list`` as {model name: [its row, the lines under it]}."""
    assert main(["models", "list"]) == 0
    rows: dict[str, list[str]] = {}
    last = ""
    for line in capsys.readouterr().out.splitlines():
        if re.match(r"^  \S", line):
            last = line.split()[0]
            rows[last] = [line]
        elif line.startswith("   ") and last:
            rows[last].append(line)
    return rows


def add_personal(home: Path, name: str = "me") -> ModelStore:
    """A personal swapper registered as ``train finetune`` does: both files in the store, then the index."""
    store = ModelStore(home)
    for filename, data in ((f"{name}.pth", b"checkpoint"), (f"{name}.onnx", b"generator")):
        staged = store.staging / filename
        staged.write_bytes(data)
        store.add_file(staged, filename, "test stand-in")
    register(store, Personal(name, "ghost-2", f"{name}.pth", f"{name}.onnx", 3))
    return store


# defect 7: list checks the files -----------------------------------------------------------------------------
def test_list_says_missing_and_changed_like_verify(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    installed = home / "models" / "w600k_r50.onnx"
    good = installed.read_bytes()
    assert "  installed " in listed(capsys)["w600k"][0]

    installed.unlink()
    rows = listed(capsys)
    assert " missing " in rows["w600k"][0] and "installed" not in rows["w600k"][0]
    assert "uses: w600k (missing), det_10g (missing)" in rows["inswapper"][1]
    assert main(["models", "verify"]) == 1 and "missing  w600k_r50.onnx" in capsys.readouterr().out

    installed.write_bytes(good + b"\0")  # changed after install
    rows = listed(capsys)
    assert " changed (run models verify) " in rows["w600k"][0]
    assert "uses: w600k (changed)" in rows["inswapper"][1]
    assert main(["models", "verify"]) == 1 and "changed  w600k_r50.onnx" in capsys.readouterr().out


def test_list_shows_personal_swappers(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert "personal swappers: none" in capsys.readouterr().out
    store = add_personal(home)
    rows = listed(capsys)
    assert re.search(r"^  me +me\.onnx +installed +personal swapper from ghost-2, 3 steps", rows["me"][0])
    assert "uses: ghost-arcface (missing)" in rows["me"][1]
    (store.root / "me.pth").unlink()
    assert "installed, checkpoint missing" in listed(capsys)["me"][0]


def test_uses_counts_an_installed_export(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A swapper runs the ONNX export of what it uses: ghost-arcface.onnx alone is ghost-arcface installed."""
    store = add_personal(home)
    (store.staging / "a.onnx").write_bytes(b"stand-in")
    store.add_file(store.staging / "a.onnx", "ghost-arcface.onnx", "test stand-in")
    rows = listed(capsys)
    for name in ("ghost-2", "me"):
        assert "uses: ghost-arcface (installed), 2d106det (missing)" in rows[name][1]


def test_list_columns_line_up(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every row's file and description start in the same columns (restoreformer_plus_plus.onnx and a long
    personal name included)."""
    texts = {m.name: (m.filename, m.description) for m in MODELS}

    def starts() -> set[tuple[int, int]]:
        rows = listed(capsys)
        assert set(rows) == set(texts)
        return {(lines[0].index(f" {texts[n][0]} ") + 1, lines[0].index(texts[n][1])) for n, lines in rows.items()}

    assert len(starts()) == 1, starts()
    add_personal(home, "a-rather-long-personal-name")
    texts["a-rather-long-personal-name"] = ("a-rather-long-personal-name.onnx", "personal swapper from")
    assert len(starts()) == 1, starts()


# models remove ------------------------------------------------------------------------------------------------
def test_remove_a_registry_model(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "inswapper_128.onnx").write_bytes(inswapper_graph(np.eye(512, dtype=np.float32)))
    assert main(["models", "import", str(tmp_path / "inswapper_128.onnx")]) == 0
    capsys.readouterr()
    assert main(["models", "remove", "w600k"]) == 0  # asks nothing; says what still uses it
    assert capsys.readouterr().out == "removed w600k: w600k_r50.onnx (still installed and using it: inswapper)\n"
    assert main(["models", "remove", "inswapper_128.onnx"]) == 0  # a file name works too
    assert not (home / "models" / "w600k_r50.onnx").exists()
    assert ModelStore(home).manifest() == {}
    assert "  download " in listed(capsys)["w600k"][0]
    assert main(["models", "remove", "w600k"]) == 1
    assert capsys.readouterr().err == "ghostlive: error: w600k is not installed; nothing to remove\n"
    assert main(["models", "remove", "nobody"]) == 1
    assert capsys.readouterr().err == "ghostlive: error: unknown model 'nobody'; see: ghostlive models list\n"
    assert main(["models", "remove", "../manifest.json"]) == 1
    assert (home / "models" / "manifest.json").is_file()


def test_remove_a_personal_swapper(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = add_personal(home)
    add_personal(home, "other")
    engines = store.root / "engines"
    engines.mkdir()
    for leftover in ("me.int8.onnx", "me.int8.json", "other.int8.json"):  # what models optimise keeps
        (engines / leftover).write_text("{}")
    work = store.root.parent / "training" / "me"  # the fine-tune's crops and run (its person's)
    work.mkdir(parents=True)
    assert main(["models", "remove", "me"]) == 0
    out = capsys.readouterr().out
    assert "removed me: me.onnx, me.pth" in out and f"work folder is kept ({work})" in out and work.is_dir()
    assert set(personal_models(store)) == {"other"}
    assert set(store.manifest()) == {"w600k_r50.onnx", "other.pth", "other.onnx"}
    assert sorted(p.name for p in engines.iterdir()) == ["other.int8.json"]
    assert not (store.root / "me.onnx").exists() and not (store.root / "me.pth").exists()
    assert "me" not in listed(capsys)
    assert main(["models", "remove", "me"]) == 1


def test_interrupted_remove_leaves_an_unrecorded_file_and_can_be_redone(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Path, missing_ok: bool = False) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Path, "unlink", fail)
        assert main(["models", "remove", "w600k"]) == 130
    assert (home / "models" / "w600k_r50.onnx").is_file()
    assert ModelStore(home).manifest() == {}  # forgotten first: shown as not installed, never as installed
    assert "  download " in listed(capsys)["w600k"][0]
    assert main(["models", "remove", "w600k"]) == 0
    assert not (home / "models" / "w600k_r50.onnx").exists()


# defect 8: a model folder that cannot be written, or is not a folder -----------------------------------------
def test_home_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    monkeypatch.setenv("GHOSTLIVE_HOME", str(afile))
    src = tmp_path / "w600k_r50.onnx"
    src.write_bytes(arcface_graph(np.ones((3, 512), np.float32)))
    for argv in (["list"], ["verify"], ["import", str(src)], ["remove", "w600k"]):
        assert main(["models", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"ghostlive: error: {afile}: not a folder") and err.count("\n") == 1, err
    with pytest.raises(ConfigError, match="not a folder"):
        ModelStore(afile).manifest()
    assert afile.read_text() == "not a folder"


@pytest.fixture
def read_only(home: Path) -> Iterator[Path]:
    """``home`` made read-only: a read-only bind mount as root (root ignores permission bits), else chmod."""
    empty = home.parent / "empty_home"
    empty.mkdir()
    if os.geteuid() == 0:
        mounted = [p for p in (home, empty) if read_only_mount(p)]
        if len(mounted) < 2:
            for p in mounted:
                subprocess.run(["umount", str(p)], check=True)
            pytest.skip("needs mount --bind (root) to make a read-only folder")
        yield home
        for p in mounted:
            subprocess.run(["umount", str(p)], check=True)
        return
    for p in (home / "models", home, empty):
        p.chmod(0o555)
    yield home
    for p in (home / "models", home, empty):
        p.chmod(0o755)


def test_read_only_model_folder(read_only: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    before = sorted(p.name for p in (read_only / "models").iterdir())
    assert "  installed " in listed(capsys)["w600k"][0]
    assert main(["models", "verify"]) == 0
    out = tmp_path / "out.png"
    messi = str(DATA / "messi5.jpg")
    code = main(["swap", "--source", str(sample("grace_hopper.jpg")), "--target", messi, "--reference", messi,
                 "-o", str(out), "-q"])  # fmt: skip
    assert code == 0 and out.is_file()  # the installed ArcFace picks the face from a read-only folder
    from ghostlive.optimise import int8_status  # doctor's look at the model folder

    assert int8_status(ModelStore(read_only))[0] == "ok"

    src = tmp_path / "w600k_r50.onnx"
    src.write_bytes(arcface_graph(np.ones((3, 512), np.float32)))
    for argv in (["import", str(src)], ["remove", "w600k"], ["download", "det_10g"], ["optimise", "ghost-2"]):
        assert main(["models", *argv]) == 1
        err = capsys.readouterr().err
        reason = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
        assert err == f"ghostlive: error: {read_only / 'models'}: cannot write in the model folder ({reason})\n", argv
    assert sorted(p.name for p in (read_only / "models").iterdir()) == before
    with pytest.raises(OutputError):
        ModelStore(read_only).writable()

    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "empty_home"))  # read-only, without a models folder
    assert main(["models", "list"]) == 0 and main(["models", "verify"]) == 0
    assert "0 model file(s) verified" in capsys.readouterr().out
    assert os.listdir(tmp_path / "empty_home") == []
