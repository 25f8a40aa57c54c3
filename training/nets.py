"""The networks a training run needs: generator, discriminator (both trained), frozen ArcFace and eye model.

ArcFace (``backbone.pth``) must be installed; without it training stops with the command that installs it,
unless ``allow_untrained`` is set (smoke runs, tests), which uses randomly initialised auxiliary networks and
says so loudly: such a run cannot learn identity.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from ghostlive.errors import ConfigError
from ghostlive.export.aei_net import AEINet
from ghostlive.export.checkpoint import load_into, mismatch_report, read_state_dict
from ghostlive.export.discriminator import MultiscaleDiscriminator
from ghostlive.export.iresnet import IResNet, iresnet100
from ghostlive.hub import ModelStore
from ghostlive.models.registry import BY_NAME
from ghostlive.training.config import Recipe

log = logging.getLogger(__name__)

UNTRAINED_WARNING = (
    "\n" + "!" * 100 + "\n!! --allow-untrained: using RANDOMLY INITIALISED %s. "
    "This run cannot learn a usable face swap; it is for smoke tests only. !!\n" + "!" * 100
)


class GeneratorStep(nn.Module):
    """AEI-Net plus what its loss needs, in one forward (so DistributedDataParallel sees one call per step):
    ``forward(xt, z_id) → (Y, attributes of xt, attributes of Y)``."""

    def __init__(self, generator: AEINet) -> None:
        super().__init__()
        self.net = generator

    def forward(
        self, xt: torch.Tensor, z_id: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        z_t = self.net.encoder(xt)
        y = self.net.generator(z_t, z_id)
        return y, z_t, self.net.encoder(y)


def frozen(model: nn.Module) -> nn.Module:
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def resolve(spec: str, store: ModelStore) -> Path:
    """A checkpoint given as a path or as an installed model name (``ghost-2``, ``ghost-arcface``…)."""
    if spec in BY_NAME:
        return store.path(BY_NAME[spec].filename)
    p = Path(spec)
    if not p.is_file():
        raise ConfigError(f"{spec}: neither a checkpoint file nor an installed model name")
    return p


def load_partial(model: nn.Module, path: Path) -> None:
    """Load a checkpoint into a network being trained (strict: keys and shapes must match)."""
    state = read_state_dict(path)
    problems = mismatch_report(model, state)
    if problems:
        raise ConfigError(f"{path}: does not fit {type(model).__name__}: " + "; ".join(problems))
    expected = model.state_dict()
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)


def build_generator(recipe: Recipe, store: ModelStore | None = None) -> AEINet:
    g = AEINet(recipe.num_blocks, width=recipe.width)
    if recipe.init_generator:
        load_partial(g, resolve(recipe.init_generator, store or ModelStore()))
    return g.train()


def build_discriminator(recipe: Recipe, store: ModelStore | None = None) -> MultiscaleDiscriminator:
    d = MultiscaleDiscriminator(width=recipe.width)
    if recipe.init_discriminator:
        load_partial(d, resolve(recipe.init_discriminator, store or ModelStore()))
    return d.train()


def build_arcface(recipe: Recipe, store: ModelStore, allow_untrained: bool) -> IResNet:
    spec = BY_NAME["ghost-arcface"]
    if store.has(spec.filename):
        return frozen(load_into(iresnet100(), store.path(spec.filename)))  # type: ignore[return-value]
    if not allow_untrained:
        raise ConfigError(
            f"training needs the frozen ArcFace ({spec.filename}), which is not installed; run: "
            f"ghostlive models download {spec.name}   (or pass --allow-untrained for a smoke run)"
        )
    log.warning(UNTRAINED_WARNING, "ArcFace")
    torch.manual_seed(recipe.seed)
    small = recipe.width < 1.0  # a shallow stand-in keeps smoke runs of reduced networks fast
    return frozen(IResNet((1, 1, 1, 1), widths=(8, 16, 32, 64)) if small else iresnet100())  # type: ignore[return-value]


def build_eye_loss(recipe: Recipe, store: ModelStore, allow_untrained: bool) -> nn.Module | None:
    """The eye loss module, or None when no stage weights it."""
    if not any(s.weights["eyes"] > 0 for s in recipe.stages):
        return None
    if recipe.eye_model == "mesh":
        from ghostlive.training.eyes import MeshEyeLoss

        return MeshEyeLoss()
    from ghostlive.export.fan import FAN, FanEyeLoss, load_fan

    spec = BY_NAME["awl-fan"]
    if store.has(spec.filename):
        return FanEyeLoss(load_fan(store.path(spec.filename)))
    if not allow_untrained:
        raise ConfigError(
            f"eye_model = 'fan' needs {spec.filename}, which is not installed; run: ghostlive models download "
            f"{spec.name}   (or use the built-in eye_model = 'mesh')"
        )
    log.warning(UNTRAINED_WARNING, "FAN eye model")
    return FanEyeLoss(frozen(FAN()))  # type: ignore[arg-type]
