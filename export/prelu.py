"""Rewrite every PRelu of an ONNX graph as Relu(x) + Min(x, 0)·slope: the same numbers, several times faster on
ONNX Runtime's CPU backend, whose PRelu kernel broadcasts the per-channel slope slowly (the face mesh spent 70 %
of its time in its 23 PRelus; rewritten, the whole model runs in about a quarter of the time).

Exact in IEEE float: for x ≥ 0 the sum is x + (±0) = x, for x < 0 it is 0 + x·slope, the product PRelu computes;
NaN stays NaN. Used once on the built-in assets (see mediapipe.md); needs the ``onnx`` package::

    python -m ghostlive.export.prelu ghostlive/assets/facemesh_468.onnx ghostlive/assets/iris_landmark.onnx
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

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


def relu_as_prelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """The inverse of :func:`prelu_as_relu`: each Relu/Min/Mul/Add group it made, as one PRelu again (for
    converters that have a fast PRelu of their own, such as onnx2torch → torch.nn.functional.prelu)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    by_output = {o: n for n in out.graph.node for o in n.output}
    merged: set[str] = set()
    nodes = []
    for node in out.graph.node:
        if node.op_type == "Add" and node.name.endswith("/add") and node.input[0] in by_output:
            relu, mul = by_output[node.input[0]], by_output.get(node.input[1])
            low = by_output.get(mul.input[0]) if mul is not None else None
            if relu.op_type == "Relu" and low is not None and low.op_type == "Min" and low.input[1] == ZERO:
                merged |= {relu.name, mul.name, low.name}  # type: ignore[union-attr]
                nodes.append(helper.make_node("PRelu", [relu.input[0], mul.input[1]], list(node.output)))  # type: ignore[union-attr]
                continue
        nodes.append(node)
    del out.graph.node[:]
    out.graph.node.extend(n for n in nodes if not n.name or n.name not in merged)
    if merged:
        kept = [i for i in out.graph.initializer if i.name != ZERO]
        del out.graph.initializer[:]
        out.graph.initializer.extend(kept)
    return out


def main(paths: list[str]) -> int:
    for p in paths:
        path = Path(p)
        model = onnx.load(str(path))
        count = sum(n.op_type == "PRelu" for n in model.graph.node)
        tmp = path.with_name(f".{path.name}.partial")
        onnx.save(prelu_as_relu(model), str(tmp))
        tmp.replace(path)
        log.info("%s: %d PRelu rewritten", path, count)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main(sys.argv[1:]))
