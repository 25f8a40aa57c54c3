"""The model manager against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, ModelSpec

from .golden import manifests
from .http_server import Files, serve
from .onnx_graphs import arcface as arcface_graph
from .onnx_graphs import inswapper as inswapper_graph
from .onnx_graphs import landmark106 as landmark_graph
from .onnx_graphs import scrfd as scrfd_graph


def scrfd_model(seed: int = 0, padding: int = 1 << 20) -> bytes:
    """A stand-in with SCRFD's real signature (tests/onnx_graphs.py): random planted outputs and ``padding``
    random bytes (hex) in its doc string, so a download of it spans a few chunks."""
    import onnx

    rng = np.random.default_rng(seed)
    planted = {s: tuple(rng.random(((640 // s) ** 2 * 2, w), np.float32) for w in (1, 4, 10)) for s in (8, 16, 32)}
    model = onnx.load_from_string(scrfd_graph(planted))
    model.doc_string = rng.bytes(padding).hex()
    return model.SerializeToString()


PAYLOAD = scrfd_model()  # about 3 MB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def spec(url: str, sha256: str = "", name: str = "scrfd") -> ModelSpec:
    base = BY_NAME[name]
    return ModelSpec(base.name, base.filename, base.kind, base.description, base.licence, url=url, sha256=sha256)


def leftovers(store: ModelStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir() if p.name not in ("manifest.json", ".downloads"))


def test_good_download_is_recorded_and_verified(tmp_path: Path) -> None:
    assert len(PAYLOAD) > 2 * (1 << 20) and len(PAYLOAD) % (1 << 20)  # a few chunks, and a part of one
    store = ModelStore(tmp_path)
    files = Files({"/scrfd.onnx": PAYLOAD})
    seen = []
    with serve(files) as base:
        path = store.download(spec(f"{base}/scrfd.onnx", SHA), progress=lambda d, t: seen.append((d, t)))
    assert path.read_bytes() == PAYLOAD
    assert store.manifest()["scrfd_10g_bnkps.onnx"].sha256 == SHA
    assert store.verify() == {"scrfd_10g_bnkps.onnx": "ok"}
    assert store.path("scrfd_10g_bnkps.onnx") == path
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert not list(store.staging.iterdir())


def test_interrupted_download_resumes(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    files = Files({"/m.onnx": PAYLOAD}, truncate_at=len(PAYLOAD) // 3)
    with serve(files) as base:
        with pytest.raises(ModelError, match="again to resume"):
            store.download(spec(f"{base}/m.onnx", SHA))
        assert leftovers(store) == []  # nothing half-written among the models
        part = store.staging / "m.onnx.part"
        assert part.stat().st_size == len(PAYLOAD) // 3
        files.truncate_at = None
        path = store.download(spec(f"{base}/m.onnx", SHA))
    assert files.ranges_seen == [f"bytes={len(PAYLOAD) // 3}-"]
    assert path.read_bytes() == PAYLOAD and not part.exists()


def test_corrupted_download_is_deleted(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    bad = bytearray(PAYLOAD)
    bad[1000] ^= 0xFF
    with serve(Files({"/m.onnx": bytes(bad)})) as base, pytest.raises(ModelError, match="SHA-256 mismatch"):
        store.download(spec(f"{base}/m.onnx", SHA))
    assert leftovers(store) == [] and not list(store.staging.iterdir())
    assert store.manifest() == {}


def test_missing_file_on_the_server(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files()) as base, pytest.raises(ModelError, match="HTTP 404"):
        store.download(spec(f"{base}/nothing.onnx"))


def test_unreachable_server(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files()) as base:
        pass  # closed again: nothing listens on that port now
    with pytest.raises(ModelError, match="cannot reach"):
        store.download(spec(f"{base}/x.onnx"), timeout=5)


def test_file_changed_after_install_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files({"/m.onnx": PAYLOAD})) as base:
        path = store.download(spec(f"{base}/m.onnx"))  # no published hash: recorded on first install
    assert store.manifest()[path.name].sha256 == SHA
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="changed since it was installed"):
        store.path(path.name)
    assert store.verify() == {path.name: "changed"}


BUFFALO = {
    "2d106det.onnx": landmark_graph(np.zeros(212, np.float32)),
    "w600k_r50.onnx": arcface_graph(np.ones((3, 512), np.float32)),
    "det_10g.onnx": scrfd_model(padding=0),
}
"""Stand-ins of the buffalo_l pack's members, with their real signatures."""


