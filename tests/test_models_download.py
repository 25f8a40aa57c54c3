"""``models download`` checks what it installs as ``models import`` does, and ``--url`` is a usable address for a
model not installed yet (QA pass 16, defects 1 and 5). A real HTTP server on 127.0.0.1 and file:// URLs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME

from .http_server import Files, serve
from .onnx_graphs import landmark106 as landmark_graph
from .test_hub import BUFFALO, PAYLOAD, buffalo_zip, leftovers, spec

NOT_A_MODEL = pickle.dumps({"encoder.conv1.0.weight": [0.0] * 16})
"""A pickle, as a .pth checkpoint is: what the QA run installed as scrfd_10g_bnkps.onnx."""


def nothing_installed(store: ModelStore) -> bool:
    return store.manifest() == {} and leftovers(store) == [] and not any((store.root / ".downloads").glob("*"))


def test_a_download_that_is_not_its_model_is_refused_and_deleted(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files({"/scrfd_10g_bnkps.onnx": NOT_A_MODEL})) as base:
        url = f"{base}/scrfd_10g_bnkps.onnx"
        with pytest.raises(ModelError, match=rf"^{url}: not a loadable ONNX model"):
            store.download(spec(url))
    assert nothing_installed(store)  # not kept to resume either: it is complete and wrong

    another = landmark_graph(np.zeros(212, np.float32))  # a loadable model, not a detector
    wrong = r"x.onnx: not the scrfd model \(downloaded as scrfd_10g_bnkps.onnx\)"
    with serve(Files({"/x.onnx": another})) as base, pytest.raises(ModelError, match=wrong):
        store.download(spec(f"{base}/x.onnx"))
    assert nothing_installed(store)


def test_cli_download_of_a_checkpoint_as_a_detector(tmp_path: Path, capsys, monkeypatch) -> None:
    """The QA case: ``models download scrfd --url file:///…/backbone.pth`` installed a pickle as the detector."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    backbone = tmp_path / "backbone.pth"
    backbone.write_bytes(NOT_A_MODEL)
    assert main(["models", "download", "scrfd", "--url", backbone.as_uri()]) == 1
    err = capsys.readouterr().err
    assert f"ghostlive: error: {backbone.as_uri()}: not a loadable ONNX model" in err
    assert err.endswith("\n") and "MB" in err  # the progress line was ended before the error
    assert nothing_installed(ModelStore(tmp_path / "home"))
    assert main(["models", "verify"]) == 0 and "0 model file(s) verified" in capsys.readouterr().out

    good = tmp_path / "scrfd_10g_bnkps.onnx"
    good.write_bytes(PAYLOAD)
    assert main(["models", "download", "scrfd", "--url", good.as_uri()]) == 0
    assert ModelStore(tmp_path / "home").verify() == {"scrfd_10g_bnkps.onnx": "ok"}


def test_an_archive_with_a_wrong_member_installs_none_of_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    members = {**BUFFALO, "w600k_r50.onnx": BUFFALO["2d106det.onnx"]}  # a landmark model under ArcFace's name
    wrong = r"buffalo_l.zip#buffalo_l/w600k_r50.onnx: not the w600k model: its inputs"
    with serve(Files({"/buffalo_l.zip": buffalo_zip(members)})) as base, pytest.raises(ModelError, match=wrong):
        store.download(BY_NAME["2d106det"], url=f"{base}/buffalo_l.zip")
    assert nothing_installed(store)  # 2d106det was good, and is not installed alone either


def test_published_hash_is_still_checked(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with serve(Files({"/m.onnx": PAYLOAD})) as base, pytest.raises(ModelError, match="SHA-256 mismatch"):
        store.download(spec(f"{base}/m.onnx", "0" * 64))
    assert nothing_installed(store)


def test_download_help_claims_no_published_hashes(capsys) -> None:
    """No registry model has a published SHA-256: the help says what is checked instead."""
    assert not any(m.sha256 for m in BY_NAME.values())
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "verifies SHA-256" not in text and "checked to be the model it names" in text


# defect 5: --url ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["notaurl", "ftp://example.org/x.onnx", "http://", "/tmp/x.onnx"])
def test_a_bad_url_is_a_usage_error(url: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as stop:
        main(["models", "download", "scrfd", "--url", url])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --url: {url!r} is not a download address: give an http://, https:// or file:// URL" in err
    assert "unexpected error" not in err


def test_the_store_refuses_a_bad_url_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"not a download address: 'notaurl'"):
        ModelStore(tmp_path).download(spec("notaurl"))


def test_url_for_an_installed_model_says_so(tmp_path: Path, capsys, monkeypatch) -> None:
    """An explicit --url is not silently ignored: the model is installed, and how to replace it is said."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    good = tmp_path / "scrfd_10g_bnkps.onnx"
    good.write_bytes(PAYLOAD)
    assert main(["models", "download", "scrfd", "--url", good.as_uri()]) == 0
    capsys.readouterr()
    for url in (f"{tmp_path.as_uri()}/other.onnx", "http://127.0.0.1:9/nothing-listens-here.onnx"):
        assert main(["models", "download", "scrfd", "--url", url]) == 1
        err = capsys.readouterr().err
        assert err == (
            f"ghostlive: error: scrfd is installed already ({tmp_path / 'home' / 'models' / good.name}), so --url "
            "was not used; to replace it, run: ghostlive models remove scrfd, then download it again\n"
        )
    assert ModelStore(tmp_path / "home").verify() == {"scrfd_10g_bnkps.onnx": "ok"}
    assert main(["models", "download", "scrfd"]) == 0  # without --url: already there, nothing to do


def test_a_checkpoint_is_not_fetched_where_it_cannot_be_checked(tmp_path: Path, monkeypatch) -> None:
    """Without PyTorch (a core install) a .pth download is refused before anything is fetched, with the install
    command: it could be neither checked nor exported, and hundreds of MB would be fetched for nothing."""
    import sys

    store = ModelStore(tmp_path)
    files = Files({"/G_unet_2blocks.pth": NOT_A_MODEL})
    monkeypatch.setitem(sys.modules, "torch", None)  # as where the torch extra is not installed
    with serve(files) as base, pytest.raises(ModelError, match=r"needs PyTorch; run: pip install 'ghostlive\[torch\]'"):
        store.download(spec(f"{base}/G_unet_2blocks.pth", name="ghost-2"))
    assert files.requests == [] and nothing_installed(store)


def test_a_download_interrupted_while_checked_is_kept_to_resume(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C while a complete download is hashed and checked keeps it (the next run resumes from it, fetching
    nothing more); only a file the check refuses is deleted."""
    from ghostlive.models import validate

    store = ModelStore(tmp_path)

    def interrupted(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "check_model_file", interrupted)
    with serve(Files({"/scrfd_10g_bnkps.onnx": PAYLOAD})) as base, pytest.raises(KeyboardInterrupt):
        store.download(spec(f"{base}/scrfd_10g_bnkps.onnx"))
    assert [p.read_bytes() == PAYLOAD for p in (store.root / ".downloads").glob("*.part")] == [True]
    assert store.manifest() == {}
