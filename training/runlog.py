"""What a run writes besides checkpoints: ``log.csv`` (always), TensorBoard events (when the ``tensorboard``
package is installed) and preview grids ``previews/step_NNNNNNN.png`` (rows: source, target, output)."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)

COLUMNS = ("step", "stage", "lr_g", "loss_g", "loss_d", "adv", "attr", "id", "rec", "eyes", "adv_ema", "sec_per_step")


class RunLog:
    """Appends rows to ``log.csv``; rows at or after ``start_step`` left by an interrupted run are dropped first."""

    def __init__(self, run_dir: Path, start_step: int = 0) -> None:
        self.path = run_dir / "log.csv"
        self.previews = run_dir / "previews"
        if self.path.exists():
            with open(self.path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= start_step]
            buf = io.StringIO()
            writer = csv.DictWriter(buf, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            atomic_write_bytes(self.path, buf.getvalue().encode())
        else:
            self.path.write_text(",".join(COLUMNS) + "\n")
        self.board = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.board = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:
            log.info("tensorboard is not installed: logging to %s only", self.path)

    def write(self, values: dict[str, float | int | str]) -> None:
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, COLUMNS).writerow({k: _fmt(values.get(k, "")) for k in COLUMNS})
        if self.board is not None:
            for k, v in values.items():
                if isinstance(v, float):
                    self.board.add_scalar(k, v, int(values["step"]))

    def preview(self, step: int, rows: list[torch.Tensor], limit: int = 4) -> Path:
        """A PNG grid: one row per tensor (N×3×H×W RGB in [−1, 1]), one column per sample."""
        grid = np.concatenate([_strip(t[:limit]) for t in rows], axis=0)
        self.previews.mkdir(exist_ok=True)
        path = self.previews / f"step_{step:07d}.png"
        ok, buf = cv2.imencode(".png", grid)
        if ok:
            atomic_write_bytes(path, buf.tobytes())
        if self.board is not None:
            self.board.add_image("preview", grid[..., ::-1].copy(), step, dataformats="HWC")
        return path

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _strip(t: torch.Tensor) -> np.ndarray:
    img = ((t.detach().float().cpu().clamp(-1, 1) * 0.5 + 0.5) * 255).round().byte().numpy()
    return np.concatenate(list(img.transpose(0, 2, 3, 1)[..., ::-1]), axis=1)


def _fmt(v: float | int | str) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
