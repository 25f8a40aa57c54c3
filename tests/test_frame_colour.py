"""Frames between BGR and Y′CbCr: decoded 4:2:0 and 4:4:4 frames and encoded planes against the float64
equations, chroma where FFmpeg puts it, and the allocator setting that keeps frame-sized memory for reuse."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from ghostlive.faces import asset_path
from ghostlive.media.colour import bgr_to_yuv_planes, matrix_for, yuv420_to_bgr, yuv444_to_bgr
from ghostlive.media.image import read_image
from ghostlive.media.video import VideoSource
from ghostlive.threads import glibc, plan_threads

from .media_tools import CLIP, write_video

ASTRONAUT = asset_path("samples/astronaut.png")
MATRICES = [(2, 1, 480), (1, 2, 720), (5, 1, 1080)]  # (colour space, range, height): BT.601/709, limited/full


def _reference_yuv444_to_bgr(yuv: np.ndarray, kr: float, kb: float, full: bool) -> np.ndarray:
    """The conversion written out in float64 (BT.601/709 equations), rounded."""
    ys, cs, off = (255.0, 255.0, 0.0) if full else (219.0, 224.0, 16.0)
    y = (yuv[0] - off) / ys
    cb, cr = (yuv[1] - 128.0) / cs, (yuv[2] - 128.0) / cs
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.rint(np.stack([b, g, r], -1) * 255.0), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("colorspace", "colour_range", "height"), MATRICES)
def test_decoded_frames_convert_exactly(colorspace: int, colour_range: int, height: int) -> None:
    """Real photo pixels (and every extreme code) through Y′CbCr and back: the OpenCV transform matches the
    float64 equations (off by one level at most, and only where float32 rounding meets an exact tie)."""
    m = matrix_for(colorspace, colour_range, height)
    photo = read_image(ASTRONAUT).bgr
    yuv = np.stack([np.rint(p).clip(0, 255).astype(np.uint8) for p in bgr_to_yuv_planes(photo, m, False)])
    extremes = np.random.default_rng(0).integers(0, 256, (3, 64, photo.shape[1]), dtype=np.uint8)
    yuv = np.concatenate([yuv, extremes], axis=1)
    fast = yuv444_to_bgr(yuv, m)
    ref = _reference_yuv444_to_bgr(yuv.astype(np.float64), m.kr, m.kb, m.full_range)
    diff = np.abs(fast.astype(int) - ref)
    assert fast.dtype == np.uint8 and fast.shape == (*yuv.shape[1:], 3)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.001
    np.testing.assert_array_equal(fast[: photo.shape[0]][::50, ::50], ref[: photo.shape[0]][::50, ::50])


def _reference_upsample(c: np.ndarray, h: int, w: int, centred: bool = False) -> np.ndarray:
    """4:2:0 chroma to H×W in float64 where swscale sites it: centred between rows, and co-sited with the even
    columns (``centred``: centred between columns too)."""
    ch, cw = c.shape
    rows = np.arange(h)
    near = np.clip(np.where(rows % 2 == 0, rows // 2 - 1, rows // 2 + 1), 0, ch - 1)
    v = 0.75 * c[rows // 2] + 0.25 * c[near]
    cols = np.arange(w)
    if centred:
        side = np.clip(np.where(cols % 2 == 0, cols // 2 - 1, cols // 2 + 1), 0, cw - 1)
        return 0.75 * v[:, cols // 2] + 0.25 * v[:, side]
    right = v[:, np.clip(cols // 2 + 1, 0, cw - 1)]
    return np.where(cols % 2 == 0, v[:, cols // 2], 0.5 * (v[:, cols // 2] + right))


def _reference_planes(image: np.ndarray, kr: float, kb: float, full: bool, subsample: bool) -> list[np.ndarray]:
    """BGR to Y, Cb, Cr in float64 (chroma averaged over 2×2 blocks, an odd edge with itself), unrounded."""
    ys, cs, off = (255.0, 255.0, 0.0) if full else (219.0, 224.0, 16.0)
    b, g, r = (image[..., i].astype(np.float64) / 255.0 for i in range(3))
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = 0.5 * (b - y) / (1 - kb), 0.5 * (r - y) / (1 - kr)
    h, w = y.shape
    if subsample:
        cb, cr = (np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge") for c in (cb, cr))
        cb, cr = (c.reshape((h + 1) // 2, 2, (w + 1) // 2, 2).mean(axis=(1, 3)) for c in (cb, cr))
    return [y * ys + off, cb * cs + 128.0, cr * cs + 128.0]


@pytest.mark.parametrize(("colorspace", "colour_range", "height"), MATRICES)
@pytest.mark.parametrize("size", [(512, 512), (301, 511)])
def test_decoded_420_frames_convert_exactly(colorspace: int, colour_range: int, height: int, size) -> None:
    """4:2:0 planes of a real photo (odd sizes too) and random extreme codes, chroma sited either way: chroma
    up-sampled and converted in one pass matches the float64 equations on the interpolated chroma (a tie in
    float32 may round either way)."""
    m = matrix_for(colorspace, colour_range, height)
    photo = read_image(ASTRONAUT).bgr[: size[0], : size[1]]
    exact = _reference_planes(photo, m.kr, m.kb, m.full_range, True)
    planes = [np.rint(p).clip(0, 255).astype(np.uint8) for p in exact]
    rng = np.random.default_rng(height)
    extremes = [rng.integers(0, 256, (64, 48), dtype=np.uint8), *rng.integers(0, 256, (2, 32, 24), dtype=np.uint8)]
    for (y, cb, cr), centred in itertools.product((planes, extremes), (False, True)):
        h, w = y.shape
        fast = yuv420_to_bgr(y, cb, cr, m, centred)
        up = np.stack([y.astype(np.float64), *(_reference_upsample(c, h, w, centred) for c in (cb, cr))])
        ref = _reference_yuv444_to_bgr(up, m.kr, m.kb, m.full_range)
        diff = np.abs(fast.astype(int) - ref)
        assert fast.dtype == np.uint8 and fast.shape == (h, w, 3)
        assert diff.max() <= 1 and (diff > 0).mean() < 0.001


@pytest.mark.parametrize("kind", ["h264", "mjpeg"])
def test_decoded_video_keeps_ffmpegs_chroma_siting(kind: str, tmp_path: Path) -> None:
    """The repository's clip (and the same frames as full-range MJPEG, as webcams record) decoded by VideoSource
    and by swscale's own 4:4:4 up-sampling: the same picture within the 8-bit rounding of swscale's chroma (a
    chroma grid off by half a pixel differs by tens of levels at colour edges)."""
    pictures = _frames(CLIP, 6)
    clip = CLIP if kind == "h264" else write_video(tmp_path / "cam.avi", pictures, codec="mjpeg", pix_fmt="yuvj420p")
    with VideoSource(clip) as v, av.open(str(clip)) as c:
        frames = [f for _, f in zip(range(6), c.decode(video=0), strict=False)]
        ours = [it.image for it in v.items() if hasattr(it, "image")][:6]
        theirs = [yuv444_to_bgr(f.to_ndarray(format="yuv444p"), v.matrix) for f in frames]
    assert frames[0].format.name == ("yuv420p" if kind == "h264" else "yuvj420p") and len(ours) == 6
    assert v.matrix.full_range == (kind == "mjpeg")
    diff = np.abs(np.stack(ours).astype(int) - np.stack(theirs))
    assert diff.max() <= 2 and diff.mean() < 0.3
    assert np.abs(np.stack(ours).astype(int) - np.stack(pictures)).mean() < 4  # the picture, not a shade


def test_decoded_odd_sized_video_follows_the_equations(tmp_path: Path) -> None:
    """An odd-sized 4:2:0 video (rows padded in memory): each decoded frame is the float64 equations on its own
    planes, chroma sited as for even sizes (swscale stretches an odd-sized frame's chroma grid instead)."""
    odd = write_video(tmp_path / "odd.mkv", [f[:359, :477] for f in _frames(CLIP, 4)], codec="ffv1")
    with VideoSource(odd) as v, av.open(str(odd)) as c:
        frames = [f for _, f in zip(range(4), c.decode(video=0), strict=False)]
        ours = [it.image for it in v.items() if hasattr(it, "image")][:4]
        matrix = v.matrix
    assert frames[0].format.name == "yuv420p" and frames[0].planes[0].line_size > 477
    for image, frame in zip(ours, frames, strict=True):
        y, cb, cr = _planes(frame)
        up = np.stack([y.astype(np.float64), _reference_upsample(cb, 359, 477), _reference_upsample(cr, 359, 477)])
        diff = np.abs(image.astype(int) - _reference_yuv444_to_bgr(up, matrix.kr, matrix.kb, matrix.full_range))
        assert image.shape == (359, 477, 3) and diff.max() <= 1 and (diff > 0).mean() < 0.001


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    return [np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[: p.height, : p.width] for p in frame.planes]


def _frames(path: Path, n: int) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for _, f in zip(range(n), c.decode(video=0), strict=False)]


