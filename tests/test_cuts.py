"""Shot changes: nothing from the previous shot is pasted over the next one (video files, looping file cameras),
and ordinary camera work (pans, zooms, lighting flicker) keeps its tracks."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("av")

from ghostlive.jobs import Job, PairSpec, SwapSettings
from ghostlive.media.sources import FileCamera
from ghostlive.ops.shots import ShotDetector
from ghostlive.pipeline.live import LiveOptions, LivePipeline, Packet
from ghostlive.tracking import TrackerOptions

from .conftest import sample
from .media_tools import CLIP, frames_of, write_video

GRACE = str(sample("grace_hopper.jpg"))
NO_DEFENCE = TrackerOptions(cuts=False, same_face=-2.0)
"""Neither shot detection nor the appearance check: what the tracker did before (gaps bridged blindly)."""


@pytest.fixture(scope="module")
def shot_a() -> list[np.ndarray]:
    """Ten frames of the bundled clip with a face in each."""
    return frames_of(CLIP)[40:50]


@pytest.fixture(scope="module")
def faceless(shot_a: list[np.ndarray], astronaut: np.ndarray) -> np.ndarray:
    """A real still with no face (the lower part of the astronaut photo), at the clip's size."""
    h, w = shot_a[0].shape[:2]
    return cv2.resize(astronaut[300:], (w, h), interpolation=cv2.INTER_AREA)


def stream(tracker: TrackerOptions | None = None):
    return Job(SwapSettings(tiles=0, tracker=tracker or TrackerOptions()), [PairSpec(GRACE)]).stream()


def run(frames: list[np.ndarray], tracker: TrackerOptions | None = None) -> list[np.ndarray]:
    s = stream(tracker)
    return [s.process(f, i / 24).frame for i, f in enumerate(frames)]


@pytest.mark.parametrize(
    "tracker",
    [TrackerOptions(), TrackerOptions(same_face=-2.0), TrackerOptions(cuts=False)],
    ids=["both", "shot-detection-only", "appearance-check-only"],
)
def test_no_paste_survives_a_cut_to_a_faceless_shot(shot_a, faceless, tracker: TrackerOptions) -> None:
    frames = shot_a + [faceless] * 6
    before = run(frames, NO_DEFENCE)
    assert not np.array_equal(before[len(shot_a)], faceless)  # the bug: the old face was held over the new shot
    out = run(frames, tracker)
    assert all(not np.array_equal(o, f) for o, f in zip(out[: len(shot_a)], shot_a, strict=True))  # swapped
    assert all(np.array_equal(o, faceless) for o in out[len(shot_a) :])  # nothing pasted after the cut


def test_a_cut_to_another_face_starts_afresh(shot_a, grace: np.ndarray) -> None:
    h, w = shot_a[0].shape[:2]
    portrait = cv2.resize(grace, (round(grace.shape[1] * h / grace.shape[0]), h))
    shot_b = np.full_like(shot_a[0], 90)
    shot_b[:, w - portrait.shape[1] :] = portrait  # a different person, elsewhere in the picture
    frames = shot_a + [shot_b] * 4
    s = stream()
    out = [s.process(f, i / 24).frame for i, f in enumerate(frames)]
    assert s.tracker.cuts == 1
    fresh = run([shot_b] * 4)  # exactly what the new shot gives on its own: no paste, track or filter carried over
    assert all(np.array_equal(a, b) for a, b in zip(out[len(shot_a) :], fresh, strict=True))


def pan_and_zoom(image: np.ndarray, size: tuple[int, int] = (720, 528)) -> list[np.ndarray]:
    """A camera panning 12 px per frame over a scene, then zooming in 2 % per frame, then flickering lights."""
    w, h = size
    scene = cv2.resize(image, (1100, 1100))
    pan = [scene[200 : 200 + h, 12 * i : 12 * i + w] for i in range(16)]
    x0, y0 = 12 * 15, 200
    zoom = []
    for i in range(16):
        m = 1.02**i
        cw, ch = w / m, h / m
        cx, cy = x0 + w / 2, y0 + h / 2
        crop = scene[round(cy - ch / 2) : round(cy + ch / 2), round(cx - cw / 2) : round(cx + cw / 2)]
        zoom.append(cv2.resize(crop, size, interpolation=cv2.INTER_AREA))
    flicker = [np.clip(zoom[-1] * g, 0, 255).astype(np.uint8) for g in (1.0, 1.3, 0.8, 1.25, 0.75, 1.0)]
    return pan + zoom + flicker


