"""``ghostlive bench --generator ghost-N --int8``: a static int8 copy of the GHOST generator (calibrated on real
aligned faces) against the fp32 one on ONNX Runtime's CPU backend: milliseconds per face (timed alternately),
and how well the swapped faces keep their identity (the gate of :mod:`ghostlive.optimise`). Nothing is stored:
``ghostlive models optimise ghost-N`` makes the same measurement and keeps the verdict for this machine."""

from __future__ import annotations

import time
from pathlib import Path

from ghostlive.optimise import measure_int8


def bench_int8(name: str, runs: int, tmp: str, store: object, origin: str) -> None:
    """Quantise ``name``'s generator from ``store``, then time both and compare identities (see module)."""
    from ghostlive.engines.int8 import Int8Store
    from ghostlive.models.registry import BY_NAME

    fp32_path = store.path(BY_NAME[name].exports_to)  # type: ignore[attr-defined]
    arc_path = store.path(BY_NAME["ghost-arcface"].exports_to)  # type: ignore[attr-defined]
    work = Path(tmp) / "int8"
    work.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    trials = measure_int8(fp32_path, arc_path, work, runs=runs, say=lambda _: None)
    decision = trials.decision
    print(f"\n{name} generator, static int8 (QDQ, calibrated on {decision.faces} real aligned faces; measured in "
          f"{time.perf_counter() - t0:.0f} s), {origin}")  # fmt: skip
    for label, verdict in trials.tried:
        print(f"{'':>22} {label}: {verdict.summary()}")
    stored = Int8Store(fp32_path.parent / "engines").lookup(fp32_path, decision.ort_version)
    print(f"{'':>22} stored decision for this machine: {stored.summary() if stored else 'none'}"
          f"{'' if stored else f' (ghostlive models optimise {name} makes one)'}")  # fmt: skip
    if origin.startswith("untrained"):
        print(f"{'':>22} untrained weights: the speed holds for the released model, the identity figure does not")
