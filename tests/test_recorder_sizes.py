"""A live recording whose frames change size mid-stream (a camera that renegotiates its resolution): every frame
is scaled to the recording's size, never cropped. Real frames of the bundled clip, encoded by the real Recorder
and decoded back with PyAV."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.media import video_out
from ghostlive.media.recorder import Recorder
from ghostlive.types import Frame

from .media_tools import CLIP, frames_of


@pytest.fixture(scope="module")
def clip() -> list[Frame]:
    frames = frames_of(CLIP)
    return frames[30:50]


def mean_diff(a: Frame, b: Frame) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize(("name", "scale"), [("larger", (2.0, 2.0)), ("wider", (1.5, 1.0)), ("smaller", (0.5, 0.5))])
def test_frames_of_another_size_are_scaled_to_the_recording(
    tmp_path: Path, clip: list[Frame], name: str, scale: tuple[float, float]
) -> None:
    h, w = clip[0].shape[:2]
    size = (round(w * scale[0]), round(h * scale[1]))
    resized = [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in clip[10:]]
    out = tmp_path / f"{name}.mp4"
    rec = Recorder(out)
    for i, frame in enumerate([*clip[:10], *resized]):
        rec.send(frame, t=i / 30)
    rec.close()
    decoded = frames_of(out)
    assert len(decoded) == 20 and all(f.shape == clip[0].shape for f in decoded)
    for got, sent in zip(decoded[10:], resized, strict=True):
        scaled = cv2.resize(sent, (w, h), interpolation=cv2.INTER_AREA)
        assert mean_diff(got, scaled) < 3.0  # the whole picture, as encoded at crf 18
        if sent.shape[0] >= h and sent.shape[1] >= w:
            assert mean_diff(got, sent[:h, :w]) > 10.0  # not its top-left corner
    assert mean_diff(decoded[5], clip[5]) < 3.0  # the frames of the recording's own size are untouched


def test_fit_frame_keeps_a_frame_of_the_size_and_scales_others(clip: list[Frame]) -> None:
    frame = clip[0]
    h, w = frame.shape[:2]
    assert video_out.fit_frame(frame, w, h) is frame
    big = cv2.resize(frame, (w * 2, h * 2))
    assert np.array_equal(video_out.fit_frame(big, w, h), cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA))
    small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    assert video_out.fit_frame(small, w, h).shape == frame.shape
    assert mean_diff(video_out.fit_frame(small, w, h), cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)) < 1.0


def test_an_odd_sized_camera_is_cropped_by_its_odd_pixel_not_rescaled(
    tmp_path: Path, clip: list[Frame], monkeypatch
) -> None:
    """A 721×529 camera: the encoder's stream is 720×528, and each frame loses its odd row and column as before;
    only a frame of another size than the first ones is rescaled (rescaling all of them cost ~19 ms per 1080p
    frame in the sink thread, and blurred them)."""
    from ghostlive.media import recorder

    calls: list[tuple[int, ...]] = []

    def spy(frame: Frame, width: int, height: int) -> Frame:
        calls.append(frame.shape[:2])
        return video_out.fit_frame(frame, width, height)

    monkeypatch.setattr(recorder, "fit_frame", spy)
    odd = [cv2.copyMakeBorder(f, 0, 1, 0, 1, cv2.BORDER_REPLICATE) for f in clip[:8]]
    out = tmp_path / "odd.mp4"
    rec = Recorder(out)
    for i, frame in enumerate([*odd, clip[8]]):
        rec.send(frame, t=i / 30)
    rec.close()
    decoded = frames_of(out)
    h, w = clip[0].shape[:2]
    assert len(decoded) == 9 and all(f.shape == (h, w, 3) for f in decoded)
    assert calls == [(h, w)]  # only the frame whose size changed
    assert mean_diff(decoded[3], odd[3][:h, :w]) < 3.0
