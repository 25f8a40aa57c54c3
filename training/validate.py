"""Validation during training with ``ghostlive eval``'s judges on held-out images.

Every ``validate_every`` steps the generator swaps each held-out image's identity onto the next held-out image
(pairs of different photos; identities may repeat on tiny datasets) and :class:`ghostlive.eval.scoring.Scorer`
measures each output as ``ghostlive eval`` does: identity distances to source and target (dlib, and insightface
ArcFace when installed: judges other than the ArcFace the run trains with), pose, expression and eye errors
from the built-in mesh and iris models. The means go to ``validation.csv`` in the run folder.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ghostlive.training import losses as L  # noqa: N812
from ghostlive.training.data import PairDataset, to_tensor

log = logging.getLogger(__name__)


class Validator:
    """Scores the generator on ``data.held_out`` (see the module docstring)."""

    def __init__(self, data: PairDataset, run_dir: Path) -> None:
        from ghostlive.eval.scoring import Scorer

        self.data, self.path = data, run_dir / "validation.csv"
        self.scorer = Scorer(use_arcface=True)
        self.images = [data.bgr(i) for i in data.held_out]
        self.seen = [self.scorer.see(im) for im in self.images]

    @torch.no_grad()
    def __call__(self, step: int, generator: torch.nn.Module, arcface: torch.nn.Module, device: torch.device) -> dict:
        n = len(self.images)
        rgb = [torch.flip(to_tensor(im.astype(np.float32) / 255.0, 256), (0,)) for im in self.images]  # BGR → RGB
        x = torch.stack(rgb).to(device)
        ids = arcface(L.to_arcface(torch.nn.functional.interpolate(x, size=224, mode="bilinear")))
        order = [(i + 1) % n for i in range(n)]  # source i onto target i+1
        was = generator.training
        generator.eval()
        y = generator(x[order], ids)
        generator.train(was)
        outputs = ((y.float().clamp(-1, 1) * 0.5 + 0.5) * 255).round().byte().flip(1).permute(0, 2, 3, 1).cpu().numpy()
        rows = []
        for k, t in enumerate(order):
            try:
                metrics, _ = self.scorer.image(self.images[k], self.seen[k], self.images[t], self.seen[t],
                                               np.ascontiguousarray(outputs[k]))
            except ValueError:  # no face found in the target crop
                continue
            rows.append({m: float(v) for m, v in metrics.items() if isinstance(v, int | float)})
        summary = {m: float(np.mean([r[m] for r in rows if m in r])) for m in sorted({m for r in rows for m in r})}
        self._write(step, summary)
        return summary

    def _write(self, step: int, summary: dict[str, Any]) -> None:
        if self.path.exists():
            with open(self.path, newline="") as f:
                columns = next(csv.reader(f))
        else:
            columns = ["step", *summary]
            self.path.write_text(",".join(columns) + "\n")
        with open(self.path, "a", newline="") as f:
            row = {"step": step} | {k: f"{v:.6g}" for k, v in summary.items()}
            csv.DictWriter(f, columns, extrasaction="ignore", restval="").writerow(row)
        log.info("validation at step %d: %s", step, summary)
