"""``ghostlive bench --train``: seconds per training step and samples per second of the full-size generator.

Real face crops (the bundled sample portraits, aligned as ``train prepare`` aligns them) go through complete
generator + discriminator steps of the official recipe; the auxiliary ArcFace is an untrained iresnet100 of the
real size (the cost is the same as with ``backbone.pth``), the eye loss is off (stage 1).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable

import torch

from ghostlive.faces import asset_path
from ghostlive.training.config import load_recipe
from ghostlive.training.dist import setup
from ghostlive.training.prepare import Preparer
from ghostlive.training.trainer import Trainer

Row = tuple[str, int, float, float]


def bench_train(
    model: str = "ghost-2", batches: tuple[int, ...] = (1, 4), runs: int = 2, width: float = 1.0,
    device: str = "auto", show: Callable[[Row], None] | None = None,
) -> list[Row]:
    """(device, batch, s/step, samples/s) per batch size: one warm-up step, then the mean of ``runs`` steps."""
    ctx = setup(device)
    rows: list[Row] = []
    quiet = logging.getLogger("ghostlive.training.nets")
    with tempfile.TemporaryDirectory() as tmp:
        Preparer(f"{tmp}/data").run([asset_path("samples/astronaut.png"), asset_path("samples/grace_hopper.jpg")])
        for batch in batches:
            recipe = load_recipe(model=model, batch_size=batch, width=width, num_workers=0, preview_every=0,
                                 validate_every=0, checkpoint_every=0, log_every=10**9)
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                trainer = Trainer(recipe, f"{tmp}/data", f"{tmp}/run{batch}", ctx=ctx, allow_untrained=True)
            finally:
                quiet.setLevel(level)
            it = iter(trainer.loader())
            trainer.train_step(next(it))
            times = []
            for _ in range(runs):
                b = next(it)
                _sync(ctx.device)
                t0 = time.perf_counter()
                trainer.train_step(b)
                _sync(ctx.device)
                times.append(time.perf_counter() - t0)
            sec = sum(times) / len(times)
            rows.append((str(ctx.device), batch, sec, batch / sec))
            if show:
                show(rows[-1])
            del trainer, it
    return rows


def set_threads(threads: int) -> None:
    """``bench --threads N`` (N > 0) also limits torch's CPU threads."""
    if threads > 0:
        torch.set_num_threads(threads)


def device_name(cpu: str) -> str:
    """The GPU's name, or ``cpu`` with torch's thread count."""
    n = torch.get_num_threads()
    return torch.cuda.get_device_name() if torch.cuda.is_available() else f"{cpu}, {n} thread{'s' * (n != 1)}"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
