"""Rewrite every PRelu of an ONNX graph in operators ONNX Runtime's CPU backend runs fast; its PRelu kernel
broadcasts the per-channel slope slowly (the face mesh spent 70 % of its time in its 23 PRelus).

Two forms, each exact in IEEE float operator by operator:

- :func:`prelu_as_relu`, ``Relu(x) + Min(x, 0)·slope``: for x ≥ 0 the sum is x + (±0) = x, for x < 0 it is
  0 + x·slope, the product PRelu computes; NaN stays NaN. About a quarter of the PRelu model's time.
- :func:`prelu_as_convs`, ``Relu(x) + Conv₋ₛ(Relu(Conv₋₁(x)))`` with two 1×1 depthwise convolutions (weights −1
  and −slope): for x ≥ 0, x + (−slope)·0; for x < 0, 0 + (−slope)·(−x). On x86-64 ONNX Runtime runs the whole
  graph in its blocked NCHWc layout, where Min and Mul are not blocked operators and cost a layout reorder each
  way; convolutions are. The face mesh: 1.06 → 0.81 ms per pass on one thread (AMD EPYC, AVX-512). Without the
  blocked layout (other CPUs) the depthwise convolutions are slower than Min·slope (2.27 → 2.53 ms), so this form
  ships beside the first, for x86-64 only. ONNX Runtime fuses the Add into the convolution there, a fused
  multiply-add: the outputs move by float rounding (face mesh: ≤ 5e-5 crop pixels).

Used once on the built-in assets (see mediapipe.md); needs the ``onnx`` package::

    python -m ghostlive.export.prelu ghostlive/assets/facemesh_468.onnx ghostlive/assets/iris_landmark.onnx
    python -m ghostlive.export.prelu --convs ORIGINAL.onnx ghostlive/assets/facemesh_468_x86.onnx
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)
ZERO = "prelu_rewrite_zero"


def prelu_as_relu(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with each PRelu replaced by Relu, Min, Mul and Add (same outputs, see the module)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    nodes = []
    for node in out.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        base = node.name or node.output[0]
        nodes += [
            helper.make_node("Relu", [x], [f"{base}/pos"], name=f"{base}/relu"),
            helper.make_node("Min", [x, ZERO], [f"{base}/neg"], name=f"{base}/min"),
            helper.make_node("Mul", [f"{base}/neg", slope], [f"{base}/scaled"], name=f"{base}/mul"),
            helper.make_node("Add", [f"{base}/pos", f"{base}/scaled"], list(node.output), name=f"{base}/add"),
        ]
    if len(nodes) != len(out.graph.node):
        out.graph.initializer.append(helper.make_tensor(ZERO, TensorProto.FLOAT, [], [0.0]))
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    onnx.checker.check_model(out)
    return out


def prelu_as_convs(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with each PRelu (slope: a per-channel constant, input N×C×H×W) replaced by Relu, two
    1×1 depthwise Convs and Add (see the module)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    constants = {i.name: i for i in out.graph.initializer}
    nodes, weights = [], []
    for node in out.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        if slope not in constants:
            raise ValueError(f"PRelu {node.name!r}: the slope is not a constant")
        s = numpy_helper.to_array(constants[slope]).astype(np.float32).reshape(-1)
        b = node.name or node.output[0]
        weights += [
            numpy_helper.from_array(np.full((s.size, 1, 1, 1), -1.0, np.float32), f"{b}/negate"),
            numpy_helper.from_array(-s.reshape(-1, 1, 1, 1), f"{b}/slope"),
        ]
        depthwise = {"group": s.size, "kernel_shape": [1, 1]}
        nodes += [
            helper.make_node("Relu", [x], [f"{b}/pos"], name=f"{b}/relu"),
            helper.make_node("Conv", [x, f"{b}/negate"], [f"{b}/flip"], name=f"{b}/flip", **depthwise),
            helper.make_node("Relu", [f"{b}/flip"], [f"{b}/low"], name=f"{b}/low"),
            helper.make_node("Conv", [f"{b}/low", f"{b}/slope"], [f"{b}/scaled"], name=f"{b}/scale", **depthwise),
            helper.make_node("Add", [f"{b}/pos", f"{b}/scaled"], list(node.output), name=f"{b}/add"),
        ]  # fmt: skip
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    kept = [i for i in out.graph.initializer if i.name in used]  # the PRelu slopes now live in the weights
    del out.graph.initializer[:]
    out.graph.initializer.extend([*kept, *weights])
    onnx.checker.check_model(out)
    return out


def relu_as_prelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """The inverse of :func:`prelu_as_relu` and :func:`prelu_as_convs`: each group they made, as one PRelu again
    (for converters that have a fast PRelu of their own, such as onnx2torch → torch.nn.functional.prelu)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    by_output = {o: n for n in out.graph.node for o in n.output}
    constants = {i.name: i for i in out.graph.initializer}
    merged: set[str] = set()
    dropped: set[str] = set()
    nodes = []
    for node in out.graph.node:
        group = _prelu_group(node, by_output) if node.op_type == "Add" and node.name.endswith("/add") else None
        if group is None:
            nodes.append(node)
            continue
        x, slope, parts = group
        merged |= {n.name for n in parts}
        if slope.op_type == "Mul":  # Relu + Min·slope: the slope is the Mul's constant
            nodes.append(helper.make_node("PRelu", [x, slope.input[1]], list(node.output)))
            continue
        negate, weight = parts[-1].input[1], slope.input[1]  # depthwise Convs: the slope is −weight
        dropped |= {negate, weight}
        s = -numpy_helper.to_array(constants[weight]).reshape(1, -1, 1, 1)
        out.graph.initializer.append(numpy_helper.from_array(s, f"{weight}/prelu"))
        nodes.append(helper.make_node("PRelu", [x, f"{weight}/prelu"], list(node.output)))
    del out.graph.node[:]
    out.graph.node.extend(n for n in nodes if not n.name or n.name not in merged)
    used = {i for n in out.graph.node for i in n.input}
    kept = [i for i in out.graph.initializer if i.name in used or i.name not in dropped | {ZERO}]
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept)
    return out


