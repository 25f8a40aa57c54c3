"""The protocol every swapper implements."""

from __future__ import annotations

from typing import Any, Protocol

from ghostlive.ops.blend import Paste
from ghostlive.types import Array, Face, Frame


class Swapper(Protocol):
    """Renders a source identity onto target faces.

    ``prepare_source`` runs once per source face (embedding, crops); ``render`` runs per target face per frame
    and returns what to paste, leaving compositing to the caller so several faces can share one frame.
    """

    name: str

    def prepare_source(self, image: Frame, face: Face) -> Any: ...

    def render(self, frame: Array, target: Face, source: Any, state: dict[str, Any] | None = None) -> Paste | None:
        """``state`` is per-face memory across frames (a track's), for settings held while a face stays."""
        ...


class SwapperStage:
    """Base of a stage that wraps a swapper (masks, enhancers): it renders through ``inner`` and is the wrapped
    swapper for everything else (name, embedder, options, source preparation)."""

    def __init__(self, inner: Swapper) -> None:
        self.inner = inner
        self.spent_ms: dict[str, float] = {}
        """Time spent here per stage, for the pipeline's stage table."""

    @property
    def name(self) -> str:
        return self.inner.name

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def prepare_source(self, image: Frame, face: Face) -> Any:
        return self.inner.prepare_source(image, face)
