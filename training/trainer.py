"""The training loop: GHOST's generator and discriminator steps, stages, checkpoints, resume, logs.

A run folder holds ``recipe.json``, ``G_NNNNNNN.pth`` / ``D_NNNNNNN.pth`` (plain state_dicts in the released
layout: they load with ``strict=True`` into ghostlive and into GHOST's own code), ``state_NNNNNNN.pth``
(optimisers, loss scalers, the adversarial EMA), ``latest.json`` naming the newest complete checkpoint, and the
logs of :mod:`ghostlive.training.runlog`. Every file is written atomically; Ctrl-C saves before stopping.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from ghostlive.errors import ConfigError
from ghostlive.hub import ModelStore
from ghostlive.media.paths import atomic_write_bytes
from ghostlive.training import losses as L  # noqa: N812
from ghostlive.training.config import Recipe, Stage, recipe_from_json, resume_recipe
from ghostlive.training.data import PairDataset, StepSampler
from ghostlive.training.dist import Context, mean_over_processes, sum_over_processes, wrap
from ghostlive.training.nets import (
    GeneratorStep,
    build_arcface,
    build_discriminator,
    build_eye_loss,
    build_generator,
    load_partial,
)
from ghostlive.training.runlog import RunLog

log = logging.getLogger(__name__)

Progress = Callable[[int, int, dict[str, float]], None]


class Stopped(Exception):  # noqa: N818 - a request, not an error
    """Raised by a progress callback to stop a run; the run saves a checkpoint first (as on Ctrl-C)."""
LOSSES = ("adv", "attr", "id", "rec", "eyes")


def lr_factor(stage: Stage, k: int) -> float:
    """The learning-rate multiplier at step ``k`` of ``stage`` (none / StepLR / cosine to ``min_lr_ratio``)."""
    if stage.scheduler == "step":
        return stage.gamma ** (k // max(stage.step_size, 1))
    if stage.scheduler == "cosine":
        t = min(k / max(stage.steps, 1), 1.0)
        return stage.min_lr_ratio + (1 - stage.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))
    return 1.0


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: None (fp32) on the CPU under ``auto``; bf16 where the GPU has it, else fp16."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


def save_tensors(obj: object, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


class Trainer:
    """One training run in ``run_dir`` on ``dataset`` (a prepared folder or a :class:`PairDataset`)."""

    def __init__(
        self, recipe: Recipe, dataset: str | Path | PairDataset, run_dir: str | Path, *, ctx: Context | None = None,
        store: ModelStore | None = None, allow_untrained: bool = False, resume: bool = False,
        given: frozenset[str] = frozenset(), sources: tuple[str, ...] = (),
    ) -> None:
        """``resume``: continue the run in ``run_dir`` with its own recipe; ``recipe`` only counts for the keys
        in ``given`` (those a ``--config`` file or an option set), which must not change what the run learns
        (:func:`~ghostlive.training.config.resume_recipe`). ``sources``: the identities that may be the source
        (per-person fine-tuning; default all) when ``dataset`` is a folder."""
        self.run_dir, self.ctx = Path(run_dir), ctx or Context()
        latest = self.run_dir / "latest.json"
        saved: Recipe | None = None
        if resume:
            saved_path = self.run_dir / "recipe.json"
            if not latest.is_file() or not saved_path.is_file():
                raise ConfigError(f"{self.run_dir}: nothing to resume (no latest.json and recipe.json)")
            saved = recipe_from_json(saved_path.read_text(), str(saved_path))
            recipe = resume_recipe(saved, recipe, given, str(self.run_dir)) if given else saved
        elif latest.exists():
            raise ConfigError(f"{self.run_dir}: already holds a run; add --resume to continue it or choose another -o")
        self.recipe, store = recipe, store or ModelStore()
        torch.manual_seed(recipe.seed)
        dev = self.ctx.device
        self.data = dataset if isinstance(dataset, PairDataset) else PairDataset(
            dataset, same_person=recipe.same_person, jitter=recipe.jitter, sources=sources,
            held_out=recipe.validation_images if recipe.validate_every > 0 else 0,
        )
        self.G, self.D = build_generator(recipe, store).to(dev), build_discriminator(recipe, store).to(dev)
        self.arc = build_arcface(recipe, store, allow_untrained).to(dev)
        eyes = build_eye_loss(recipe, store, allow_untrained)
        self.eyes = eyes.to(dev) if eyes is not None else None
        self.g_step: nn.Module = wrap(GeneratorStep(self.G), self.ctx)
        self.d_step: nn.Module = wrap(self.D, self.ctx)
        o = recipe.optimizer
        self.opt_g = torch.optim.Adam(self.G.parameters(), o.lr_g, betas=o.betas, weight_decay=o.weight_decay)
        self.opt_d = torch.optim.Adam(self.D.parameters(), o.lr_d, betas=o.betas, weight_decay=o.weight_decay)
        self.amp = amp_dtype(recipe.precision, dev)
        fp16 = self.amp == torch.float16
        self.scaler_g = torch.amp.GradScaler(dev.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(dev.type, enabled=fp16)
        self.step, self.adv_ema = 0, 20.0  # GHOST starts its adversarial EMA at 20
        if resume:
            self.load()
        if self.ctx.main and recipe != saved:  # a new run, or adjusted settings of a resumed one
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.run_dir / "recipe.json", recipe.to_json().encode())
        self.log = RunLog(self.run_dir, self.step) if self.ctx.main else None
        self.validator = None
        if self.ctx.main and recipe.validate_every > 0 and len(self.data.held_out) >= 2:
            from ghostlive.training.validate import Validator

            self.validator = Validator(self.data, self.run_dir)

    def _autocast(self) -> object:
        if self.amp is None:
            return nullcontext()
        return torch.autocast(self.ctx.device.type, dtype=self.amp)

    def _update(self, loss: torch.Tensor, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                params: nn.Module, apply: bool = True) -> None:
        scaler.scale(loss).backward()
        if self.recipe.grad_clip > 0:
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(params.parameters(), self.recipe.grad_clip)
        if apply:
            scaler.step(opt)
        scaler.update()

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One generator and one discriminator update on ``batch``; returns the losses (averaged over processes)."""
        r, dev = self.recipe, self.ctx.device
        _, stage, k = r.stage_at(self.step)
        factor = lr_factor(stage, k)
        for opt, lr in ((self.opt_g, r.optimizer.lr_g), (self.opt_d, r.optimizer.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * factor
        xs_id, xs, xt, same = (batch[n].to(dev, non_blocking=True) for n in ("xs_id", "xs", "xt", "same"))
        with torch.no_grad():
            e_s = self.arc(L.to_arcface(xs_id))
        w = stage.weights
        with self._autocast():
            y, z_t, z_y = self.g_step(xt, e_s)
            d_fake = self.D(y)
        y32 = y.float()
        count = sum_over_processes(same.sum(), self.ctx) / self.ctx.world
        parts = {
            "adv": L.adversarial_loss([d.float() for d in d_fake]),
            "attr": L.attribute_loss(z_t, z_y),
            "id": L.identity_loss(e_s, self.arc(L.to_arcface(y32))),
            "rec": L.reconstruction_loss(y32, xt, same, count),
            "eyes": self.eyes(xt, y32) if self.eyes is not None and w["eyes"] > 0 else y32.new_zeros(()),
        }
        loss_g = sum((w[n] * parts[n] for n in LOSSES), y32.new_zeros(()))
        self.opt_g.zero_grad(set_to_none=True)
        self._update(loss_g, self.opt_g, self.scaler_g, self.G)
        self.opt_d.zero_grad(set_to_none=True)
        with self._autocast():
            out = self.d_step(torch.cat([y.detach(), xs]))
        n = y.shape[0]
        loss_d = L.discriminator_loss([o[n:].float() for o in out], [o[:n].float() for o in out])
        stacked = torch.stack([loss_g.detach(), loss_d.detach(), *(parts[k].detach() for k in LOSSES)])
        values = mean_over_processes(stacked, self.ctx)
        self.adv_ema = self.adv_ema * 0.98 + float(values[2]) * 0.02
        self._update(loss_d, self.opt_d, self.scaler_d, self.D, apply=not r.discriminator_gate or self.adv_ema < 4.0)
        self.step += 1
        result = dict(zip(("loss_g", "loss_d", *LOSSES), (float(v) for v in values), strict=True))
        return result | {"adv_ema": self.adv_ema, "lr_g": r.optimizer.lr_g * factor}

    # checkpoints ------------------------------------------------------------------------------------------
    def save(self) -> Path:
        """Write G/D/state for the current step and then ``latest.json`` (main process only)."""
        tag = f"{self.step:07d}"
        if self.ctx.main:
            save_tensors(self.G.state_dict(), self.run_dir / f"G_{tag}.pth")
            save_tensors(self.D.state_dict(), self.run_dir / f"D_{tag}.pth")
            state = {
                "step": self.step, "adv_ema": self.adv_ema, "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "scaler_g": self.scaler_g.state_dict(),
                "scaler_d": self.scaler_d.state_dict(),
            }
            save_tensors(state, self.run_dir / f"state_{tag}.pth")
            latest = {"step": self.step, "G": f"G_{tag}.pth", "D": f"D_{tag}.pth", "state": f"state_{tag}.pth"}
            atomic_write_bytes(self.run_dir / "latest.json", json.dumps(latest, indent=1).encode())
            log.info("checkpoint %s at step %d", self.run_dir, self.step)
        return self.run_dir / f"G_{tag}.pth"

    def load(self) -> None:
        latest = json.loads((self.run_dir / "latest.json").read_text())
        load_partial(self.G, self.run_dir / latest["G"])
        load_partial(self.D, self.run_dir / latest["D"])
        state = torch.load(self.run_dir / latest["state"], map_location=self.ctx.device, weights_only=True)
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.scaler_d.load_state_dict(state["scaler_d"])
        self.step, self.adv_ema = int(state["step"]), float(state["adv_ema"])

    # the loop ---------------------------------------------------------------------------------------------
    def loader(self) -> DataLoader:
        r = self.recipe
        sampler = StepSampler(len(self.data), r.batch_size, r.seed, self.step, self.ctx.rank, self.ctx.world)
        return DataLoader(
            self.data, batch_size=r.batch_size, sampler=sampler, num_workers=r.num_workers,
            pin_memory=self.ctx.device.type == "cuda",
        )

    def run(self, steps: int | None = None, progress: Progress | None = None) -> Path:
        """Train until global step ``steps`` (default: the end of the last stage); returns the last G file."""
        r = self.recipe
        end = min(steps, r.total_steps) if steps is not None else r.total_steps
        saved = self.step if self.step else -1  # a resumed run starts at its newest checkpoint
        batches = iter(self.loader())
        try:
            while self.step < end:
                batch = next(batches)
                t0 = time.perf_counter()
                values = self.train_step(batch)
                values["sec_per_step"] = time.perf_counter() - t0
                self._report(values, batch, end)
                if self.validator is not None and self.step % r.validate_every == 0:
                    self.validator(self.step, self.G, self.arc, self.ctx.device)
                if progress:
                    progress(self.step, end, values)
                if r.checkpoint_every and self.step % r.checkpoint_every == 0:
                    self.save()
                    saved = self.step
        except (KeyboardInterrupt, Stopped):
            self.save()
            raise
        finally:
            del batches
        if saved != self.step:
            self.save()
        if self.log is not None:
            self.log.close()
        return self.run_dir / f"G_{self.step:07d}.pth"

    def _report(self, values: dict[str, float], batch: dict[str, torch.Tensor], end: int) -> None:
        r = self.recipe
        if self.log is None:
            return
        if self.step % max(r.log_every, 1) == 0 or self.step == end:
            self.log.write({"step": self.step, "stage": r.stage_at(self.step - 1)[1].name, **values})
        if r.preview_every and (self.step % r.preview_every == 0 or self.step == 1):
            with torch.no_grad():
                xs_id, xt = batch["xs_id"].to(self.ctx.device), batch["xt"].to(self.ctx.device)
                self.G.eval()
                y = self.G(xt, self.arc(L.to_arcface(xs_id)))
                self.G.train()
            self.log.preview(self.step, [batch["xs"], batch["xt"], y])
