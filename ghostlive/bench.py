"""``ghostlive bench``: per-stage milliseconds and frames per second on real photos."""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import cv2
import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.media.image import read_image
from ghostlive.pipeline import FramePipeline
from ghostlive.pipeline.frame import STAGES
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.types import Frame


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"640x480,1280x720"`` → [(640, 480), (1280, 720)]."""
    sizes = []
    for item in text.split(","):
        try:
            w, h = (int(v) for v in item.lower().split("x"))
        except ValueError:
            raise ConfigError(f"frame size {item!r} is not WIDTHxHEIGHT") from None
        if not (32 <= w <= 8192 and 32 <= h <= 8192):
            raise ConfigError(f"frame size {item!r} is outside 32..8192")
        sizes.append((w, h))
    return sizes


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


def run_bench(args: argparse.Namespace) -> int:
    sizes = parse_sizes(args.sizes)
    if args.frames < 1:
        raise ConfigError("--frames must be at least 1")
    source = read_image(asset_path("samples/grace_hopper.jpg")).bgr
    photo = read_image(asset_path("samples/astronaut.png")).bgr
    pipe = FramePipeline(FaceAnalyzer(threads=args.threads, tile_levels=args.tiles), ClassicSwapper())
    pipe.set_source(source)
    print(
        f"ghostlive bench: classic swapper, ONNX Runtime CPU, {platform.processor() or platform.machine()}, "
        f"detection tile levels {args.tiles}, {args.frames} frames per size (median ms)"
    )
    header = f"{'frame':>10} {'faces':>5} " + " ".join(f"{s:>9}" for s in STAGES) + f" {'total':>8} {'fps':>7}"
    print(header)
    for size in sizes:
        frame = fit_frame(photo, size)
        pipe.process(frame)  # warm-up
        per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
        totals = []
        faces = 0
        for _ in range(args.frames):
            t0 = time.perf_counter()
            result = pipe.process(frame)
            totals.append((time.perf_counter() - t0) * 1000.0)
            faces = len(result.swapped)
            for s in STAGES:
                per_stage[s].append(result.times.ms[s])
        med = statistics.median(totals)
        cells = " ".join(f"{statistics.median(per_stage[s]):9.2f}" for s in STAGES)
        print(f"{size[0]:>5}x{size[1]:<4} {faces:>5} {cells} {med:8.2f} {1000.0 / med:7.1f}")
    return 0
