"""Stand-in ONNX graphs with the real signatures of the face restorers (GFPGAN, GPEN-BFR, RestoreFormer++:
``input`` N×3×S×S → ``output``; CodeFormer adds a float64 ``weight`` of shape (1,)), built with onnx.helper:
the real weights cannot be fetched here, so these compute known transfers."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_graphs import _model


def restorer(size: int, mix: np.ndarray, *, weighted: bool = False) -> bytes:
    """output[:, o] = Σ_i mix[o, i] · input[:, i] (a 1×1 convolution), times ``weight`` when ``weighted``:
    the identity matrix is the identity, its negative an inversion of the value range."""
    w = numpy_helper.from_array(np.asarray(mix, np.float32).reshape(3, 3, 1, 1), "mix")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])]
    nodes = [helper.make_node("Conv", ["input", "mix"], ["mixed" if weighted else "output"])]
    if weighted:
        inputs.append(helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1]))
        nodes += [
            helper.make_node("Cast", ["weight"], ["weight_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["mixed", "weight_f"], ["output"]),
        ]
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, size, size])
    return _model(nodes, inputs, [out], [w])