def buffalo_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(f"buffalo_l/{name}", data)
    return buf.getvalue()


def test_archive_members_are_unpacked(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files({"/buffalo_l.zip": buffalo_zip(BUFFALO)})) as base:
        path = store.download(BY_NAME["2d106det"], url=f"{base}/buffalo_l.zip")  # one download installs the pack
    assert path.read_bytes() == BUFFALO["2d106det.onnx"]
    assert (store.root / "w600k_r50.onnx").read_bytes() == BUFFALO["w600k_r50.onnx"]
    assert set(store.verify()) == {"2d106det.onnx", "w600k_r50.onnx", "det_10g.onnx"}
    assert not list(store.staging.iterdir())


def test_import_verify_and_list_from_the_cli(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    src = tmp_path / "inswapper_128.onnx"
    model = inswapper_graph(np.eye(512, dtype=np.float32))  # stand-in with inswapper's real signature
    src.write_bytes(model)
    assert main(["models", "import", str(src)]) == 0
    assert src.read_bytes() == model  # the original is left alone
    assert main(["models", "verify"]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "1 model file(s) verified" in out and "inswapper_128.onnx" in out and "non-commercial" in out
    installed = tmp_path / "home" / "models" / "inswapper_128.onnx"
    installed.write_bytes(b"tampered")
    assert main(["models", "verify"]) == 1
    assert "failed verification: inswapper_128.onnx" in capsys.readouterr().err


def test_cli_download_from_a_local_server(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    with serve(Files({"/scrfd_10g_bnkps.onnx": PAYLOAD})) as base:
        code = main(["models", "download", "scrfd", "--url", f"{base}/scrfd_10g_bnkps.onnx"])
    assert code == 0
    assert (tmp_path / "home" / "models" / "scrfd_10g_bnkps.onnx").read_bytes() == PAYLOAD
    assert "MB" in capsys.readouterr().err  # progress was shown


def test_import_of_missing_or_empty_files(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    assert main(["models", "import", str(tmp_path / "nope.onnx")]) == 1
    empty = tmp_path / "empty.onnx"
    empty.touch()
    assert main(["models", "import", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "nope.onnx: no such model file" in err and "empty.onnx: the model file is empty" in err


def imported(tmp_path: Path, name: str, data: bytes) -> tuple[ModelStore, Path]:
    src = tmp_path / name
    src.write_bytes(data)
    return ModelStore(tmp_path / "home"), src


def nothing_stored(store: ModelStore) -> bool:
    return store.manifest() == {} and leftovers(store) == [] and not any((store.root / ".downloads").glob("*"))


def test_import_checks_the_onnx_signature(tmp_path: Path) -> None:
    """Stand-in graphs (tests/onnx_graphs.py) with the real models' signatures are accepted under their names;
    a graph under another model's name is refused and nothing is stored."""
    store, src = imported(tmp_path, "w600k_r50.onnx", arcface_graph(np.ones((3, 512), np.float32)))
    assert store.import_file(src).name == "w600k_r50.onnx"
    store, src = imported(tmp_path, "2d106det.onnx", landmark_graph(np.zeros(212, np.float32)))
    assert store.import_file(src).name == "2d106det.onnx"
    assert set(store.verify()) == {"w600k_r50.onnx", "2d106det.onnx"}

    wrong = ModelStore(tmp_path / "wrong")
    _, src = imported(tmp_path, "x.onnx", landmark_graph(np.zeros(212, np.float32)))
    with pytest.raises(
        ModelError,
        match=r"x.onnx: not the w600k model \(imported as w600k_r50.onnx\): its inputs: no tensor named 'input.1'",
    ):
        wrong.import_file(src, "w600k_r50.onnx")
    with pytest.raises(
        ModelError, match=r"not the inswapper model \(imported as inswapper_128.onnx\): its inputs: expected 2, found 1"
    ):
        wrong.import_file(src, "inswapper_128.onnx")
    _, src = imported(tmp_path, "swapper.onnx", inswapper_graph(np.eye(512, dtype=np.float32)))
    with pytest.raises(ModelError, match=r"target has shape 1×3×128×128, expected N×3×256×256"):
        wrong.import_file(src, "ghost-2.onnx")
    assert nothing_stored(wrong)


def test_import_of_a_file_that_is_not_onnx(tmp_path: Path) -> None:
    store, src = imported(tmp_path, "inswapper_128.onnx", b"hello\n")
    with pytest.raises(ModelError, match=r"inswapper_128.onnx: not a loadable ONNX model"):
        store.import_file(src)
    assert nothing_stored(store)
    assert store.verify() == {}
    assert sorted(p.name for p in store.root.iterdir()) == []  # not even an empty .downloads folder


def test_a_missing_export_names_the_download_that_makes_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelError, match=r"ghost-arcface\.onnx is not installed; run: ghostlive models download gh"):
        store.path("ghost-arcface.onnx")  # the ONNX export of ghost-arcface's checkpoint (--embedder arcface-ghost)
    with pytest.raises(ModelError, match=r"run: ghostlive models download w600k$"):
        store.path("w600k_r50.onnx")


def ghost_checkpoint(path: Path, entries: list, drop: int = 0, fill: float = 0.0) -> Path:
    """A state_dict with exactly the released checkpoint's keys and shapes (from the golden manifest); each
    tensor is one value (``fill``) broadcast to its shape, so the file stays a few hundred KB."""
    import torch

    state = {k: torch.full((), fill, dtype=getattr(torch, dt)).expand(shape) for k, shape, dt in entries[drop:]}
    torch.save(state, path)
    return path


def test_import_checks_checkpoint_keys(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    entries = manifests()["arcface_backbone_iresnet100"]
    store = ModelStore(tmp_path / "home")
    good = ghost_checkpoint(tmp_path / "backbone.pth", entries)
    assert store.import_file(good).name == "backbone.pth"
    assert store.verify() == {"backbone.pth": "ok"}

    wrong = ModelStore(tmp_path / "wrong")
    short = ghost_checkpoint(tmp_path / "short.pth", entries, drop=3)
    with pytest.raises(
        ModelError,
        match=r"short.pth: not the ghost-arcface checkpoint \(imported as backbone.pth\): 3 missing key\(s\)",
    ):
        wrong.import_file(short, "backbone.pth")
    with pytest.raises(
        ModelError, match=r"backbone.pth: not the ghost-1 checkpoint \(imported as G_unet_1block.pth\): .*missing"
    ):
        wrong.import_file(good, "G_unet_1block.pth")  # ArcFace weights under a generator's name
    assert nothing_stored(wrong)


def test_import_checks_the_eye_loss_landmark_network(tmp_path: Path) -> None:
    """``WFLW_4HG.pth`` (GHOST's eye-loss FAN) is checked against the FAN definition, not parsed as a generator."""
    pytest.importorskip("torch")
    from ghostlive.export.fan import FAN

    entries = [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in FAN().state_dict().items()]
    store = ModelStore(tmp_path / "home")
    good = ghost_checkpoint(tmp_path / "WFLW_4HG.pth", entries)
    assert store.import_file(good).name == "WFLW_4HG.pth"
    (tmp_path / "other").mkdir()
    bad = ghost_checkpoint(tmp_path / "other" / "WFLW_4HG.pth", entries, drop=2)
    with pytest.raises(ModelError, match="missing"):
        ModelStore(tmp_path / "home2").import_file(bad)
