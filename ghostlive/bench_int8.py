"""``ghostlive bench --generator ghost-N --int8``: a static int8 copy of the GHOST generator (calibrated on real
aligned faces) against the fp32 one on ONNX Runtime's CPU backend: milliseconds per face, and how well the
swapped faces keep their identity (ArcFace cosine of the int8 output to the fp32 output; the bar for offering
int8 is 0.98)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from ghostlive.types import Frame

IDENTITY_BOUND = 0.98


def aligned_faces() -> list[Frame]:
    """GHOST-aligned 224 px crops of the bundled portraits and their mirror images (real faces)."""
    from ghostlive.faces import FaceAnalyzer, asset_path
    from ghostlive.media.image import read_image
    from ghostlive.models.ghost import CROP
    from ghostlive.ops.align import norm_crop

    analyzer = FaceAnalyzer(tile_levels=0)
    crops = []
    for name in ("samples/astronaut.png", "samples/grace_hopper.jpg"):
        image = read_image(asset_path(name)).bgr
        for img in (image, np.ascontiguousarray(image[:, ::-1])):
            face = max(analyzer.analyze(img), key=lambda f: f.detection.area)
            crops.append(norm_crop(img, face.keypoints5, CROP, "ghost")[0])
    return crops


def _inputs(runner: object, crop: Frame, identity: np.ndarray) -> dict[str, np.ndarray]:
    """The generator's input dict for one crop, exactly as :class:`GhostGenerator` feeds it."""
    from ghostlive.models.ghost import GEN_SIZE, bgr_to_signed_nchw
    from ghostlive.ops.filters import resize

    specs = runner.info.inputs  # type: ignore[attr-defined]
    target = next((s.name for s in specs if len(s.shape) == 4), specs[0].name)
    source = next(s.name for s in specs if s.name != target)
    big = bgr_to_signed_nchw(resize(crop, (GEN_SIZE, GEN_SIZE))[None])
    return {target: np.ascontiguousarray(big), source: identity.reshape(1, 512).astype(np.float32)}


def _ms_per_face(gen: object, crop: Frame, identity: np.ndarray, runs: int) -> float:
    gen.swap(crop[None], identity)  # type: ignore[attr-defined]  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        gen.swap(crop[None], identity)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def bench_int8(name: str, runs: int, tmp: str, store: object, origin: str) -> None:
    """Quantise ``name``'s generator from ``store``, then time both and compare identities (see module)."""
    from ghostlive.engines.ort import OrtRunner
    from ghostlive.engines.quantize import quantize_int8
    from ghostlive.models.ghost import GhostArcFace, GhostGenerator
    from ghostlive.models.registry import BY_NAME

    fp32_path = store.path(BY_NAME[name].exports_to)  # type: ignore[attr-defined]
    arcface = GhostArcFace(OrtRunner(store.path(BY_NAME["ghost-arcface"].exports_to)))  # type: ignore[attr-defined]
    fp32 = GhostGenerator(OrtRunner(fp32_path))
    crops = aligned_faces()
    idents = [arcface.embed_one(c) for c in crops]
    swaps = [(c, idents[(i + 2) % len(crops)]) for i, c in enumerate(crops)]  # each face gets the other person
    t0 = time.perf_counter()
    samples = (_inputs(fp32.runner, c, e) for c, e in swaps)
    int8_path = quantize_int8(fp32_path, Path(tmp) / f"{name}-int8.onnx", samples)
    int8 = GhostGenerator(OrtRunner(int8_path))
    print(f"\n{name} generator, static int8 (QDQ, calibrated on {len(swaps)} real aligned faces in "
          f"{time.perf_counter() - t0:.0f} s), {origin}")  # fmt: skip
    cosines = []
    for crop, ident in swaps:
        a, b = (g.swap(crop[None], ident)[0] for g in (fp32, int8))
        ea, eb = (arcface.embed_one(np.clip(x, 0, 255).astype(np.uint8)) for x in (a, b))
        cosines.append(float(ea @ eb / (np.linalg.norm(ea) * np.linalg.norm(eb))))
    ms32, ms8 = (_ms_per_face(g, *swaps[0], runs) for g in (fp32, int8))
    verdict = "kept" if min(cosines) >= IDENTITY_BOUND else "NOT kept"
    print(f"{'':>22} fp32 {ms32:.0f} ms/face, int8 {ms8:.0f} ms/face ({ms32 / ms8:.2f}× faster)")
    print(f"{'':>22} ArcFace cosine int8 vs fp32: min {min(cosines):.3f}, mean {np.mean(cosines):.3f}: "
          f"identity {verdict} (bound {IDENTITY_BOUND})")  # fmt: skip
    if origin.startswith("untrained"):
        print(f"{'':>22} untrained weights: the speed holds for the released model, the identity figure does not")
