"""The training recipe as a TOML file: GHOST's official settings by default, stages as ``[[stages]]`` entries.

``ghostlive train … --config FILE`` reads a file that overrides any part of :data:`DEFAULT_TOML`; the resolved
recipe is saved into the run folder (``recipe.json``) so ``--resume`` continues with exactly the same settings.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError

DEFAULT_TOML = """\
# GHOST's recipe (ai-forever/ghost train.py, utils/training/*): AEI-Net + 3-scale discriminator, frozen ArcFace.
model = "ghost-2"          # ghost-1, ghost-2 or ghost-3 (AAD blocks per ResBlk)
width = 1.0                # channel scale; 1.0 = the released networks (< 1 only for smoke runs and tests)
batch_size = 16
seed = 0
same_person = 0.2          # probability that the target is another photo of the source's identity
jitter = [0.2, 0.2, 0.2, 0.01]   # ColorJitter(brightness, contrast, saturation, hue), per image copy
num_workers = 2
precision = "auto"         # auto: bf16 (or fp16 with loss scaling) on a GPU, fp32 on the CPU; or fp32/fp16/bf16
grad_clip = 10.0           # max global gradient norm per network (0 = off)
discriminator_gate = false # skip the D step while an EMA(0.98) of the adversarial loss is >= 4 (GHOST discr_force)
eye_model = "mesh"         # mesh: bundled face-mesh + iris models in torch (no download); fan: WFLW_4HG.pth
log_every = 10
validation_images = 16     # held out of training (only when the dataset has 2× as many) and scored by
validate_every = 5000      # ghostlive eval's judges every N steps into validation.csv (0 = never)
preview_every = 500
checkpoint_every = 5000
init_generator = ""        # start from a checkpoint (path, or an installed model name such as ghost-2)
init_discriminator = ""

[optimizer]
lr_g = 4e-4
lr_d = 4e-4
betas = [0.0, 0.999]
weight_decay = 1e-4

# Stage 1: no eye loss, constant lr. 12 epochs of VGGFace2 (~3.1M photos) at batch 16 is ~2.4M steps in all.
[[stages]]
name = "base"
steps = 2000000
scheduler = "none"
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 0.0 }