def test_pan_zoom_and_flicker_of_one_face_keep_its_track(astronaut: np.ndarray) -> None:
    s = stream()
    ids = set()
    for i, f in enumerate(pan_and_zoom(astronaut)):
        result = s.process(f, i / 24)
        assert len(result.swapped) == 1
        ids.update(tr.id for tr in s.tracker.tracks)
    assert s.tracker.cuts == 0 and ids == {0}  # one track from start to end


def test_real_footage_has_no_false_cuts() -> None:
    frames = frames_of(CLIP)[1:]  # frame 0 is black: the shot starts at frame 1
    shots = ShotDetector()
    assert [i for i, f in enumerate(frames) if shots.is_cut(f)] == []


def test_file_camera_counts_its_restarts(tmp_path: Path, faceless: np.ndarray) -> None:
    clip = write_video(tmp_path / "still.mp4", [faceless] * 3)
    cam = FileCamera(clip, pace=False)
    seen = [(cam.read() is not None, cam.cuts) for _ in range(7)]
    cam.close()
    assert seen == [(True, 0)] * 3 + [(True, 1)] * 3 + [(True, 2)]


def test_looping_file_camera_never_carries_a_face_over_its_restart(tmp_path: Path, faceless, astronaut) -> None:
    """A looping camera clip that ends on a face and starts without one. With the frame-based defences off, only
    the signalled restart can end the track: no faceless frame may come out swapped."""
    h, w = faceless.shape[:2]
    face = cv2.resize(astronaut, (w, h))
    clip = write_video(tmp_path / "loop.mp4", [faceless] * 3 + [face] * 3)
    decoded = frames_of(clip)
    swapper = stream(NO_DEFENCE)
    kinds: list[tuple[bool, int]] = []

    def on_frame(p: Packet) -> None:
        still = min(range(6), key=lambda k: float(np.abs(p.image.astype(int) - decoded[k]).mean())) < 3
        kinds.append((still, p.swapped))

    pipe = LivePipeline(lambda: FileCamera(clip), swapper, [], LiveOptions(), on_frame=on_frame)
    pipe.start()
    time.sleep(4.0)
    pipe.stop()
    assert not pipe.errors
    after_face = [sw for (still, sw), (prev, _) in zip(kinds[1:], kinds, strict=False) if still and not prev]
    assert len(after_face) >= 3  # several restarts from a face frame onto the faceless ones were seen
    assert all(sw == 0 for still, sw in kinds if still)
    assert any(sw for still, sw in kinds if not still)


def test_a_small_face_in_a_video_is_found_by_tiles_once_then_followed(astronaut: np.ndarray) -> None:
    """A 40 px face in 1280×720 frames: the whole-frame pass cannot see it, the shot's first (tiled) detection
    does, and the face mesh follows it; later detections stay single-pass (the cost of normal frames)."""
    from .test_detection import face_patch

    patch = face_patch(astronaut, 40)
    side = patch.shape[0]
    backdrop = cv2.resize(astronaut[300:], (1280, 720), interpolation=cv2.INTER_CUBIC)
    frames = []
    for i in range(8):
        f = backdrop.copy()
        f[300 : 300 + side, 600 + 3 * i : 600 + 3 * i + side] = patch
        frames.append(f)
    for tiles, expect in ((0, 0), (2, 1)):
        s = Job(SwapSettings(tiles=tiles), [PairSpec(GRACE)]).stream()
        calls: list[bool] = []
        real = s.analyzer.detect

        def spy(image, *, tiled: bool = True, calls=calls, real=real):  # records, then runs the real detector
            calls.append(tiled)
            return real(image, tiled=tiled)

        s.analyzer.detect = spy
        assert [len(s.process(f, i / 24).swapped) for i, f in enumerate(frames)] == [expect] * len(frames)
        assert calls[0] and not any(calls[1:])


def test_a_reopened_camera_starts_a_new_shot(tmp_path: Path, astronaut: np.ndarray) -> None:
    from .test_live import Unplugged

    clip = write_video(tmp_path / "cam.mp4", [astronaut] * 24)
    opens: list[float] = []

    def factory() -> Unplugged:
        opens.append(time.monotonic())
        return Unplugged(FileCamera(clip), 8)

    swapper = stream(NO_DEFENCE)  # only signalled cuts count
    pipe = LivePipeline(factory, swapper, [], LiveOptions(reconnect_backoff=(0.3,)))
    pipe.start()
    time.sleep(3.0)
    pipe.stop()
    assert len(opens) >= 3
    assert len(opens) - 1 <= swapper.tracker.cuts <= len(opens)  # one per opening (the last may not have delivered)
