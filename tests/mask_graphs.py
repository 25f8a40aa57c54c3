"""Stand-in ONNX graphs with the real signatures of the mask models (an XSeg-style occluder, a BiSeNet face
parser), built with onnx.helper: their weights cannot be fetched here, so these compute known functions."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_graphs import _model


def occluder(weights: tuple[float, float, float], bias: float) -> bytes:
    """Occluder signature (``in_face:0`` N×256×256×3 → ``out_mask:0`` N×256×256×1) computing
    clip(w·pixel + bias, 0, 1) per pixel over the input's three channels in their stored order."""
    w = numpy_helper.from_array(np.array(weights, np.float32).reshape(3, 1), "w")
    b = numpy_helper.from_array(np.array([bias], np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["in_face:0", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["lin"]),
        helper.make_node("Clip", ["lin", "lo", "hi"], ["out_mask:0"]),
    ]
    inits = [w, b, numpy_helper.from_array(np.float32(0.0), "lo"), numpy_helper.from_array(np.float32(1.0), "hi")]
    inp = helper.make_tensor_value_info("in_face:0", TensorProto.FLOAT, ["N", 256, 256, 3])
    out = helper.make_tensor_value_info("out_mask:0", TensorProto.FLOAT, ["N", 256, 256, 1])
    return _model(nodes, [inp], [out], inits)


def parser(channels: dict[int, int]) -> bytes:
    """Face-parser signature (``input`` N×3×512×512 → ``output`` N×19×512×512): class ``c`` scores input
    channel ``channels[c]`` (as fed), every other class scores −100."""
    weight = np.zeros((19, 3, 1, 1), np.float32)
    bias = np.full(19, -100.0, np.float32)
    for cls, ch in channels.items():
        weight[cls, ch] = 1.0
        bias[cls] = 0.0
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["output"])]
    inits = [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")]
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 512, 512])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 19, 512, 512])
    return _model(nodes, [inp], [out], inits)
