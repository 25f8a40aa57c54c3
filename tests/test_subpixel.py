"""The int8 path's rewrite of stride-2 transposed convolutions as sub-pixel convolutions
(ghostlive/engines/subpixel.py) gives the numbers ONNX Runtime's own ConvTranspose gives: on a graph built here with
and without bias, and on an untrained GHOST-2 generator (1/16 width, the real graph's layers, a stand-in for the
released weights) fed real aligned faces."""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from ghostlive.engines.subpixel import subpixel_deconvolutions  # noqa: E402
from ghostlive.hub import ModelStore  # noqa: E402


def _run(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feed)[0]


def _deconv(cin: int, cout: int, bias: bool, **attrs: object) -> onnx.ModelProto:
    rng = np.random.default_rng(cin + cout)
    inits = [numpy_helper.from_array(rng.standard_normal((cin, cout, 4, 4)).astype(np.float32), "w")]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), "b"))
    node = helper.make_node("ConvTranspose", ["x", "w", "b"][: 2 + bias], ["y"], kernel_shape=[4, 4], **attrs)
    graph = helper.make_graph(
        [node], "deconv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits,
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("bias", [False, True])
def test_rewrite_matches_conv_transpose(bias: bool) -> None:
    model = _deconv(6, 5, bias, strides=[2, 2], pads=[1, 1, 1, 1])
    x = np.random.default_rng(1).standard_normal((1, 6, 7, 9)).astype(np.float32)  # odd, unequal sides
    expected = _run(model, {"x": x})
    assert subpixel_deconvolutions(model) == 1
    ops = [n.op_type for n in model.graph.node]
    assert "ConvTranspose" not in ops and ops.count("Slice") == 4 and ops[-1] == "DepthToSpace"
    assert [i.name for i in model.graph.initializer if i.name in ("w", "b")] == []  # the old weights are gone
    got = _run(model, {"x": x})
    assert got.shape == expected.shape == (1, 5, 14, 18)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_other_transposed_convolutions_are_left_alone() -> None:
    for attrs in ({"strides": [1, 1], "pads": [1, 1, 1, 1]}, {"strides": [2, 2], "pads": [0, 0, 0, 0]}):
        model = _deconv(3, 2, True, **attrs)
        assert subpixel_deconvolutions(model) == 0
        assert [n.op_type for n in model.graph.node] == ["ConvTranspose"]


def test_ghost_generator_gives_the_same_swaps(tmp_path) -> None:
    pytest.importorskip("torch")
    from ghostlive.optimise import aligned_faces

    from .int8_stand_ins import stand_in_generator

    path = stand_in_generator(ModelStore(tmp_path))
    model = onnx.load(str(path))
    before = sum(n.op_type == "ConvTranspose" for n in model.graph.node)
    rng = np.random.default_rng(0)
    feeds = []
    for crop in aligned_faces()[:2]:  # real faces, as the generator sees them (256 px, [-1, 1], RGB planes)
        big = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_LINEAR)[..., ::-1]
        ident = rng.standard_normal((1, 512)).astype(np.float32)
        feeds.append({"target": np.ascontiguousarray(big.transpose(2, 0, 1)[None], np.float32) / 127.5 - 1.0,
                      "source": ident / np.linalg.norm(ident)})  # fmt: skip
    expected = [_run(model, f) for f in feeds]
    assert subpixel_deconvolutions(model) == 6 == before - 1  # the encoder's six; the 1×1 → 2×2 one stays
    for feed, want in zip(feeds, expected, strict=True):
        np.testing.assert_allclose(_run(model, feed), want, rtol=0, atol=1e-4)
