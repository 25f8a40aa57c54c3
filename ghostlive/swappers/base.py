"""The protocol every swapper implements, and the base of the stage declarations wrapped around one."""

from __future__ import annotations

from typing import Any, Protocol

from ghostlive.ops.blend import Paste, SwapCrop, place
from ghostlive.types import Array, Face, FaceMemory, Frame


class Swapper(Protocol):
    """Renders a source identity onto target faces.

    ``prepare_source`` runs once per source face (embedding, crops); ``swap`` runs per target face per frame and
    returns the rendered crop, the swapper's own mask and the crop→frame affine (:class:`SwapCrop`). Placing,
    enhancing, masking and compositing are the chain's (:mod:`ghostlive.pipeline.chain`), so several faces can
    share one frame and every swapper gets the same stages. A swapper may also have ``swap_many(frame, targets,
    sources, memories)``, every face of a frame at once (GHOST: one batched generator run); the chain uses it for
    frames with several faces.
    """

    name: str
    host_frames: bool
    """True when this swapper runs faster with frames on the CPU than on the GPU frame path: ``--device auto``
    then keeps them on the CPU (see :class:`ghostlive.pipeline.frame.FrameDevice`)."""

    def prepare_source(self, image: Frame, face: Face) -> Any: ...

    def swap(self, frame: Array, target: Face, source: Any, memory: FaceMemory | None = None) -> SwapCrop | None:
        """``memory`` is the face's memory across frames (a track's; None for a photo)."""
        ...


class CropSwapper:
    """Base of the built-in swappers: :meth:`render` is one face's crop placed into its frame region."""

    host_frames = False

    def swap(self, frame: Array, target: Face, source: Any, memory: FaceMemory | None = None) -> SwapCrop | None:
        raise NotImplementedError

    def render(self, frame: Array, target: Face, source: Any, memory: FaceMemory | None = None) -> Paste | None:
        """The swap of ``target`` placed into the frame region it covers (no enhancer, no extra masks)."""
        return place(frame, self.swap(frame, target, source, memory))


class SwapperStage:
    """Base of a stage declaration around a swapper (masks, enhancers): the chain takes the stage from it
    (:meth:`install`) and runs it in its fixed place; for everything else (name, embedder, options, source
    preparation, swap) it is the wrapped swapper."""

    def __init__(self, inner: Swapper) -> None:
        self.inner = inner
        self.spent_ms: dict[str, float] = {}
        """Kept for callers of the former wrappers: the chain times its stages itself, so this stays empty."""

    @property
    def name(self) -> str:
        return self.inner.name

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def prepare_source(self, image: Frame, face: Face) -> Any:
        return self.inner.prepare_source(image, face)

    def swap(self, frame: Array, target: Face, source: Any, memory: FaceMemory | None = None) -> SwapCrop | None:
        return self.inner.swap(frame, target, source, memory)

    def install(self, stages: Any) -> None:
        """Add this stage to ``stages`` (a :class:`ghostlive.pipeline.chain.Stages`)."""
        raise NotImplementedError
