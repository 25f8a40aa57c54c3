"""The classic swapper with a profile source: where the source's face mesh overhangs its real silhouette (nose
tip, lips, chin of the turned cameraman), the triangles there sample the wall behind him; they must not be
pasted as a light blotch onto a frontal target, and a frontal source must be left exactly as before."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.facemesh import topology
from ghostlive.ops.occlusion import plan_source
from ghostlive.ops.raster import triangle_ids
from ghostlive.swappers.classic import ClassicSwapper

from .conftest import largest


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(image, 0.0, 255.0).astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


def test_a_profile_sources_background_is_not_pasted(analyzer: FaceAnalyzer, cameraman, astronaut) -> None:
    topo = topology()
    swapper = ClassicSwapper()
    target = largest(analyzer.analyze(astronaut))
    source = swapper.prepare_source(cameraman, largest(analyzer.analyze(cameraman)))
    assert source.foreign is not None and source.foreign.sum() >= 10  # nose profile, lips and chin
    plain = dataclasses.replace(source, foreign=None)  # the same source without the background test
    # the target triangles that, without the test, sample a source triangle found to be background
    unplanned = plan_source(source.landmarks, target.landmarks, topo, source.visible)
    index = {tuple(sorted(t)): i for i, t in enumerate(topo.triangles.tolist())}
    sampled = np.array([index.get(tuple(sorted(t)), -1) for t in unplanned.src_triangles.tolist()])
    blotch = (sampled >= 0) & source.foreign[np.maximum(sampled, 0)] & ~unplanned.hidden
    before, after = (swapper.render(astronaut, target, s) for s in (plain, source))
    order = np.argsort(-np.asarray(target.depth)[topo.triangles].mean(1), kind="stable")
    ids = triangle_ids(target.landmarks, topo.triangles, after.roi, order)
    shown = (ids >= 0) & (after.mask > 0.9)
    region = shown & blotch[np.maximum(ids, 0)]
    skin = shown & topo.skin[np.maximum(ids, 0)] & ~blotch[np.maximum(ids, 0)]
    assert region.sum() > 100

    def brighter_than_skin(paste) -> float:
        """Share of the region lighter than 90 % of the swapped face's own skin elsewhere (the wall's light)."""
        light = _lab(paste.face)[..., 0]
        return float((light[region] > np.percentile(light[skin], 90)).mean())

    assert brighter_than_skin(before) > 0.3  # what the swap did before: half of it the wall's light
    assert brighter_than_skin(after) < 0.05


def test_a_frontal_source_is_unchanged(analyzer: FaceAnalyzer, grace, astronaut) -> None:
    swapper = ClassicSwapper()
    target = largest(analyzer.analyze(astronaut))
    source = swapper.prepare_source(grace, largest(analyzer.analyze(grace)))
    assert source.foreign is not None and not source.foreign.any()
    before = swapper.render(astronaut, target, dataclasses.replace(source, foreign=None))
    after = swapper.render(astronaut, target, source)
    assert before.roi == after.roi
    assert np.array_equal(before.face, after.face) and np.array_equal(before.mask, after.mask)