# Stage 2: the same with a heavily weighted eye loss and StepLR(5000, 0.2).
[[stages]]
name = "eyes"
steps = 400000
scheduler = "step"
step_size = 5000
gamma = 0.2
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 800.0 }
"""

FINETUNE_TOML = """\
# Per-person fine-tuning from released weights. Users of the official code report divergence after a few
# thousand steps at lr 4e-4 and adversarial weight 1: both are lowered here and the lr decays (cosine).
batch_size = 4
same_person = 0.5
validation_images = 0
preview_every = 100
checkpoint_every = 500
[optimizer]
lr_g = 4e-5
lr_d = 4e-5
[[stages]]
name = "person"
steps = 2000
scheduler = "cosine"
min_lr_ratio = 0.1
weights = { adv = 0.1, attr = 10.0, id = 20.0, rec = 10.0, eyes = 0.0 }
"""

WEIGHTS = ("adv", "attr", "id", "rec", "eyes")
SCHEDULERS = ("none", "step", "cosine")


@dataclass(frozen=True)
class Stage:
    name: str
    steps: int
    weights: dict[str, float]
    scheduler: str = "none"
    step_size: int = 5000
    gamma: float = 0.2
    min_lr_ratio: float = 0.1


@dataclass(frozen=True)
class Optimizer:
    lr_g: float = 4e-4
    lr_d: float = 4e-4
    betas: tuple[float, float] = (0.0, 0.999)
    weight_decay: float = 1e-4


@dataclass(frozen=True)
class Recipe:
    stages: tuple[Stage, ...]
    optimizer: Optimizer = field(default_factory=Optimizer)
    model: str = "ghost-2"
    width: float = 1.0
    batch_size: int = 16
    seed: int = 0
    same_person: float = 0.2
    jitter: tuple[float, float, float, float] = (0.2, 0.2, 0.2, 0.01)
    num_workers: int = 2
    precision: str = "auto"
    grad_clip: float = 10.0
    discriminator_gate: bool = False
    eye_model: str = "mesh"
    log_every: int = 10
    validation_images: int = 16
    validate_every: int = 5000
    preview_every: int = 500
    checkpoint_every: int = 5000
    init_generator: str = ""
    init_discriminator: str = ""

    @property
    def num_blocks(self) -> int:
        return int(self.model.rsplit("-", 1)[1])

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)

    def stage_at(self, step: int) -> tuple[int, Stage, int]:
        """(index, stage, step inside the stage) for global ``step``; past the end: the last stage."""
        start = 0
        for i, s in enumerate(self.stages):
            if step < start + s.steps:
                return i, s, step - start
            start += s.steps
        return len(self.stages) - 1, self.stages[-1], self.stages[-1].steps

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _stage(raw: dict[str, Any]) -> Stage:
    known = {f.name for f in fields(Stage)}
    bad = set(raw) - known
    if bad:
        raise ConfigError(f"unknown stage setting(s): {', '.join(sorted(bad))}")
    weights = {k: 0.0 for k in WEIGHTS} | {k: float(v) for k, v in raw.get("weights", {}).items()}
    if set(weights) - set(WEIGHTS):
        raise ConfigError(f"unknown loss weight(s): {', '.join(sorted(set(weights) - set(WEIGHTS)))}")
    stage = Stage(**{**raw, "weights": weights})
    if stage.steps < 0 or stage.scheduler not in SCHEDULERS:
        raise ConfigError(f"stage {stage.name!r}: steps must be ≥ 0 and scheduler one of {', '.join(SCHEDULERS)}")
    return stage


def recipe_from_dict(raw: dict[str, Any]) -> Recipe:
    """Validate a merged settings table into a :class:`Recipe`."""
    known = {f.name for f in fields(Recipe)}
    bad = set(raw) - known
    if bad:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(bad))}")
    try:
        table = raw.get("optimizer", {})
        opt = Optimizer(**{**table, "betas": tuple(table.get("betas", (0.0, 0.999)))})
        stages = tuple(_stage(s) for s in raw.get("stages", []))
        rest = {k: v for k, v in raw.items() if k not in ("optimizer", "stages")}
        if "jitter" in rest:
            rest["jitter"] = tuple(rest["jitter"])
        recipe = Recipe(stages=stages, optimizer=opt, **rest)
    except TypeError as exc:
        raise ConfigError(f"bad training settings: {exc}") from None
    if recipe.model not in ("ghost-1", "ghost-2", "ghost-3"):
        raise ConfigError(f"model must be ghost-1, ghost-2 or ghost-3, got {recipe.model!r}")
    if not recipe.stages or recipe.batch_size < 1 or not 0 < recipe.width <= 1:
        raise ConfigError("a recipe needs at least one stage, batch_size ≥ 1 and 0 < width ≤ 1")
    if recipe.eye_model not in ("mesh", "fan") or recipe.precision not in ("auto", "fp32", "fp16", "bf16"):
        raise ConfigError("eye_model must be mesh or fan; precision auto, fp32, fp16 or bf16")
    return recipe


def load_recipe(path: str | Path | None = None, *, base: str = DEFAULT_TOML, **overrides: Any) -> Recipe:
    """The default recipe (or ``base``), overridden by the TOML file at ``path`` and then by ``overrides``
    (command-line options; None values are ignored). A file's ``[[stages]]`` replace the default stages."""
    raw = tomllib.loads(DEFAULT_TOML)
    if base is not DEFAULT_TOML:
        extra = tomllib.loads(base)
        raw = _merge(raw, extra) | ({"stages": extra["stages"]} if "stages" in extra else {})
    if path is not None:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text())
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read the config ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML ({exc})") from None
        raw = _merge(raw, user) | ({"stages": user["stages"]} if "stages" in user else {})
    raw |= {k: v for k, v in overrides.items() if v is not None}
    return recipe_from_dict(raw)


def recipe_from_json(text: str) -> Recipe:
    return recipe_from_dict(json.loads(text))
