"""An identity judge independent of ghostlive's swappers, for tests: dlib's 128-d descriptor, through the
library's own judge (:class:`ghostlive.eval.judges.DlibJudge`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ghostlive.eval.judges import DlibJudge


@lru_cache(maxsize=1)
def _judge() -> DlibJudge:
    return DlibJudge()


def descriptor(bgr: np.ndarray) -> np.ndarray:
    """dlib's descriptor of the largest face dlib itself finds in ``bgr``."""
    d = _judge().describe(bgr)
    if d is None:
        raise AssertionError("dlib finds no face")
    return d


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """dlib's identity distance (< 0.6 is dlib's 'same person')."""
    return float(np.linalg.norm(descriptor(a) - descriptor(b)))
