"""Per-person fine-tuning: adapt a released (or your own) GHOST generator to one source identity, then register
it in the model store as a personal swapper (see :mod:`ghostlive.models.personal`).

The person's photos or videos are prepared like any dataset (identity = the new model's name) together with
other faces as targets (the bundled sample portraits, plus any ``targets`` given); only the person is ever the
source. The safe recipe (:data:`ghostlive.training.config.FINETUNE_TOML`) lowers the adversarial weight and the
learning rate (4e-5, cosine decay), which keeps the released weights from diverging.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from ghostlive.errors import ConfigError
from ghostlive.faces import asset_path
from ghostlive.hub import ModelStore
from ghostlive.models.personal import Personal, check_name, register
from ghostlive.models.registry import BY_NAME
from ghostlive.training.config import FINETUNE_TOML, load_recipe
from ghostlive.training.data import PairDataset
from ghostlive.training.dist import Context
from ghostlive.training.prepare import Preparer, PrepareReport
from ghostlive.training.prepare import Progress as PrepareProgress
from ghostlive.training.trainer import Progress, Trainer

log = logging.getLogger(__name__)

SAMPLE_TARGETS = ("astronaut=samples/astronaut.png", "grace_hopper=samples/grace_hopper.jpg")


def prepare_person(
    name: str, person: list[str], work: Path, targets: list[str], progress: PrepareProgress | None = None
) -> PrepareReport:
    """Crops of the person (identity ``name``) and of the target faces in ``work``; resumable."""
    sources = [f"{name}={p}" for p in person]
    samples = [f"_{ident}={asset_path(rel)}" for ident, rel in (s.split("=") for s in SAMPLE_TARGETS)]
    report = Preparer(work).run([*sources, *samples, *targets], progress)
    if report.identities.get(name, 0) == 0:
        raise ConfigError(f"no usable face of the person was found in {', '.join(person)}")
    return report


def finetune(
    name: str,
    person: list[str],
    *,
    model: str = "ghost-2",
    generator: str = "",
    discriminator: str = "",
    config: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    targets: list[str] | None = None,
    store: ModelStore | None = None,
    allow_untrained: bool = False,
    resume: bool = False,
    ctx: Context | None = None,
    progress: Progress | None = None,
    prepare_progress: PrepareProgress | None = None,
) -> Personal:
    """Fine-tune and register; the work folder (crops, run) stays in ``<store>/../training/NAME`` for resuming."""
    check_name(name)
    store = store or ModelStore()
    spec = BY_NAME.get(model)
    start = generator or (model if spec and store.has(spec.filename) else "")
    if not start and not allow_untrained:
        raise ConfigError(
            f"fine-tuning starts from a trained generator: run ghostlive models download {model} "
            "(or pass --generator CHECKPOINT)"
        )
    work = store.root.parent / "training" / name
    prepare_person(name, person, work / "data", list(targets or []), prepare_progress)
    recipe = load_recipe(
        config, base=FINETUNE_TOML, model=model, batch_size=batch_size,
        init_generator=start or None, init_discriminator=discriminator or None,
    )
    data = PairDataset(work / "data", same_person=recipe.same_person, jitter=recipe.jitter, sources=(name,))
    run = work / "run"
    trainer = Trainer(recipe, data, run, ctx=ctx, store=store, allow_untrained=allow_untrained,
                      resume=resume and (run / "latest.json").exists())
    last = trainer.run(steps, progress)
    if trainer.ctx.main:
        return install(store, name, trainer, last, base=start or f"{model} (untrained)")
    return Personal(name, start, "", "", trainer.step)


def install(store: ModelStore, name: str, trainer: Trainer, checkpoint: Path, base: str) -> Personal:
    """Copy the checkpoint into the store, export it to ONNX and record the personal swapper."""
    from ghostlive.export.onnx import export_generator
    from ghostlive.media.paths import sha256_file

    pth = store.import_file(checkpoint, f"{name}.pth")
    with tempfile.TemporaryDirectory(dir=store.root) as tmp:
        out = export_generator(
            trainer.G.eval(), Path(tmp) / f"{name}.onnx", name=name, source_sha256=sha256_file(pth)
        )
        store.add_file(out, f"{name}.onnx", f"export:{name}.pth")
    entry = Personal(name, base, f"{name}.pth", f"{name}.onnx", trainer.step)
    register(store, entry)
    log.info("registered personal swapper %s (%d steps from %s)", name, trainer.step, base)
    return entry
