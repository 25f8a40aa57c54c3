"""The frame processor and its stage order (:mod:`ghostlive.pipeline.chain`): faces → select → swap → place →
[enhance] → masks → blend."""

from ghostlive.pipeline.chain import FrameProcessor, Pair
from ghostlive.pipeline.frame import FrameResult, StageTimes

__all__ = ["FrameProcessor", "FrameResult", "Pair", "StageTimes"]