@pytest.mark.parametrize(("colorspace", "colour_range", "height"), MATRICES)
@pytest.mark.parametrize("subsample", [True, False])
def test_encoded_planes_match_the_equations(colorspace: int, colour_range: int, height: int, subsample: bool) -> None:
    """A real photo cropped to odd sizes and random pixels, to Y′CbCr planes: the float64 equations, rounded (an
    exact half, common in full range where G = R, either way)."""
    m = matrix_for(colorspace, colour_range, height)
    rng = np.random.default_rng(height)
    for image in (read_image(ASTRONAUT).bgr[:301, :511], rng.integers(0, 256, (97, 64, 3), dtype=np.uint8)):
        fast = bgr_to_yuv_planes(image, m, subsample)
        ref = _reference_planes(image, m.kr, m.kb, m.full_range, subsample)
        for plane, expected in zip(fast, ref, strict=True):
            diff = np.abs(plane.astype(int) - np.clip(np.rint(expected), 0, 255))
            tie = np.abs(expected % 1 - 0.5) < 1e-4  # exact halves (full range, G = R) may round either way
            assert plane.dtype == np.uint8 and plane.shape == expected.shape
            assert diff.max() <= 1 and (diff[~tie] > 0).mean() < 0.001


REUSE = """
import resource, sys, threading
import numpy as np
from ghostlive.threads import apply_plan, plan_threads
apply_plan(plan_threads(sys.argv[1]))
frame = np.zeros((720, 1280, 3), np.uint8)
def cycle():
    f = frame.astype(np.float32)
    g = f * 2.0
    h = g + f
    return int(h[0, 0, 0])
def faults():
    for _ in range(3):
        cycle()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        cycle()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
faults()
t = threading.Thread(target=faults)
t.start()
t.join()
"""


