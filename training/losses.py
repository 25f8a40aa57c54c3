"""GHOST's training losses (ai-forever/ghost ``utils/training/losses.py``), written for ghostlive.

Generator: ``w_adv·L_adv + w_attr·L_attr + w_id·L_id + w_rec·L_rec + w_eyes·L_eyes`` with
- L_adv = Σ over the discriminator's scales of mean(relu(1 − D(Y))) (hinge), averaged over the batch;
- L_attr = ½ · Σ over the 8 attribute levels of the per-sample mean of (z(X_t) − z(Y))², averaged over the batch;
- L_id = mean(1 − cos(ArcFace(X_s), ArcFace(Y)));
- L_rec = Σ over same-person samples of ½·mean((Y − X_t)²) ÷ (their number + 1e-6) (0 without such samples);
- L_eyes = pupil-heatmap MSE (:mod:`ghostlive.training.eyes` or the FAN of :mod:`ghostlive.export.fan`).
Discriminator: ½ · (Σ_scales mean(relu(1 − D(X_s))) + Σ_scales mean(relu(1 + D(Y)))): the sources are "real".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def _per_sample_mean(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).mean(1)


def adversarial_loss(d_fake: list[torch.Tensor]) -> torch.Tensor:
    """Generator hinge loss over the discriminator scales."""
    return sum((_per_sample_mean(F.relu(1 - d)) for d in d_fake), d_fake[0].new_zeros(d_fake[0].shape[0])).mean()


def discriminator_loss(d_real: list[torch.Tensor], d_fake: list[torch.Tensor]) -> torch.Tensor:
    real = sum((_per_sample_mean(F.relu(1 - d)).mean() for d in d_real), d_real[0].new_zeros(()))
    fake = sum((_per_sample_mean(F.relu(1 + d)).mean() for d in d_fake), d_fake[0].new_zeros(()))
    return 0.5 * (real + fake)


def identity_loss(e_source: torch.Tensor, e_output: torch.Tensor) -> torch.Tensor:
    return (1 - F.cosine_similarity(e_source.float(), e_output.float(), dim=1)).mean()


def attribute_loss(z_target: list[torch.Tensor], z_output: list[torch.Tensor]) -> torch.Tensor:
    total = sum(
        (_per_sample_mean((a.float() - b.float()) ** 2).mean() for a, b in zip(z_target, z_output, strict=True)),
        z_target[0].new_zeros((), dtype=torch.float32),
    )
    return total / 2.0


def reconstruction_loss(
    y: torch.Tensor, xt: torch.Tensor, same: torch.Tensor, count: torch.Tensor | None = None
) -> torch.Tensor:
    """½·MSE on same-person samples only. ``count``: the number of same-person samples the mean is over
    (per process: the global count ÷ the number of processes, so data-parallel gradients equal one big batch)."""
    per = 0.5 * _per_sample_mean((y.float() - xt.float()) ** 2)
    n = same.sum() if count is None else count
    return (per * same).sum() / (n + 1e-6)


def to_arcface(x: torch.Tensor) -> torch.Tensor:
    """The ArcFace input GHOST trains with: bilinear resize to 112 (align_corners=False)."""
    return F.interpolate(x, size=(112, 112), mode="bilinear", align_corners=False)
