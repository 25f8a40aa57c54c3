"""What ``ghostlive export --checkpoint`` says about files that are not GHOST checkpoints: a photo, an ONNX model or
a text file named ``.pth`` is "not a readable PyTorch checkpoint: it is …", told before anything is unpickled; only
a real pickle the safe loader refuses is called code-carrying; an unknown network names every kind it knows."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from ghostlive.cli import main  # noqa: E402
from ghostlive.errors import InvalidInputError, ModelError  # noqa: E402
from ghostlive.export.checkpoint import read_state_dict  # noqa: E402
from ghostlive.export.file_kind import checkpoint_kind  # noqa: E402
from ghostlive.export.onnx import model_for_checkpoint  # noqa: E402

from . import onnx_graphs  # noqa: E402
from .conftest import DATA, sample  # noqa: E402
from .golden import manifests  # noqa: E402


def released_layout(name: str, path: Path) -> Path:
    """A checkpoint with the released key layout of ``name`` (tests/data/golden manifests), every tensor zero and
    stored as one broadcast element, so that the file stays small."""
    state = {k: torch.zeros((), dtype=getattr(torch, dt)).expand(shape) for k, shape, dt in manifests()[name]}
    torch.save(state, path)
    return path


class _Payload:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: shutil.copy(sample("astronaut.png"), p), "a PNG image"),
        (lambda p: shutil.copy(sample("grace_hopper.jpg"), p), "a JPEG image"),
        (lambda p: p.write_bytes(onnx_graphs.arcface(np.zeros((3, 512)))), "an ONNX model"),
        (lambda p: p.write_bytes(b"hello\n"), "a text file"),
        (lambda p: p.write_text((DATA / "README.md").read_text()), "a text file"),
        (lambda p: p.write_bytes(DATA.joinpath("megamind_3s.mp4").read_bytes()), "an MP4/MOV video or HEIF image"),
    ],
)
def test_a_file_that_is_no_checkpoint_says_what_it_is(tmp_path: Path, capsys, make, kind: str) -> None:
    ckpt = tmp_path / "backbone.pth"
    make(ckpt)
    with pytest.raises(InvalidInputError) as err:
        read_state_dict(ckpt)
    assert str(err.value) == f"{ckpt}: not a readable PyTorch checkpoint: it is {kind}"
    code = main(["export", "--checkpoint", str(ckpt), "-o", str(tmp_path / "out.onnx")])
    err_text = capsys.readouterr().err
    assert code == 1 and f"backbone.pth: not a readable PyTorch checkpoint: it is {kind}" in err_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backbone.pth"]


def test_real_pickles_with_code_are_still_refused_as_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _Payload.marker = str(marker)
    zipped, legacy = tmp_path / "evil.pth", tmp_path / "evil_legacy.pth"
    torch.save({"encoder.conv1.0.weight": torch.zeros(1), "x": _Payload()}, zipped)
    torch.save({"x": _Payload()}, legacy, _use_new_zipfile_serialization=False)
    plain = [tmp_path / f"plain{proto}.pth" for proto in (0, 2, 4)]
    for proto, path in zip((0, 2, 4), plain, strict=True):
        path.write_bytes(pickle.dumps({"a": _Payload()}, protocol=proto))
    for path in (zipped, legacy, *plain):
        assert checkpoint_kind(path) is None, path  # a pickle: the safe loader judges it
        with pytest.raises(ModelError, match="refused: the file holds Python objects or code"):
            read_state_dict(path)
    assert not marker.exists()


def test_torchscript_and_damaged_checkpoints(tmp_path: Path) -> None:
    script = tmp_path / "scripted.pth"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(script))
    with pytest.raises(InvalidInputError, match="it is a TorchScript model"):
        read_state_dict(script)
    cut = released_layout("G_unet_1block", tmp_path / "cut.pth")
    cut.write_bytes(cut.read_bytes()[:3000])
    with pytest.raises(InvalidInputError, match=r"cut\.pth: not a readable PyTorch checkpoint: damaged or cut short"):
        read_state_dict(cut)


def test_released_layouts_still_load(tmp_path: Path) -> None:
    g1 = released_layout("G_unet_1block", tmp_path / "G_unet_1block.pth")
    assert model_for_checkpoint(g1)[0] == "ghost-1"
    legacy = tmp_path / "legacy.pth"
    torch.save(read_state_dict(g1), legacy, _use_new_zipfile_serialization=False)
    assert checkpoint_kind(legacy) is None and len(read_state_dict(legacy)) == len(manifests()["G_unet_1block"])


def test_an_unknown_network_names_every_kind_that_exports(tmp_path: Path) -> None:
    d = released_layout("D_unet_2blocks", tmp_path / "D.pth")  # GHOST's discriminator: not exportable
    with pytest.raises(ModelError) as err:
        model_for_checkpoint(d)
    text = str(err.value)
    assert all(k in text for k in ("ghost-1/2/3", "ghost-sr", "ArcFace")), text
