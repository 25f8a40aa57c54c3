"""The built-in face mesh and iris models ship with PRelu rewritten as Relu + Min·slope (export/prelu.py):
the same numbers as the PRelu graphs, several times faster on ONNX Runtime's CPU backend."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from ghostlive.engines.ort import OrtRunner  # noqa: E402
from ghostlive.export.prelu import prelu_as_relu, relu_as_prelu  # noqa: E402
from ghostlive.faces import FaceAnalyzer, asset_path  # noqa: E402
from ghostlive.media.image import read_image  # noqa: E402
from ghostlive.models.facemesh import roi_from_detection, roi_from_landmarks  # noqa: E402
from ghostlive.ops.align import invert_affine  # noqa: E402
from ghostlive.ops.filters import warp_affine  # noqa: E402


def _face_crops() -> list[np.ndarray]:
    """192×192 crops of the real sample faces as the mesh sees them (two ROIs each), RGB in [0, 1]."""
    analyzer = FaceAnalyzer(tile_levels=0)
    crops = []
    for name in ("samples/astronaut.png", "samples/grace_hopper.jpg"):
        image = read_image(asset_path(name)).bgr
        face = analyzer.analyze(image)[0]
        for roi in (roi_from_detection(face.detection), roi_from_landmarks(face.landmarks)):
            crop = warp_affine(image, invert_affine(roi), (192, 192), border="replicate")  # as run_on_roi
            crops.append(crop[None, ..., ::-1].astype(np.float32) * (1.0 / 255.0))
    return crops


@pytest.mark.parametrize(("asset", "prelus"), [("facemesh_468.onnx", 23), ("iris_landmark.onnx", 53)])
def test_shipped_models_equal_their_prelu_form(asset: str, prelus: int) -> None:
    shipped = onnx.load(asset_path(asset))
    assert not [n for n in shipped.graph.node if n.op_type == "PRelu"]
    original = relu_as_prelu(shipped)
    assert sum(n.op_type == "PRelu" for n in original.graph.node) == prelus
    fast, ref = OrtRunner(asset_path(asset)), OrtRunner(original.SerializeToString())
    name = fast.info.inputs[0].name
    size = fast.info.inputs[0].shape[1]
    crops = [c if size == 192 else c[:, 32:96, 32:96] for c in _face_crops()]  # iris: 64 px eye-sized crops
    for x in crops:
        a, b = fast.run({name: np.ascontiguousarray(x)}), ref.run({name: np.ascontiguousarray(x)})
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_rewrite_is_exact_for_any_slope_and_value() -> None:
    """A stand-in PRelu with per-channel slopes (negative, zero, one, large) on values including ±0, ±inf,
    tiny and huge ones: the rewritten graph gives the same values (NaN stays NaN)."""
    slopes = np.array([-0.7, 0.0, 1.0, 0.25, 3.5, 1e-30], np.float32).reshape(1, 6, 1, 1)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "s"], ["y"], name="p")],
        "stand_in",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 4, 4])],
        [numpy_helper.from_array(slopes, "s")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    special = [0.0, -0.0, np.inf, -np.inf, 1e-38, -1e-38, 3e38, -3e38, np.nan, 1.0, -1.0, 0.5, -2.0, 7.0, -7.0, 1e-45]
    x = np.array(special * 6, np.float32).reshape(1, 6, 4, 4)
    x[0, 1:] = np.random.default_rng(0).normal(0, 10, (5, 4, 4)).astype(np.float32)
    ref = OrtRunner(model.SerializeToString()).run({"x": x})["y"]
    got = OrtRunner(prelu_as_relu(model).SerializeToString()).run({"x": x})["y"]

    def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a == b) | (np.isnan(a) & np.isnan(b))

    with np.errstate(invalid="ignore"):
        maths = np.where(x < 0, slopes * x, x)  # PRelu's definition
    assert same(got, maths).all()
    # ONNX Runtime's own PRelu agrees on every finite input (before 1.2x it gives NaN for ±inf: the rewrite is right)
    assert same(got, ref)[np.isfinite(x)].all()
    back = relu_as_prelu(prelu_as_relu(model))
    assert [n.op_type for n in back.graph.node] == ["PRelu"] and len(back.graph.initializer) == 1
