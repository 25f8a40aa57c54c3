"""The training recipe as a TOML file: GHOST's official settings by default, stages as ``[[stages]]`` entries.

``ghostlive train … --config FILE`` reads a file that overrides any part of :data:`DEFAULT_TOML`; every value is
checked (:mod:`ghostlive.training.schema`) before it is used. The resolved recipe is saved into the run folder
(``recipe.json``) so ``--resume`` continues with exactly the same settings: a file or option given with it may
only change the :data:`ADJUSTABLE` keys (:func:`resume_recipe`).
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError
from ghostlive.training.schema import WEIGHTS, check_table

log = logging.getLogger(__name__)

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


def recipe_from_dict(raw: dict[str, Any], where: str = "recipe") -> Recipe:
    """A complete settings table (every value checked by :func:`~ghostlive.training.schema.check_table`;
    ``where`` names its origin in errors) as a :class:`Recipe`."""
    table = check_table(raw, where)
    if not table.get("stages"):
        raise ConfigError(f"{where}: a recipe needs at least one [[stages]] table")
    stages = tuple(
        Stage(**{**s, "weights": {k: 0.0 for k in WEIGHTS} | s.get("weights", {})}) for s in table["stages"]
    )
    rest = {k: v for k, v in table.items() if k not in ("optimizer", "stages")}
    return Recipe(stages=stages, optimizer=Optimizer(**table.get("optimizer", {})), **rest)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_recipe(path: str | Path | None = None, *, base: str = DEFAULT_TOML, **overrides: Any) -> Recipe:
    """The default recipe (or ``base``), overridden by the TOML file at ``path`` and then by ``overrides``
    (command-line options; None values are ignored). A file's ``[[stages]]`` replace the default stages.
    Every value the file and the options give is checked (type and range) before they are merged."""
    raw = tomllib.loads(DEFAULT_TOML)
    if base is not DEFAULT_TOML:
        extra = tomllib.loads(base)
        raw = _merge(raw, extra) | ({"stages": extra["stages"]} if "stages" in extra else {})
    if path is not None:
        user = check_table(_read_toml(Path(path)), str(path))
        raw = _merge(raw, user) | ({"stages": user["stages"]} if "stages" in user else {})
    raw |= check_table({k: v for k, v in overrides.items() if v is not None}, "options")
    return recipe_from_dict(raw, str(path) if path is not None else "recipe")


def given_keys(path: str | Path | None = None, **overrides: Any) -> frozenset[str]:
    """The recipe keys a ``--config`` file and the options set (``width``, ``optimizer.lr_g``, ``stages``): what
    a resumed run compares with its own recipe (:func:`resume_recipe`)."""
    keys = {k for k, v in overrides.items() if v is not None}
    for k, v in (_read_toml(Path(path)) if path is not None else {}).items():
        keys |= {f"optimizer.{o}" for o in v} if k == "optimizer" and isinstance(v, dict) else {k}
    return frozenset(keys)


def recipe_from_json(text: str, where: str = "recipe.json") -> Recipe:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: damaged ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: damaged (not a JSON object)")
    return recipe_from_dict(raw, where)


ADJUSTABLE = ("num_workers", "log_every", "preview_every", "checkpoint_every")
"""Keys a resumed run may change: they decide what is written and how batches are loaded, never what is learnt
(a batch depends only on the seed and the step), so the losses stay those of an uninterrupted run."""
START_ONLY = ("init_generator", "init_discriminator")
"""Keys that only matter at step 0: a resumed run continues from its own checkpoint."""


def _flat(recipe: Recipe, key: str) -> dict[str, Any]:
    """``key``'s value(s) in ``recipe``, with stages spread into one entry per stage setting."""
    if key == "stages":
        out: dict[str, Any] = {"[[stages]] count": len(recipe.stages)}
        for i, s in enumerate(recipe.stages, 1):
            out |= {f"[[stages]] #{i}: {k}": v for k, v in asdict(s).items() if k != "weights"}
            out |= {f"[[stages]] #{i}: weights.{k}": v for k, v in s.weights.items()}
        return out
    head, _, tail = key.partition(".")
    return {key: getattr(recipe.optimizer, tail) if head == "optimizer" else getattr(recipe, key)}


def resume_recipe(saved: Recipe, given: Recipe, keys: frozenset[str] | set[str], where: str) -> Recipe:
    """The recipe a resumed run continues with: its own (``saved``), with the :data:`ADJUSTABLE` keys among
    ``keys`` (those the user set, see :func:`given_keys`) taken from ``given``, each change logged as a warning.
    A change of any other key is refused (ConfigError naming each key): it would make the run something else
    than the run it continues."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key in sorted(keys):
        old |= _flat(saved, key)
        new |= _flat(given, key)
    changed = [k for k in old if old[k] != new.get(k)] + [k for k in new if k not in old]
    fixed = [k for k in changed if k not in ADJUSTABLE + START_ONLY]
    if fixed:
        shown = ", ".join(f"{k} ({old.get(k, '-')!r} → {new.get(k, '-')!r})" for k in fixed)
        raise ConfigError(
            f"{where}: --resume continues the run with its own recipe, but the given settings change {shown}; "
            "resume without them, or start a new run in another folder"
        )
    for k in changed:
        if k in START_ONLY:
            log.warning("%s: %s is ignored on resume: the run continues from its own checkpoint", where, k)
        else:
            log.warning("%s: %s changes from %r to %r on resume", where, k, old[k], new[k])
    return replace(saved, **{k: new[k] for k in changed if k in ADJUSTABLE})
