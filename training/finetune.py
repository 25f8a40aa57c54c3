"""Per-person fine-tuning: adapt a released (or your own) GHOST generator to one source identity, then register
it in the model store as a personal swapper (see :mod:`ghostlive.models.personal`).

The person's photos or videos are prepared like any dataset (identity = the new model's name) together with
other faces as targets (the bundled sample portraits, plus any ``targets`` given); only the person is ever the
source. The safe recipe (:data:`ghostlive.training.config.FINETUNE_TOML`) lowers the adversarial weight and the
learning rate (4e-5, cosine decay), which keeps the released weights from diverging.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from pathlib import Path

from ghostlive.errors import ConfigError
from ghostlive.faces import asset_path
from ghostlive.hub import ModelStore
from ghostlive.models.personal import Personal, check_free, register, work_folder
from ghostlive.models.registry import BY_NAME
from ghostlive.training.config import FINETUNE_TOML, given_keys, load_recipe
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
    model: str | None = None,
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
    """Fine-tune and register; the work folder (crops, run) stays in ``<store>/../training/NAME`` for resuming.

    ``model`` defaults to ghost-2 (on resume: the run's). Everything that can be checked without the data is
    checked first: the name (its files must not replace another model's), the recipe, the start generator.
    A job that fails before training starts leaves no work folder behind (one from an earlier run is kept)."""
    store = store or ModelStore()
    check_free(store, name)
    work = work_folder(store, name)
    run = work / "run"
    resuming = resume and (run / "latest.json").exists()
    if not resume and (run / "latest.json").exists():
        raise ConfigError(f"{run}: already holds a fine-tune of {name!r}; add --resume to continue it, "
                          "or choose another name")
    spec = BY_NAME.get(model or "ghost-2")
    start = generator or (spec.name if spec and store.has(spec.filename) else "")
    if not start and not allow_untrained and not resuming:
        raise ConfigError(
            f"fine-tuning starts from a trained generator: run ghostlive models download {model or 'ghost-2'} "
            "(or pass --generator CHECKPOINT)"
        )
    for given_file in (generator, discriminator):
        if given_file and given_file not in BY_NAME and not Path(given_file).is_file():
            raise ConfigError(f"{given_file}: neither a checkpoint file nor an installed model name")
    options = {"model": model, "batch_size": batch_size, "init_discriminator": discriminator or None}
    recipe = load_recipe(config, base=FINETUNE_TOML, **options, init_generator=start or None)
    given = given_keys(config, **options, init_generator=generator or None) if resuming else frozenset()
    made = [d for d in (work.parent, work) if not d.exists()]  # removed again if the job fails before training
    try:  # (not on Ctrl-C: the preparation of long videos resumes)
        prepare_person(name, person, work / "data", list(targets or []), prepare_progress)
        trainer = Trainer(recipe, work / "data", run, ctx=ctx, store=store, allow_untrained=allow_untrained,
                          resume=resuming, given=given, sources=(name,))
    except Exception:
        if work in made:
            shutil.rmtree(work, ignore_errors=True)
        if work.parent in made:
            with contextlib.suppress(OSError):
                work.parent.rmdir()  # only if empty: another fine-tune may have started there meanwhile
        raise
    last = trainer.run(steps, progress)
    r = trainer.recipe
    if trainer.ctx.main:
        return install(store, name, trainer, last, base=r.init_generator or f"{r.model} (untrained)")
    return Personal(name, r.init_generator, "", "", trainer.step)


def install(store: ModelStore, name: str, trainer: Trainer, checkpoint: Path, base: str) -> Personal:
    """Copy the checkpoint into the store, export it to ONNX and record the personal swapper."""
    from ghostlive.export.onnx import export_generator
    from ghostlive.media.paths import sha256_file

    check_free(store, name)  # again: another command may have installed a file of that name meanwhile
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