def _prelu_group(
    add: onnx.NodeProto, by_output: dict[str, onnx.NodeProto]
) -> tuple[str, onnx.NodeProto, list[onnx.NodeProto]] | None:
    """For an Add made by either rewrite: (the PRelu's input, the node applying the slope, the group's nodes but
    the Add); None for any other Add."""
    relu, scaled = by_output.get(add.input[0]), by_output.get(add.input[1])
    if relu is None or scaled is None or relu.op_type != "Relu":
        return None
    x = relu.input[0]
    low = by_output.get(scaled.input[0])
    if scaled.op_type == "Mul" and low is not None and low.op_type == "Min" and list(low.input) == [x, ZERO]:
        return x, scaled, [relu, scaled, low]
    flip = by_output.get(low.input[0]) if low is not None and low.op_type == "Relu" else None
    if scaled.op_type == "Conv" and flip is not None and flip.op_type == "Conv" and flip.input[0] == x:
        return x, scaled, [relu, scaled, low, flip]
    return None


def main(argv: list[str]) -> int:
    """``FILE...``: each file's PRelus as Relu + Min·slope, in place; ``--convs SOURCE OUTPUT``: SOURCE's PRelus
    (either form, or the original) as depthwise convolutions, written to OUTPUT."""
    convs = argv[:1] == ["--convs"]
    if convs and len(argv) != 3:
        raise SystemExit("usage: python -m ghostlive.export.prelu --convs SOURCE.onnx OUTPUT.onnx")
    pairs = [(Path(argv[1]), Path(argv[2]))] if convs else [(Path(p), Path(p)) for p in argv]
    for source, output in pairs:
        model = relu_as_prelu(onnx.load(str(source)))
        count = sum(n.op_type == "PRelu" for n in model.graph.node)
        atomic_write_bytes(output, (prelu_as_convs(model) if convs else prelu_as_relu(model)).SerializeToString())
        log.info("%s: %d PRelu rewritten", output, count)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main(sys.argv[1:]))
