"""Identity embedders for reference matching (``--reference``, ``--pair``, ``--faces first``), by name.

``auto``: the swapper's own ArcFace when it has one (GHOST's or inswapper's rule and threshold); otherwise the
best installed: insightface ArcFace w600k, then GHOST's ArcFace, then the built-in LBP descriptor (no model).
"""

from __future__ import annotations

from collections.abc import Callable

from ghostlive.faces import Embedder, LbpEmbedder
from ghostlive.hub import ModelStore, has_models_folder
from ghostlive.models.registry import BY_NAME
from ghostlive.registry import Registry
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.factory import ghost_torch_factory, open_model
from ghostlive.swappers.neural import GhostEmbedder, InsightEmbedder
from ghostlive.types import Embedding, Face, Frame


class LazyEmbedder:
    """An installed embedder whose model opens on first use: a job that never matches references never loads it
    (name and threshold are known before)."""

    def __init__(self, name: str, default_threshold: float, build: Callable[[], Embedder]) -> None:
        self.name = name
        self.default_threshold = default_threshold
        self._build = build
        self._embedder: Embedder | None = None

    def embed(self, image: Frame, face: Face) -> Embedding:
        if self._embedder is None:
            self._embedder = self._build()
        return self._embedder.embed(image, face)


def _w600k(store: ModelStore, backend: str) -> Embedder:
    from ghostlive.models.insightface import InsightArcFace

    return InsightEmbedder(InsightArcFace(open_model(store, BY_NAME["w600k"].filename, backend)))


def _ghost(store: ModelStore, backend: str) -> Embedder:
    from ghostlive.engines.registry import backend_order, open_runner
    from ghostlive.models.ghost import GhostArcFace

    path = store.path(BY_NAME["ghost-arcface"].exports_to)
    runner = open_runner(path, prefer=backend_order(backend), torch_factory=ghost_torch_factory(store, "ghost-arcface"))
    return GhostEmbedder(GhostArcFace(runner))


EMBEDDERS: Registry[Embedder] = Registry("embedder")
"""Embedders by name: ``factory(store, backend)``; ``installed(store)`` says whether its weights are there."""
EMBEDDERS.register(
    "arcface-w600k",
    _w600k,
    installed=lambda store: store.has(BY_NAME["w600k"].filename),
    priority=2,
    help="insightface ArcFace R50 (ghostlive models download w600k)",
)
EMBEDDERS.register(
    "arcface-ghost",
    _ghost,
    installed=lambda store: store.has(BY_NAME["ghost-arcface"].exports_to),
    priority=1,
    help="GHOST's ArcFace iresnet100 (ghostlive models download ghost-arcface)",
)
EMBEDDERS.register("lbp", lambda store, backend: LbpEmbedder(), help="built-in LBP descriptor")
EMBEDDER_CHOICES: tuple[str, ...] = ("auto", *EMBEDDERS.names())
THRESHOLDS = {
    "arcface-w600k": InsightEmbedder.default_threshold,
    "arcface-ghost": GhostEmbedder.default_threshold,
    "lbp": LbpEmbedder.default_threshold,
}


def choose_embedder(
    swapper: Swapper | None = None, name: str = "auto", store: ModelStore | None = None, backend: str = "auto"
) -> Embedder:
    """The embedder ``name``; ``auto``: ``swapper``'s own, else the best installed (the model folder is not
    created just to look)."""
    if name == "auto":
        own = getattr(swapper, "embedder", None)
        if own is not None:
            return own
        if store is None and not has_models_folder():
            return LbpEmbedder()
    store = store or ModelStore()
    chosen = EMBEDDERS.best(store) if name == "auto" else EMBEDDERS.entry(name).name
    if chosen == "lbp":
        return LbpEmbedder()
    return LazyEmbedder(chosen, THRESHOLDS[chosen], lambda: EMBEDDERS.create(chosen, store, backend))
