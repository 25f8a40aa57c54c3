"""GHOST networks in PyTorch: state_dict layout, golden outputs, safe loading, ONNX export."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from ghostlive.engines import OrtRunner  # noqa: E402
from ghostlive.errors import InvalidInputError, ModelError  # noqa: E402
from ghostlive.export.aei_net import AEINet  # noqa: E402
from ghostlive.export.checkpoint import load_into, read_state_dict  # noqa: E402
from ghostlive.export.discriminator import MultiscaleDiscriminator  # noqa: E402
from ghostlive.export.iresnet import iresnet100  # noqa: E402
from ghostlive.export.onnx import export_arcface, export_checkpoint, export_generator, model_for_checkpoint  # noqa: E402

from .golden import aei_golden, arcface_golden, fill, manifests  # noqa: E402

GENERATORS = {"G_unet_1block": 1, "G_unet_2blocks": 2, "G_unet_3blocks": 3}
Y_TOL = 1e-3
EMB_TOL = 1e-4
FP16_Y_TOL = 0.05
FP16_EMB_TOL = 0.01


def layout(model: torch.nn.Module) -> list[list]:
    return [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        *[(n, lambda b=b: AEINet(b)) for n, b in GENERATORS.items()],
        ("D_unet_2blocks", MultiscaleDiscriminator),
        ("arcface_backbone_iresnet100", iresnet100),
    ],
)
def test_state_dict_matches_the_released_manifest(name: str, factory) -> None:
    assert layout(factory()) == manifests()[name]


@pytest.mark.parametrize(("name", "blocks"), GENERATORS.items())
def test_generator_reproduces_golden_outputs(name: str, blocks: int) -> None:
    g = aei_golden()
    net = fill(AEINet(blocks))
    with torch.no_grad():
        xt, z = torch.from_numpy(g["Xt"]), torch.from_numpy(g["z_id"])
        attrs = net.attributes(xt)
        y = net(xt, z).numpy()
    assert np.abs(y - g[f"{name}.Y"]).max() < Y_TOL
    assert np.abs(attrs[0].numpy() - g[f"{name}.attr0"]).max() < Y_TOL
    assert np.abs(attrs[7].mean((2, 3)).numpy() - g[f"{name}.attr7_mean"]).max() < Y_TOL


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_arcface_reproduces_golden_embedding() -> None:
    a = arcface_golden()
    with torch.no_grad():
        e = fill(iresnet100())(torch.from_numpy(a["x"])).numpy()
    assert rel(e, a["embedding"]) < EMB_TOL


def test_discriminator_runs_three_scales() -> None:
    d = fill(MultiscaleDiscriminator())
    with torch.no_grad():
        outs = d(torch.zeros(1, 3, 256, 256))
    assert [o.shape[-1] for o in outs] == [11, 7, 5]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "blocks"), GENERATORS.items())
def test_generator_onnx_export_matches_golden(name: str, blocks: int, tmp_path: Path) -> None:
    g = aei_golden()
    path = export_generator(fill(AEINet(blocks)), tmp_path / f"{name}.onnx", name=name)
    runner = OrtRunner(path)
    assert [i.name for i in runner.info.inputs] == ["target", "source"]
    assert runner.info.inputs[0].shape[0] == "batch"  # dynamic batch
    y = runner.run({"target": g["Xt"], "source": g["z_id"]})["output"]
    assert np.abs(y - g[f"{name}.Y"]).max() < Y_TOL
    y1 = runner.run({"target": g["Xt"][:1], "source": g["z_id"][:1]})["output"]
    assert np.abs(y1 - g[f"{name}.Y"][:1]).max() < Y_TOL
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert meta["ghostlive.model"] == name and meta["ghostlive.precision"] == "fp32"
    assert "256" in meta["ghostlive.preprocessing"]
    path.unlink()


@pytest.mark.slow
def test_generator_fp16_export_within_bound(tmp_path: Path) -> None:
    g = aei_golden()
    path = export_generator(fill(AEINet(1)), tmp_path / "g16.onnx", precision="fp16")
    y = OrtRunner(path).run({"target": g["Xt"], "source": g["z_id"]})["output"]
    assert y.dtype == np.float32
    assert np.abs(y - g["G_unet_1block.Y"]).max() < FP16_Y_TOL
    assert os.path.getsize(path) < 0.6 * 4 * 128.5e6  # weights really are half precision


@pytest.mark.slow
def test_arcface_onnx_exports(tmp_path: Path) -> None:
    a = arcface_golden()
    model = fill(iresnet100())
    for precision, tol in (("fp32", EMB_TOL), ("fp16", FP16_EMB_TOL)):
        path = export_arcface(model, tmp_path / f"arc_{precision}.onnx", precision=precision)  # type: ignore[arg-type]
        e = OrtRunner(path).run({"input": a["x"]})["embedding"]
        assert rel(e, a["embedding"]) < tol


def released_checkpoint(model: torch.nn.Module, path: Path) -> Path:
    """A checkpoint in the released layout: the same keys, float16 tensors, a plain state_dict pickle."""
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    torch.save(state, path)
    return path


def test_released_layout_float16_checkpoint_loads_and_runs(tmp_path: Path) -> None:
    ckpt = released_checkpoint(fill(AEINet(1)), tmp_path / "G_unet_1block.pth")
    assert {v.dtype for k, v in read_state_dict(ckpt).items() if "num_batches" not in k} == {torch.float16}
    name, model = model_for_checkpoint(ckpt)
    assert name == "ghost-1"
    load_into(model, ckpt)
    assert next(model.parameters()).dtype == torch.float32
    g = aei_golden()
    with torch.no_grad():
        y = model(torch.from_numpy(g["Xt"]), torch.from_numpy(g["z_id"])).numpy()
    assert np.abs(y - g["G_unet_1block.Y"]).max() < FP16_Y_TOL


def test_checkpoint_kinds_are_recognised(tmp_path: Path) -> None:
    for blocks in (2, 3):
        ckpt = tmp_path / f"g{blocks}.pth"
        torch.save(AEINet(blocks).state_dict(), ckpt)
        assert model_for_checkpoint(ckpt)[0] == f"ghost-{blocks}"
    arc = tmp_path / "backbone.pth"
    torch.save({"state_dict": iresnet100().state_dict()}, arc)  # wrapped, as some training scripts save
    assert model_for_checkpoint(arc)[0] == "arcface"


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))

    marker = ""


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _Payload.marker = str(marker)
    evil = tmp_path / "evil.pth"
    torch.save({"encoder.conv1.0.weight": torch.zeros(1), "x": _Payload()}, evil)
    with pytest.raises(ModelError, match="refused"):
        load_into(AEINet(1), evil)
    assert not marker.exists()
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises((ModelError, InvalidInputError)):
        read_state_dict(plain)
    assert not marker.exists()


def test_mismatched_checkpoint_is_reported_readably(tmp_path: Path) -> None:
    state = AEINet(1).state_dict()
    state.pop("generator.up1.bias")
    state["generator.up1.weight"] = torch.zeros(3, 3)
    state["extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(ModelError) as err:
        load_into(AEINet(1), bad)
    text = str(err.value)
    assert "bad.pth" in text and "1 missing key(s): generator.up1.bias" in text
    assert "1 unexpected key(s): extra.weight" in text and "wrong shape" in text and "(3, 3)" in text


def test_damaged_and_empty_checkpoints(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pth"
    empty.touch()
    with pytest.raises(InvalidInputError, match="empty"):
        read_state_dict(empty)
    ckpt = tmp_path / "cut.pth"
    torch.save(AEINet(1).state_dict(), ckpt)
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(InvalidInputError, match=r"cut\.pth"):
        read_state_dict(ckpt)


@pytest.mark.slow
def test_export_command_on_a_checkpoint(tmp_path: Path) -> None:
    from ghostlive.cli import main

    ckpt = released_checkpoint(fill(iresnet100()), tmp_path / "backbone.pth")
    out = tmp_path / "arc.onnx"
    assert main(["export", "--checkpoint", str(ckpt), "-o", str(out)]) == 0
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["ghostlive.model"] == "arcface" and len(meta["ghostlive.source_sha256"]) == 64
    assert export_checkpoint(ckpt, tmp_path / "again.onnx").exists()
