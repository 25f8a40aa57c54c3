"""Inference runners: the only place that knows ONNX Runtime, TensorRT or torch.

A runner takes named input arrays and returns named output arrays. Model wrappers receive a runner and never
build one themselves, so a fake runner can test them without weights.
"""

from __future__ import annotations

from ghostlive.engines.base import Runner, RunnerInfo
from ghostlive.engines.ort import OrtRunner, open_onnx

__all__ = ["OrtRunner", "Runner", "RunnerInfo", "open_onnx"]
