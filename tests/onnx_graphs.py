"""Small ONNX graphs with the input/output signatures of insightface's models, built with onnx.helper.

Real insightface weights cannot be fetched here, so these graphs stand in for them: they have the real
models' tensor names, shapes and layouts, and compute simple known functions or emit planted values.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(nodes: list, inputs: list, outputs: list, inits: list | None = None) -> bytes:
    graph = helper.make_graph(nodes, "stand_in", inputs, outputs, initializer=inits or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _planted(name: str, value: np.ndarray, input_name: str) -> list:
    """``name`` = value + 0 · mean(input): a constant output that still depends on the input tensor."""
    return [
        helper.make_node("Constant", [], [f"{name}_c"], value=numpy_helper.from_array(value.astype(np.float32))),
        helper.make_node("ReduceMean", [input_name], [f"{name}_m"], keepdims=0),
        helper.make_node("Constant", [], [f"{name}_z"], value=numpy_helper.from_array(np.float32(0.0))),
        helper.make_node("Mul", [f"{name}_m", f"{name}_z"], [f"{name}_mz"]),
        helper.make_node("Add", [f"{name}_c", f"{name}_mz"], [name]),
    ]


def _channel_mean(input_name: str, out: str) -> list:
    """``out`` = mean of channel 0 of an N×C×H×W input (a scalar)."""
    return [
        helper.make_node("Constant", [], [f"{out}_s"], value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Constant", [], [f"{out}_e"], value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("Constant", [], [f"{out}_a"], value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("Slice", [input_name, f"{out}_s", f"{out}_e", f"{out}_a"], [f"{out}_c0"]),
        helper.make_node("ReduceMean", [f"{out}_c0"], [out], keepdims=0),
    ]


def _shifted(name: str, base: str, shift: float, input_name: str) -> list:
    """``name`` = ``base`` + shift · mean(channel 0 of the input): planted values that move with the input's
    first channel, so that a wrong colour order or normalisation of the input moves them visibly."""
    return [
        *_channel_mean(input_name, f"{name}_mean"),
        helper.make_node("Constant", [], [f"{name}_k"], value=numpy_helper.from_array(np.float32(shift))),
        helper.make_node("Mul", [f"{name}_mean", f"{name}_k"], [f"{name}_d"]),
        helper.make_node("Add", [base, f"{name}_d"], [name]),
    ]


def scrfd(planted: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]], kps_shift: float = 0.0) -> bytes:
    """SCRFD-like: input ``input.1`` 1×3×640×640; 9 outputs (scores, boxes, keypoints for strides 8/16/32, in
    the real models' order). Keypoint offsets move by ``kps_shift`` · mean of the input's first channel."""
    nodes, outs = [], []
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            n = (640 // stride) ** 2 * 2
            value = planted[stride][("score", "bbox", "kps").index(kind)]
            assert value.shape == (n, width)
            name = f"{kind}_{stride}"
            if kind == "kps" and kps_shift:
                nodes += _planted(f"{name}_p", value, "input.1") + _shifted(name, f"{name}_p", kps_shift, "input.1")
            else:
                nodes += _planted(name, value, "input.1")
            outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [n, width]))
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 640, 640])
    return _model(nodes, [inp], outs)


def landmark106(values: np.ndarray, shift: float = 0.0) -> bytes:
    """2d106det-like: input ``data`` 1×3×192×192 → ``fc1`` 1×212 planted (moved by ``shift`` · mean of the
    input's first channel, when given)."""
    inp = helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 192, 192])
    out = helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 212])
    if not shift:
        return _model(_planted("fc1", values.reshape(1, 212), "data"), [inp], [out])
    nodes = _planted("fc1_p", values.reshape(1, 212), "data") + _shifted("fc1", "fc1_p", shift, "data")
    return _model(nodes, [inp], [out])


def channel_mixer(
    names: tuple[str, str, str], size: int, mix: np.ndarray, v: np.ndarray, *, tanh: bool, emap: np.ndarray | None
) -> bytes:
    """A swap-network stand-in (``names`` = target, source, output): output = [tanh](mix · target + source · v)
    per pixel, mix 3×3 over channels, ``source · v`` (512 → 3) a per-channel offset. A swapped colour order, a
    wrong scale or a normalised/unnormalised identity all change the output. ``emap``: appended as the last
    initializer (inswapper's)."""
    t, s, o = names
    ins = [
        helper.make_tensor_value_info(t, TensorProto.FLOAT, ["N", 3, size, size]),
        helper.make_tensor_value_info(s, TensorProto.FLOAT, ["N", 512]),
    ]
    out = helper.make_tensor_value_info(o, TensorProto.FLOAT, ["N", 3, size, size])
    nodes = [
        helper.make_node("Conv", [t, "mix"], ["mixed"]),
        helper.make_node("MatMul", [s, "v"], ["offset"]),
        helper.make_node("Unsqueeze", ["offset", "axes"], ["offset4"]),
        helper.make_node("Add", ["mixed", "offset4"], ["pre" if tanh else o]),
    ]
    if tanh:
        nodes.append(helper.make_node("Tanh", ["pre"], [o]))
    inits = [
        numpy_helper.from_array(mix.astype(np.float32).reshape(3, 3, 1, 1), "mix"),
        numpy_helper.from_array(v.astype(np.float32), "v"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
    ]
    if emap is not None:
        inits.append(numpy_helper.from_array(emap.astype(np.float32), "emap"))
    return _model(nodes, ins, [out], inits)


def arcface(weight: np.ndarray) -> bytes:
    """ArcFace-like: input 1×3×112×112 → per-channel mean (1×3) · weight (3×512) → ``683`` 1×512."""
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["N", 3, 112, 112])
    out = helper.make_tensor_value_info("683", TensorProto.FLOAT, ["N", 512])
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["pooled", "w"], ["683"]),
    ]
    return _model(nodes, [inp], [out], [numpy_helper.from_array(weight.astype(np.float32), "w")])


def inswapper(emap: np.ndarray) -> bytes:
    """inswapper-like: ``target`` 1×3×128×128 and ``source`` 1×512 → ``output`` = target + 0·mean(source);
    the last initializer is ``emap`` (512×512), as in the real file."""
    t = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128])
    s = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    o = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    nodes = [
        helper.make_node("ReduceMean", ["source"], ["sm"], keepdims=0),
        helper.make_node("Mul", ["sm", "zero"], ["sz"]),
        helper.make_node("Add", ["target", "sz"], ["output"]),
    ]
    inits = [numpy_helper.from_array(np.float32(0.0), "zero"), numpy_helper.from_array(emap.astype(np.float32), "emap")]
    return _model(nodes, [t, s], [o], inits)
