"""Wiring of the stages: detect → landmarks → select → swap → blend."""

from ghostlive.pipeline.frame import FramePipeline, FrameResult, StageTimes

__all__ = ["FramePipeline", "FrameResult", "StageTimes"]