@pytest.mark.skipif(not glibc(), reason="tunes the GNU C library's allocator")
def test_live_and_video_runs_reuse_freed_frame_memory() -> None:
    """Under the live or video plan, 720p float temporaries made and freed over and over (in the main thread
    and in another, as the capture and swap threads do) take no fresh pages from the kernel; under the photo
    plan, which leaves the allocator alone, the main thread's do (an 11 MB array is 2,700 pages)."""
    assert plan_threads("live").reuse_memory and plan_threads("video").reuse_memory
    assert not plan_threads("photo").reuse_memory and "freed memory reused" in plan_threads("live").line()
    for mode in ("live", "video", "photo"):
        out = subprocess.run([sys.executable, "-c", REUSE, mode], capture_output=True, text=True, check=True)
        main_thread, other_thread = (float(x) for x in out.stdout.split())
        if mode == "photo":
            assert main_thread > 500, main_thread
        else:
            assert main_thread < 50 and other_thread < 50, (mode, main_thread, other_thread)


RELEASE = """
import numpy as np
from ghostlive.bench_video import rss_mb
from ghostlive.threads import apply_plan, plan_threads, release_freed_memory
apply_plan(plan_threads("video"))
held = [np.ones((720, 1280, 3), np.float32) for _ in range(20)]
del held
kept = rss_mb()
release_freed_memory()
print(kept, rss_mb())
"""


@pytest.mark.skipif(not glibc(), reason="tunes the GNU C library's allocator")
def test_memory_kept_for_frames_is_handed_back_at_the_end_of_a_job() -> None:
    """221 MB of frame-sized arrays freed under the video plan stay with the process (for the next frames)
    until the job's end hands them back."""
    out = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True, check=True)
    kept, released = (float(x) for x in out.stdout.split())
    assert kept - released > 158, (kept, released)  # MB (150 MiB)
