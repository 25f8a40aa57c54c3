"""Former home of the stream pipeline, now the one frame processor (:mod:`ghostlive.pipeline.chain`)."""

from ghostlive.pipeline.chain import FrameProcessor, Pair, StreamSwapper

__all__ = ["FrameProcessor", "Pair", "StreamSwapper"]
