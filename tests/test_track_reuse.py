"""Statistics of a tracked face reused across frames (ghostlive.tracking.reuse, used by the classic swapper's
render for the target's colour range and greyness): the video output stays within a few levels of measuring
them on every frame, on the real test clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.media.image import read_image
from ghostlive.media.video import VideoItem, VideoSource
from ghostlive.ops.blend import composite
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.tracking import REUSE_FRAMES, FaceTracker, reuse
from ghostlive.types import FaceMemory

CLIP = Path(__file__).parent / "data" / "megamind_3s.mp4"


def test_reuse_follows_age_and_movement() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    state = FaceMemory()
    assert [reuse(state, "k", (100, 100, 200, 200), compute) for _ in range(REUSE_FRAMES)] == [1] * REUSE_FRAMES
    assert reuse(state, "k", (100, 100, 200, 200), compute) == 2  # too old: measured again
    assert reuse(state, "k", (103, 100, 203, 200), compute) == 2  # moved 3 % of the box: reused
    assert reuse(state, "k", (110, 100, 210, 200), compute) == 3  # moved 10 %: measured again
    assert reuse(state, "other", (110, 100, 210, 200), compute) == 4  # each statistic separately
    assert reuse(None, "k", (110, 100, 210, 200), compute) == 5  # no track (a photo): always measured


@pytest.mark.slow
def test_reused_statistics_keep_the_swapped_clip() -> None:
    analyzer = FaceAnalyzer(tile_levels=0)
    swapper = ClassicSwapper()
    grace = read_image(asset_path("samples/grace_hopper.jpg")).bgr
    source = swapper.prepare_source(grace, analyzer.analyze(grace)[0])
    with VideoSource(CLIP) as video:
        frames = [item.image for item in video.items() if isinstance(item, VideoItem)]
    tracker = FaceTracker(analyzer)
    diffs, renders = [], 0
    for i, frame in enumerate(frames):
        for track in tracker.update(frame, i / 30):
            full = composite(frame, [swapper.render(frame, track.face, source, None)])
            fast = composite(frame, [swapper.render(frame, track.face, source, track.memory)])
            diffs.append(np.abs(full.astype(np.int16) - fast.astype(np.int16)))
            renders += 1
    assert renders >= len(frames) - 5
    d = np.stack(diffs)
    assert (d > 0).mean() < 0.005  # under half a percent of pixels change at all
    assert np.percentile(d, 99.99) <= 3 and d.max() <= 16  # by a few levels: clamped highlights
