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
