"""GHOST's own enhancer (``10_net_G.pth``): the torch definition has the released state_dict's layout (module
names and shapes written from GHOST's lipspade architecture), reproduces GHOST's train-mode inference
(batch statistics, one spectral-norm power iteration), exports to ONNX with parity, and runs as an enhancer."""

from __future__ import annotations

import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from ghostlive.engines import OrtRunner
from ghostlive.enhance import EnhanceOptions, build_restorer
from ghostlive.errors import ModelError
from ghostlive.export.checkpoint import save_checkpoint
from ghostlive.export.lip_spade import BatchStatNorm, LIPSPADEGenerator, freeze
from ghostlive.export.onnx import expected_network, export_checkpoint, model_for_checkpoint
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME, RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.models.validate import check_model_file


def test_state_dict_layout_is_ghosts() -> None:
    with torch.device("meta"):
        state = LIPSPADEGenerator().state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    expected = {
        "fc.weight": (768, 3, 3, 3),  # SPADEGenerator's unused fc
        "head_0.conv_0.weight_orig": (768, 768, 3, 3),
        "head_0.conv_0.weight_u": (768,),
        "head_0.conv_0.weight_v": (6912,),
        "head_0.norm_0.param_free_norm.running_mean": (768,),
        "head_0.norm_0.param_free_norm.num_batches_tracked": (),
        "head_0.norm_0.mlp_shared.0.weight": (128, 3, 3, 3),
        "head_0.norm_0.mlp_gamma.weight": (768, 128, 3, 3),
        "ups.0.conv_s.weight_orig": (384, 768, 1, 1),
        "ups.3.conv_1.weight_orig": (48, 48, 3, 3),
        "ups.3.norm_1.mlp_shared.0.weight": (48, 3, 3, 3),
        "to_rgbs.3.weight": (3, 48, 3, 3),
        "lip_encoder.model.0.weight": (48, 3, 3, 3),
        "lip_encoder.model.3.logit.0.weight": (48, 48, 3, 3),
        "lip_encoder.model.3.logit.1.weight": (48,),
        "lip_encoder.model.20.weight": (768, 768, 3, 3),
    }
    assert {k: shapes.get(k) for k in expected} == expected
    assert "head_0.conv_s.weight_orig" not in shapes and "ups.0.conv_s.bias" not in shapes
    assert "lip_encoder.model.0.bias" not in shapes and "lip_encoder.model.1.weight" not in shapes
    assert len(shapes) == 230
    assert expected_network("ghost-sr", dict(state)) == []
    broken = {k: v for k, v in state.items() if k != "to_rgbs.0.bias"}
    assert "missing" in expected_network("ghost-sr", broken)[0]


def test_batch_statistics_are_train_mode_batch_norm() -> None:
    x = torch.randn(2, 5, 7, 9) * 3 + 1
    ref = F.batch_norm(x, None, None, training=True, eps=1e-5)
    torch.testing.assert_close(BatchStatNorm(5)(x), ref, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def small() -> LIPSPADEGenerator:
    torch.manual_seed(0)
    return LIPSPADEGenerator(ngf=8)


def test_frozen_network_is_ghosts_first_train_mode_call(small: LIPSPADEGenerator) -> None:
    x = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        ghost = copy.deepcopy(small).train()(x)  # GHOST: model.netG.train(), then the first batch
        frozen = freeze(copy.deepcopy(small)).eval()
        torch.testing.assert_close(frozen(x), ghost, atol=1e-5, rtol=1e-4)
    assert not any(k.endswith(("weight_orig", "weight_u")) for k in frozen.state_dict())


def test_onnx_export_parity_and_enhancer(tmp_path: Path, small: LIPSPADEGenerator, astronaut) -> None:
    pth = save_checkpoint(small, tmp_path / "10_net_G.pth")
    name, net = model_for_checkpoint(pth)
    assert name == "ghost-sr" and isinstance(net, LIPSPADEGenerator)
    onnx_path = export_checkpoint(pth, tmp_path / "ghost-sr.onnx")
    assert check_model_file(onnx_path, "ghost-sr.onnx") == "ghost_sr signature"
    crop = cv2.resize(astronaut[40:240, 130:330], (256, 256))
    x = torch.from_numpy(crop[..., ::-1].astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        ref = freeze(copy.deepcopy(small)).eval()(x)
    runner = OrtRunner(onnx_path)
    got = runner.run({"input": x.numpy()})["output"]
    np.testing.assert_allclose(got, ref.numpy(), atol=1e-4)
    restored = Restorer(runner, RESTORERS["ghost-sr"])(crop)  # RGB [0, 1] in, clip(y, 0, 1)·255 out, BGR
    expect = np.clip(ref[0].permute(1, 2, 0).numpy(), 0, 1)[..., ::-1] * 255.0
    np.testing.assert_allclose(restored, expect, atol=0.05)


def test_registry_and_missing_model(tmp_path: Path) -> None:
    spec = BY_NAME["ghost-sr"]
    assert "CC BY-NC-SA 4.0" in spec.licence and spec.url.endswith("/super-res/10_net_G.pth")
    with pytest.raises(ModelError, match="ghostlive models download ghost-sr"):
        build_restorer(EnhanceOptions("ghost-sr"), ModelStore(tmp_path))
