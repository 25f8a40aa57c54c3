"""The built-in face mesh and iris models ship with PRelu rewritten as Relu + Min·slope, and the mesh also with
depthwise convolutions for x86-64 (export/prelu.py): the same numbers as the PRelu graphs, several times faster on
ONNX Runtime's CPU backend."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from ghostlive.engines.ort import OrtRunner  # noqa: E402
from ghostlive.export.prelu import prelu_as_convs, prelu_as_relu, relu_as_prelu  # noqa: E402
from ghostlive.faces import FaceAnalyzer, asset_path, x86_asset  # noqa: E402
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


@pytest.mark.parametrize(
    ("asset", "prelus", "tolerance"),
    [("facemesh_468.onnx", 23, 0.0), ("iris_landmark.onnx", 53, 0.0), ("facemesh_468_x86.onnx", 23, 2e-4)],
)
def test_shipped_models_equal_their_prelu_form(asset: str, prelus: int, tolerance: float) -> None:
    """Bit for bit; the x86 mesh within float rounding: on x86-64 ONNX Runtime fuses its Add into the depthwise
    convolution as a multiply-add (outputs in crop pixels: 2e-4 px is a thousandth of the 0.5 px bound)."""
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
            np.testing.assert_allclose(a[k], b[k], rtol=0, atol=tolerance)


def test_x86_mesh_is_the_same_graph_and_chosen_only_on_x86() -> None:
    """The x86 file is the shipped mesh with the other PRelu form (same PRelu graph back from both), and only
    x86-64 opens it: elsewhere ONNX Runtime has no blocked layout and its depthwise convolutions are slower."""
    plain, x86 = (relu_as_prelu(onnx.load(asset_path(a))) for a in ("facemesh_468.onnx", "facemesh_468_x86.onnx"))
    assert [n.op_type for n in plain.graph.node] == [n.op_type for n in x86.graph.node]
    slopes = [
        [numpy_helper.to_array(i).ravel() for i in m.graph.initializer if i.name in {n.input[1] for n in prelus}]
        for m, prelus in ((g, [n for n in g.graph.node if n.op_type == "PRelu"]) for g in (plain, x86))
    ]
    assert sorted(map(bytes, slopes[0])) == sorted(map(bytes, slopes[1]))
    mesh = "facemesh_468.onnx"
    assert x86_asset(mesh, "x86_64") == x86_asset(mesh, "AMD64") == "facemesh_468_x86.onnx"
    assert x86_asset(mesh, "arm64") == x86_asset(mesh, "aarch64") == mesh
    assert x86_asset("blazeface_short_range.onnx", "x86_64") == "blazeface_short_range.onnx"  # no twin ships


@pytest.mark.parametrize("rewrite", [prelu_as_relu, prelu_as_convs])
def test_rewrite_is_exact_for_any_slope_and_value(rewrite: object) -> None:
    """A stand-in PRelu with per-channel slopes (negative, zero, one, large) on values including ±0, ±inf,
    tiny and huge ones: either rewritten graph gives the same values (NaN stays NaN)."""
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
    got = OrtRunner(rewrite(model).SerializeToString()).run({"x": x})["y"]  # type: ignore[operator]

    def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a == b) | (np.isnan(a) & np.isnan(b))

    with np.errstate(invalid="ignore"):
        maths = np.where(x < 0, slopes * x, x)  # PRelu's definition
    assert same(got, maths).all()
    # ONNX Runtime's own PRelu agrees on every finite input (before 1.2x it gives NaN for ±inf: the rewrite is right)
    assert same(got, ref)[np.isfinite(x)].all()
    back = relu_as_prelu(rewrite(model))  # type: ignore[operator]
    assert [n.op_type for n in back.graph.node] == ["PRelu"] and len(back.graph.initializer) == 1
    np.testing.assert_array_equal(numpy_helper.to_array(back.graph.initializer[0]).reshape(slopes.shape), slopes)


def test_notice_lists_every_shipped_model_with_its_sha256() -> None:
    """ghostlive/assets/NOTICE names each built-in model file with the SHA-256 of the file that ships."""
    import hashlib
    from pathlib import Path

    assets = Path(asset_path("NOTICE")).parent
    listed = dict(
        reversed(line.split()) for line in (assets / "NOTICE").read_text().splitlines() if line.endswith(".onnx")
    )
    shipped = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in assets.glob("*.onnx")}
    assert listed == shipped
