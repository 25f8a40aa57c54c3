"""The Qt-free session on its own (what the CLI drives and the window views): source faces found on a worker
thread, a video job with progress and cancel, the live loop's events, a model download with progress; real
photos, the real clip, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ghostlive.errors import CancelledError, GhostliveError
from ghostlive.hub import ModelStore
from ghostlive.jobs import SwapSettings
from ghostlive.session import Session
from ghostlive.session.live import LiveRequest

from .conftest import sample
from .http_server import Files, serve
from .media_tools import CLIP, frames_of
from .test_hub import PAYLOAD

GRACE = str(sample("grace_hopper.jpg"))


def test_sources_are_found_on_a_worker_thread_and_bad_photos_are_events(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    errors, added = [], []
    s.events.error.connect(errors.append)
    s.events.sources_added.connect(lambda faces: added.append((faces, threading.current_thread())))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a picture")
    found = s.add_sources([str(bad), GRACE]).result(60)
    assert [(f.path, f.index) for f in found] == [(GRACE, 0)] and s.sources == found
    assert found[0].thumbnail.ndim == 3 and found[0].thumbnail.shape[0] > 50
    assert len(errors) == 1 and errors[0].startswith(f"{bad}: ")
    assert added[0][0] == found and added[0][1] is not threading.main_thread()
    with pytest.raises(GhostliveError, match="select its face"):
        s.pairs("all")
    s.select_source(0)
    assert s.pairs("all")[0].source == GRACE


def test_a_video_job_reports_progress_and_cancels_without_output(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    done = s.start_file_job(SwapSettings(), str(CLIP), str(tmp_path / "all.mp4")).result(300)
    assert done.kind == "video" and len(frames_of(done.output)) == 72
    out = tmp_path / "cancelled.mp4"
    seen: list[int] = []
    s.events.task.connect(lambda t: t.progress.connect(lambda d, _t, _s: (seen.append(d), d >= 5 and t.cancel())))
    task = s.start_file_job(SwapSettings(), str(CLIP), str(out))
    with pytest.raises(CancelledError):
        task.result(300)
    assert seen and max(seen) < 72 and isinstance(task.error(), CancelledError)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["all.mp4", "home"]


def test_live_loop_events_and_stop(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    live, frames = [], threading.Event()
    s.events.live.connect(live.append)
    s.events.frame.connect(lambda image, packet: packet.swapped and frames.set())
    pipeline = s.start_live(LiveRequest(str(CLIP)), SwapSettings(tiles=0)).result(60)
    assert frames.wait(30) and s.events.frames_swapped > 0 and pipeline.running
    with pytest.raises(GhostliveError, match="already running"):
        s.start_live(LiveRequest(str(CLIP)), SwapSettings()).result(60)
    s.stop_live()
    assert live == [True, False] and s.pipeline is None and not pipeline.running


class HeldOutput:
    """A live output whose closing waits until the test lets it (as a virtual camera or a stream server can
    take a while to let go): what a stop must not make the window wait for."""

    name = "held output"

    def __init__(self) -> None:
        self.frames = 0
        self.closing, self.release = threading.Event(), threading.Event()

    def send(self, frame) -> None:
        self.frames += 1

    def close(self) -> None:
        self.closing.set()
        assert self.release.wait(60)


def test_stop_without_waiting_detaches_at_once_and_the_next_start_waits_for_it(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    live: list[bool] = []
    s.events.live.connect(live.append)
    pipeline = s.start_live(LiveRequest(str(CLIP)), SwapSettings(tiles=0)).result(60)
    held = HeldOutput()
    pipeline.add_sink(held)
    stopping = s.stop_live(wait=False)
    assert stopping is not None and s.pipeline is None  # the caller goes on while the output still closes
    assert held.closing.wait(30) and not stopping.done() and live == [True]
    restart = s.start_live(LiveRequest(str(CLIP)), SwapSettings(tiles=0))
    with pytest.raises(TimeoutError):  # the new loop waits for the old one to let go of its camera and outputs
        restart.result(3)
    held.release.set()
    stopping.result(30)
    second = restart.result(60)
    assert live == [True, False, True] and not pipeline.running and second.running  # False came first
    s.stop_live()
    assert live == [True, False, True, False]


def test_download_reports_progress(tmp_path: Path) -> None:
    s = Session(ModelStore(tmp_path / "home"))
    progress, info = [], []
    s.events.info.connect(info.append)
    s.events.task.connect(lambda t: t.progress.connect(lambda d, total, _s: progress.append((d, total))))
    with serve(Files({"/scrfd_10g_bnkps.onnx": PAYLOAD})) as base:
        paths = s.download("scrfd", url=f"{base}/scrfd_10g_bnkps.onnx").result(60)
    assert paths[0].read_bytes() == PAYLOAD and info == [f"scrfd: {paths[0]}"]
    assert progress and progress[-1][0] == len(PAYLOAD)


def test_a_face_restorer_added_while_live_is_budgeted_and_survives_a_swapper_switch(
    tmp_path: Path, monkeypatch
) -> None:
    """A restorer added while the loop runs (the window's quality panel restages) is budgeted as one the loop
    starts with: half a frame period per face at the camera's rate, so it does not run on every frame. Switching
    the swapper while live keeps it (and its budget) instead of dropping the stages. Every stage model comes
    from the session's own store, not the default one."""
    from ghostlive.cli import main
    from ghostlive.enhance import EnhancedSwapper, EnhanceOptions

    from . import restorer_graphs

    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    model = tmp_path / "gfpgan_1.4.onnx"
    model.write_bytes(restorer_graphs.restorer(512, np.eye(3)))  # stand-in graph with the real signature
    assert main(["models", "import", str(model)]) == 0
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "elsewhere"))  # stages come from the session's store
    s = Session(ModelStore(tmp_path / "home"))
    s.add_sources([GRACE]).result(60)
    s.select_source(0)
    settings = SwapSettings(tiles=0)
    enhanced = replace(settings, enhance=EnhanceOptions("gfpgan-1.4"))
    assert isinstance(s.make_job(enhanced).swapper, EnhancedSwapper)
    assert s.start_file_job(enhanced, GRACE, str(tmp_path / "out.png")).result(60).output.is_file()
    pipeline = s.start_live(LiveRequest(str(CLIP)), settings).result(60)
    try:
        s.apply_settings(replace(settings, enhance=EnhanceOptions("gfpgan-1.4")), restage=True).result(60)
        stage = pipeline.swapper.swapper
        deadline = time.monotonic() + 30
        while not isinstance(stage, EnhancedSwapper) and time.monotonic() < deadline:  # applied between frames
            time.sleep(0.05)
            stage = pipeline.swapper.swapper
        assert isinstance(stage, EnhancedSwapper)
        assert stage.budget_ms == pytest.approx(500.0 / pipeline.options.output_fps)
        assert pipeline.options.output_fps == pytest.approx(24.0, abs=0.1)  # the clip's rate
        s.change_swapper("classic", enhanced)
        deadline = time.monotonic() + 60
        while pipeline.swapper.swapper is stage and time.monotonic() < deadline:  # built in the background
            time.sleep(0.05)
        switched = pipeline.swapper.swapper
        assert switched is not stage and isinstance(switched, EnhancedSwapper)
        assert switched.budget_ms == pytest.approx(stage.budget_ms)
    finally:
        s.stop_live()
