"""``ghostlive bench --video``: offline fps and resident memory on a generated 1280×720 clip; the clip maker the
live bench shares."""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np

from ghostlive.faces import asset_path
from ghostlive.media.image import read_image
from ghostlive.types import Frame


def fit_frame(image: Frame, size: tuple[int, int]) -> Frame:
    """Scale ``image`` to fit inside ``size`` and fill the rest by mirroring, like a camera frame of that size
    with the whole photo (and its face) in view."""
    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    nw, nh = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    left, top = (w - nw) // 2, (h - nh) // 2
    padded = cv2.copyMakeBorder(resized, top, h - nh - top, left, w - nw - left, cv2.BORDER_REFLECT_101)
    return np.ascontiguousarray(padded)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return 0.0


def make_clip(path: str, photo: Frame, size: tuple[int, int], frames: int) -> None:
    """A real photo in a slowly panning frame, encoded once (not timed)."""
    import av

    from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, bgr_to_yuv420, matrix_for

    base = fit_frame(photo, size)
    matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, size[1])
    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(frames):
            img = np.roll(base, int(20 * np.sin(i / 15)), axis=1)
            f = av.VideoFrame.from_ndarray(bgr_to_yuv420(img, matrix), format="yuv420p")
            f.pts = i
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def bench_video(lengths: list[int], threads: int) -> None:
    """Offline fps on a 1280×720 clip and resident memory as the clip gets longer."""
    from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video
    from ghostlive.threads import apply_plan, plan_threads

    photo = read_image(asset_path("samples/astronaut.png")).bgr
    print(f"\n{apply_plan(plan_threads('video', ort_threads=threads)).line()}")
    job = Job(SwapSettings(tiles=0), [PairSpec(asset_path("samples/grace_hopper.jpg"))])
    print("offline video, 1280x720 H.264 in and out, classic swapper, decode/swap/encode overlapped")
    print(f"{'frames':>7} {'fps':>7} {'RSS start MB':>13} {'RSS peak MB':>12} {'RSS end MB':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in lengths:
            clip = f"{tmp}/in_{n}.mp4"
            make_clip(clip, photo, (1280, 720), n)
            peak = [rss_mb()]
            start = peak[0]

            def sample(_p: object, peak: list[float] = peak) -> None:
                peak.append(rss_mb())

            report = run_video(job, clip, f"{tmp}/out_{n}.mp4", progress=sample)
            print(f"{n:>7} {report.fps:7.1f} {start:13.0f} {max(peak):12.0f} {rss_mb():11.0f}")
