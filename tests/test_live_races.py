"""Requests that overlap while the session is live, and a loop that ends by itself: a source face chosen while a
swapper still loads, a restage and a swapper switch in either order, a face that cannot be prepared, two starts at
once, a camera file that ends, a camera that breaks. The real session, the real clip as the camera, the classic
swapper; a slow model load is a stand-in that holds the real build until the test lets it go, so every
interleaving is forced, not timed."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ghostlive.errors import GhostliveError
from ghostlive.hub import ModelStore
from ghostlive.jobs import SwapSettings
from ghostlive.pipeline.live import LivePipeline
from ghostlive.session import Session, core
from ghostlive.session.live import LiveRequest, innermost
from ghostlive.tracking import TrackerOptions

from .conftest import sample
from .media_tools import CLIP, BrokenCamera, frames_of
from .test_live import wait_until

GRACE, ASTRONAUT = str(sample("grace_hopper.jpg")), str(sample("astronaut.png"))
SETTINGS = SwapSettings(tiles=0, tracker=TrackerOptions(detect_every=3))
LOOP_THREADS = {"ghostlive-capture", "ghostlive-track", "ghostlive-swap", "ghostlive-sink"}


class StandInSlowBuild:
    """A stand-in for a model that takes seconds to load: calls ``real`` (a swapper or stage factory, or the
    loop's start), the first ``hold`` calls only once the test releases them."""

    def __init__(self, real: Any, hold: int = 1) -> None:
        self.real, self.hold = real, hold
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0
        self.built: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            held = self.calls <= self.hold
        if held:
            self.entered.set()
            assert self.release.wait(60)
        made = self.real(*args, **kwargs)
        self.built.append(made)
        return made


def add_unpreparable_face(s: Session) -> Any:
    """Adds a source whose photo no longer holds its face (Grace's face on a 16×16 corner of her photo), so that
    preparing it fails; returns Grace's own source face."""
    grace = s.sources[0]
    s.sources.append(replace(grace, image=grace.image[:16, :16].copy()))
    return grace


def live_session(tmp_path: Path, photos: list[str], request: LiveRequest | None = None) -> Session:
    s = Session(ModelStore(tmp_path / "home"))
    for photo in photos:
        s.add_sources([photo]).result(60)
    s.select_source(0)
    s.start_live(request or LiveRequest(str(CLIP)), SETTINGS).result(60)
    return s


def in_loop(s: Session) -> str:
    """The photo of the source face the loop pastes (prepared by the loop's swapper, as it was switched in)."""
    stream = s.pipeline.swapper
    used = np.asarray(stream.pairs[0].source.image)
    for face in s.sources:
        mine = np.asarray(stream.swapper.prepare_source(face.image, face.face).image)
        if mine.shape == used.shape and np.array_equal(mine, used):
            return face.path
    return "?"


def settled(pipeline: LivePipeline) -> None:
    """Every background load has finished, and the loop applied what they queued."""
    wait_until(lambda: not any(t.name == "ghostlive-load" and t.is_alive() for t in threading.enumerate()))
    applied = threading.Event()
    pipeline.update(lambda _stream: applied.set())
    assert applied.wait(30)


def test_a_face_chosen_while_a_swapper_loads_is_the_one_it_switches_in_with(tmp_path: Path, monkeypatch) -> None:
    slow = StandInSlowBuild(core.live_swapper)
    monkeypatch.setattr(core, "live_swapper", slow)
    s = live_session(tmp_path, [GRACE, ASTRONAUT])
    pipeline = s.pipeline
    try:
        assert in_loop(s) == GRACE
        s.change_swapper("classic", SETTINGS)
        assert slow.entered.wait(30)  # the new swapper loads...
        s.select_source(1)  # ...when the user picks another face: it is switched in at once, with the swapper running
        wait_until(lambda: in_loop(s) == ASTRONAUT)
        slow.release.set()
        settled(pipeline)
        assert pipeline.swapper.swapper is slow.built[0]  # the new swapper came...
        assert in_loop(s) == ASTRONAUT and s.selected == 1  # ...with the face chosen last
    finally:
        s.stop_live()


def test_a_restage_that_finishes_after_a_newer_swapper_does_not_bring_back_the_old_one(
    tmp_path: Path, monkeypatch
) -> None:
    slow_stages = StandInSlowBuild(core.with_stages)
    builds = StandInSlowBuild(core.live_swapper, hold=0)
    monkeypatch.setattr(core, "with_stages", slow_stages)
    monkeypatch.setattr(core, "live_swapper", builds)
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    try:
        old = innermost(pipeline.swapper.swapper)
        restage = s.apply_settings(SETTINGS, restage=True)  # the user turns on a mask: its models build slowly
        assert slow_stages.entered.wait(30)
        s.change_swapper("classic", SETTINGS)  # then picks a swapper, which loads first
        wait_until(lambda: bool(builds.built) and innermost(pipeline.swapper.swapper) is builds.built[0])
        slow_stages.release.set()
        restage.result(60)
        settled(pipeline)
        assert innermost(pipeline.swapper.swapper) is builds.built[0] is not old
    finally:
        s.stop_live()


def test_a_restage_while_a_swapper_loads_gives_that_swapper_the_new_stages(tmp_path: Path, monkeypatch) -> None:
    from ghostlive.cli import main
    from ghostlive.enhance import EnhancedSwapper, EnhanceOptions

    from . import restorer_graphs

    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    model = tmp_path / "gfpgan_1.4.onnx"
    model.write_bytes(restorer_graphs.restorer(512, np.eye(3)))  # stand-in graph with the real signature
    assert main(["models", "import", str(model)]) == 0
    slow = StandInSlowBuild(core.live_swapper)
    monkeypatch.setattr(core, "live_swapper", slow)
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    try:
        old = innermost(pipeline.swapper.swapper)
        s.change_swapper("classic", SETTINGS)  # a swapper loads slowly...
        assert slow.entered.wait(30)
        enhanced = replace(SETTINGS, enhance=EnhanceOptions("gfpgan-1.4"))
        s.apply_settings(enhanced, restage=True).result(60)  # ...when the user adds a face restorer
        slow.release.set()
        settled(pipeline)
        final = pipeline.swapper.swapper
        assert isinstance(final, EnhancedSwapper) and innermost(final) is not old  # the new swapper, restored
        assert final.budget_ms == pytest.approx(500.0 / pipeline.options.output_fps)
    finally:
        s.stop_live()


def test_a_swapper_that_a_restage_built_again_fails_its_request(tmp_path: Path, monkeypatch) -> None:
    """A swapper that cannot load (inswapper is not installed) is still loading when a restage builds it again:
    the request fails (the window puts the running swapper back in its box), and the loop keeps the old one."""
    slow = StandInSlowBuild(core.live_swapper)
    monkeypatch.setattr(core, "live_swapper", slow)
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    try:
        old = pipeline.swapper.swapper
        request = s.change_swapper("inswapper", SETTINGS)
        assert slow.entered.wait(30)
        with pytest.raises(GhostliveError, match="inswapper"):  # the rebuild fails: the task says why
            s.apply_settings(SETTINGS, restage=True).result(60)
        slow.release.set()
        with pytest.raises(GhostliveError, match="inswapper"):
            request.result(60)
        settled(pipeline)
        assert pipeline.swapper.swapper is old
    finally:
        s.stop_live()


def test_a_face_that_fails_after_one_it_overtook_leaves_the_shown_face_selected(tmp_path: Path, monkeypatch) -> None:
    """Faces 1 then 2 chosen quickly: face 1 (slow to prepare) is overtaken by face 2, which cannot be prepared.
    The loop never showed face 1, so face 0, the one it shows, is selected again (the window said face 1)."""
    s = live_session(tmp_path, [GRACE, ASTRONAUT])
    pipeline = s.pipeline
    try:
        grace = add_unpreparable_face(s)
        swapper = pipeline.swapper.swapper
        slow = StandInSlowBuild(swapper.prepare_source)  # face 1 takes its time
        monkeypatch.setattr(swapper, "prepare_source", slow)
        s.select_source(1)
        assert slow.entered.wait(30)
        s.select_source(2)
        slow.release.set()
        settled(pipeline)
        assert s.selected == 0 and in_loop(s) == GRACE
        assert [np.array_equal(img, grace.image) for img, _face, _ref in pipeline.loads.sources] == [True]
    finally:
        s.stop_live()


def test_a_new_swapper_is_not_refused_for_a_face_that_fails(tmp_path: Path, monkeypatch) -> None:
    """A new swapper loads; meanwhile a face that cannot be prepared is chosen, and the running swapper is slow to
    say so. The new swapper fails on that face first: it switches in with the face the loop shows instead of
    failing as a whole (its box went back, the user's swapper choice lost), and the face's own load reports it."""
    build = StandInSlowBuild(core.live_swapper)
    monkeypatch.setattr(core, "live_swapper", build)
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    errors: list[str] = []
    s.events.error.connect(errors.append)
    try:
        add_unpreparable_face(s)
        running = pipeline.swapper.swapper
        slow = StandInSlowBuild(running.prepare_source)
        monkeypatch.setattr(running, "prepare_source", slow)
        load = s.change_swapper("classic", SETTINGS)
        assert build.entered.wait(30)
        s.select_source(1)
        assert slow.entered.wait(30)  # the running swapper takes its time over the bad face
        build.release.set()
        assert load is not None and load.exception(60) is None  # the new swapper did not fail on it
        slow.release.set()
        settled(pipeline)
        assert pipeline.swapper.swapper is build.built[0] and in_loop(s) == GRACE and s.selected == 0
        assert any("the source face lies outside its image" in e for e in errors)
    finally:
        s.stop_live()


def test_a_face_that_cannot_be_prepared_leaves_the_previous_one_selected(tmp_path: Path) -> None:
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    errors: list[str] = []
    s.events.error.connect(errors.append)
    try:
        add_unpreparable_face(s)
        s.select_source(1)
        settled(pipeline)
        assert errors and "the source face lies outside its image" in errors[-1]
        assert s.selected == 0 and in_loop(s) == GRACE
        reported = len(errors)
        s.change_swapper("classic", SETTINGS)  # a later switch prepares the face still selected
        settled(pipeline)
        assert len(errors) == reported and in_loop(s) == GRACE
    finally:
        s.stop_live()


def test_two_starts_at_once_make_one_loop(tmp_path: Path, monkeypatch) -> None:
    slow = StandInSlowBuild(core.start_pipeline)  # the camera takes a while to open
    monkeypatch.setattr(core, "start_pipeline", slow)
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    first = s.start_live(LiveRequest(str(CLIP)), SETTINGS)
    assert slow.entered.wait(60)
    second = s.start_live(LiveRequest(str(CLIP)), SETTINGS)  # a double click
    wait_until(lambda: second.done() or slow.calls == 2)
    measuring = s.optimise("ghost-2")  # nor may int8 be timed while a loop starts
    with pytest.raises(GhostliveError, match="stop the live preview first"):
        measuring.result(60)
    slow.release.set()
    pipeline = first.result(60)
    try:
        with pytest.raises(GhostliveError, match="already running"):
            second.result(60)
        assert slow.calls == 1 and s.pipeline is pipeline
    finally:
        s.stop_live()
    assert not pipeline.running and not any(t.name in LOOP_THREADS and t.is_alive() for t in threading.enumerate())


def test_a_camera_file_that_ends_stops_the_session_and_closes_its_outputs(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    live: list[bool] = []
    stopped = threading.Event()
    saved: list[Path] = []
    s.events.live.connect(lambda on: (live.append(on), on or stopped.set()))
    s.events.saved.connect(saved.append)
    pipeline = s.start_live(LiveRequest(str(CLIP), loop=False, stream=("127.0.0.1", 0)), SETTINGS).result(60)
    url = next(sink.url for sink in pipeline.sinks if hasattr(sink, "url"))
    recording = s.start_recording(tmp_path)
    assert stopped.wait(60)  # the clip played to its end
    assert live == [True, False] and s.pipeline is None and not pipeline.running
    assert saved == [recording] and len(frames_of(recording)) > 10  # the recording was finished and announced
    with pytest.raises(urllib.error.URLError):  # the stream server was closed
        urllib.request.urlopen(url.replace("stream.mjpg", "snapshot.jpg"), timeout=5)
    again = s.start_live(LiveRequest(str(CLIP)), SETTINGS).result(60)  # and the next start is not refused
    s.stop_live()
    assert live == [True, False, True, False] and not again.running


def test_a_loop_stopped_by_an_error_stops_the_session(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(LiveRequest, "open", lambda request: BrokenCamera(request.camera, 10))
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    live, errors = [], []
    stopped = threading.Event()
    s.events.error.connect(errors.append)
    s.events.live.connect(lambda on: (live.append(on), on or stopped.set()))
    pipeline = s.start_live(LiveRequest(str(CLIP)), SETTINGS).result(60)
    assert stopped.wait(60)
    assert errors == ["capture stopped: OSError: decoder error"]
    assert live == [True, False] and s.pipeline is None and not pipeline.running
    assert not any(t.name in LOOP_THREADS and t.is_alive() for t in threading.enumerate())


def test_a_loop_that_ends_while_it_starts_is_stopped_once_started(tmp_path: Path, monkeypatch) -> None:
    def start_then_end(*args: Any, **kwargs: Any) -> LivePipeline:
        pipeline = real(*args, **kwargs)
        wait_until(lambda: not pipeline.running)  # the camera file ends before go_live has the loop
        return pipeline

    real = core.start_pipeline
    monkeypatch.setattr(core, "start_pipeline", start_then_end)
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    live: list[bool] = []
    stopped = threading.Event()
    s.events.live.connect(lambda on: (live.append(on), on or stopped.set()))
    s.start_live(LiveRequest(str(CLIP), loop=False), SETTINGS).result(60)
    assert stopped.wait(60) and live == [True, False] and s.pipeline is None


def test_a_setting_change_that_fails_is_reported_and_the_loop_goes_on(tmp_path: Path) -> None:
    s = live_session(tmp_path, [GRACE])
    pipeline = s.pipeline
    errors: list[str] = []
    s.events.error.connect(errors.append)
    try:

        def bad(_stream: Any) -> None:
            raise ValueError("bad setting")

        pipeline.update(bad)
        wait_until(lambda: bool(errors))
        seen = s.events.frames_seen
        wait_until(lambda: s.events.frames_seen > seen + 5)  # frames still flow
        assert errors == ["a live change failed: ValueError: bad setting"]
        assert pipeline.running and s.pipeline is pipeline
    finally:
        s.stop_live()
