"""The classic swapper with a profile source: where the source's face mesh overhangs its real silhouette (nose
tip, lips, chin of the turned cameraman), the triangles there sample the wall behind him; they must not be
pasted as a light blotch onto a frontal target, and a frontal source must be left exactly as before."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ghostlive.faces import FaceAnalyzer
from ghostlive.models.facemesh import topology
from ghostlive.ops.occlusion import plan_source, visibility
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


def test_a_turned_away_brow_or_lid_samples_the_side_that_shows_it_larger(
    analyzer: FaceAnalyzer, cameraman, astronaut
) -> None:
    """A brow, lid or lip triangle on the half of a profile source turned away from the camera, squeezed to a
    sliver there, was stretched back over the target whenever its mirror image was not quite wide enough to be
    "usable": a dark sliver of eye socket or hairline became a hard-edged black patch between the brows. It now
    samples whichever side shows it larger (its mirror image, where that one is seen)."""
    topo = topology()
    source = largest(analyzer.analyze(cameraman))
    target = largest(analyzer.analyze(astronaut))
    seen = np.asarray(visibility(source.landmarks, source.depth, topo.triangles))
    plan = plan_source(source.landmarks, target.landmarks, topo, seen)
    s, d = np.asarray(source.landmarks, np.float64), np.asarray(target.landmarks, np.float64)

    def areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
        a, b, c = points[tris[:, 0]], points[tris[:, 1]], points[tris[:, 2]]
        return 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])

    orient = np.sign(areas(d, topo.triangles))
    own = areas(s, topo.triangles) * orient
    mirror = -areas(s, topo.mirror[topo.triangles]) * orient
    mirror_seen = np.where(topo.mirror_triangle >= 0, seen[np.maximum(topo.mirror_triangle, 0)], 0.0)
    far = min((-1, 1), key=lambda k: np.clip(own[topo.side == k], 0.0, None).sum())  # the half turned away
    squeezed = (topo.side == far) & ~topo.skin & (mirror > own) & (mirror_seen >= 0.5)
    assert squeezed.sum() >= 5  # brows, lids and lips of the cameraman's far side
    takes_own = np.all(plan.src_triangles == topo.triangles, axis=1) & ~plan.hidden
    assert not (squeezed & takes_own).any()
    assert (squeezed & plan.mirrored).sum() == squeezed.sum()
