"""Rewrite each 4×4, stride-2, padding-1 ConvTranspose of an ONNX graph (GHOST's attribute encoder has six) as
one 2×2 convolution with four output phases, four Slices, a Concat and a DepthToSpace: the same numbers to float
rounding, but convolutions that ONNX Runtime's int8 path quantises (it keeps ConvTranspose in float and
dequantises its weights on every run: 1024×1024×4×4 of them in the first).

Why it is exact: output row ``2m + a`` of a stride-2 transposed convolution with padding 1 reads input rows
``m - 1`` and ``m`` through kernel rows 3 and 1 when ``a = 0``, and rows ``m`` and ``m + 1`` through kernel rows
2 and 0 when ``a = 1`` (likewise for columns). A 2×2 convolution padded by 1 computes both windows at every
position; phase ``a`` is its rows ``a … a + H - 1``. DepthToSpace (DCR) interleaves the four phases. The float
ConvTranspose kernel is faster than the rewrite, so it is applied only before quantising
(:func:`ghostlive.engines.quantize.quantize_int8`).
"""

from __future__ import annotations

import numpy as np

TAPS = ((3, 1), (2, 0))
"""Kernel rows (and columns) that output phase 0 and 1 read, for the input rows of the 2×2 window in order."""
END = np.iinfo(np.int64).max


def _attrs(node: object) -> dict[str, object]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}  # type: ignore[attr-defined]


def _rewritable(node: object, constants: dict[str, object]) -> bool:
    if node.op_type != "ConvTranspose" or node.input[1] not in constants:  # type: ignore[attr-defined]
        return False
    a = _attrs(node)
    return (
        list(a.get("kernel_shape", [])) == [4, 4]  # type: ignore[call-overload]
        and list(a.get("strides", [])) == [2, 2]  # type: ignore[call-overload]
        and list(a.get("pads", [0, 0, 0, 0])) == [1, 1, 1, 1]  # type: ignore[call-overload]
        and a.get("group", 1) == 1
        and list(a.get("dilations", [1, 1])) == [1, 1]  # type: ignore[call-overload]
        and not a.get("output_padding")
        and "output_shape" not in a
        and (len(node.input) < 3 or not node.input[2] or node.input[2] in constants)  # type: ignore[attr-defined]
    )


def phase_weights(w: np.ndarray) -> np.ndarray:
    """ConvTranspose weights (Cin, Cout, 4, 4) → the 2×2 convolution's (4·Cout, Cin, 2, 2), phase-major."""
    cin, cout = w.shape[:2]
    out = np.empty((4, cout, cin, 2, 2), w.dtype)
    for a in (0, 1):
        for b in (0, 1):
            out[2 * a + b] = w[:, :, list(TAPS[a])][:, :, :, list(TAPS[b])].transpose(1, 0, 2, 3)
    return out.reshape(4 * cout, cin, 2, 2)


def subpixel_deconvolutions(model: object) -> int:
    """Rewrite ``model`` (an ``onnx.ModelProto``) in place, see the module; returns how many were rewritten."""
    from onnx import helper, numpy_helper

    g = model.graph  # type: ignore[attr-defined]
    constants = {i.name: i for i in g.initializer}
    nodes, replaced, count = [], set(), 0
    for node in g.node:
        if not _rewritable(node, constants):
            nodes.append(node)
            continue
        w = numpy_helper.to_array(constants[node.input[1]])
        cout, base = w.shape[1], f"{node.name or node.output[0]}/subpixel"
        g.initializer.append(numpy_helper.from_array(phase_weights(w), f"{base}.weight"))
        inputs = [node.input[0], f"{base}.weight"]
        if len(node.input) > 2 and node.input[2]:
            bias = numpy_helper.to_array(constants[node.input[2]])
            g.initializer.append(numpy_helper.from_array(np.tile(bias, 4), f"{base}.bias"))
            inputs.append(f"{base}.bias")
            replaced.add(node.input[2])
        nodes.append(helper.make_node("Conv", inputs, [base], name=base, kernel_shape=[2, 2], pads=[1, 1, 1, 1]))
        phases = []
        for a in (0, 1):
            for b in (0, 1):
                p, name = 2 * a + b, f"{base}/phase{2 * a + b}"
                bounds = ((p * cout, a, b), ((p + 1) * cout, -1 if a == 0 else END, -1 if b == 0 else END), (1, 2, 3))
                names = [f"{name}.{k}" for k in ("starts", "ends", "axes")]
                g.initializer.extend(
                    numpy_helper.from_array(np.array(v, np.int64), n) for v, n in zip(bounds, names, strict=True)
                )
                nodes.append(helper.make_node("Slice", [base, *names], [name], name=name))
                phases.append(name)
        nodes.append(helper.make_node("Concat", phases, [f"{base}/phases"], name=f"{base}/phases", axis=1))
        nodes.append(
            helper.make_node("DepthToSpace", [f"{base}/phases"], [node.output[0]], name=f"{base}/d2s", blocksize=2)
        )  # DCR, the default: output channel c at (2h + a, 2w + b) is input channel (2a + b)·C + c
        replaced.add(node.input[1])
        count += 1
    if count:  # drop the old weights unless something else reads them
        used = {i for n in nodes for i in n.input}
        kept = [i for i in g.initializer if i.name in used or i.name not in replaced]
        del g.node[:], g.initializer[:]
        g.node.extend(nodes)
        g.initializer.extend(kept)
    return count
