"""Per-person fine-tuning: adapt a released (or your own) GHOST generator to one source identity, then register
it in the model store as a personal swapper (see :mod:`ghostlive.models.personal`).

The person's photos or videos are prepared like any dataset (identity = the new model's name) together with
other faces as targets (the bundled sample portraits, plus any ``targets`` given); only the person is ever the
source. The safe recipe (:data:`ghostlive.training.config.FINETUNE_TOML`) lowers the adversarial weight and the
learning rate (4e-5, cosine decay), which keeps the released weights from diverging.

Nothing slow starts before everything that can fail early was checked: the name, the recipe, the start
generator, and that the model folder and the work folder can be written (an unwritable one was otherwise found
only at the install, after hours of training). ``stop`` (set from another thread) ends the job after the current
source of the preparation, before training starts, or after the current step (a checkpoint is kept).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError, NoFaceError
from ghostlive.faces import asset_path
from ghostlive.hub import ModelStore
from ghostlive.media.paths import writable_folder
from ghostlive.models.personal import Personal, check_free, record_person, register, work_folder
from ghostlive.models.registry import BY_NAME
from ghostlive.training.config import FINETUNE_TOML, given_keys, load_recipe
from ghostlive.training.dist import Context
from ghostlive.training.prepare import Preparer, PrepareReport
from ghostlive.training.prepare import Progress as PrepareProgress
from ghostlive.training.trainer import Progress, Stopped, Trainer

log = logging.getLogger(__name__)

SAMPLE_TARGETS = ("astronaut=samples/astronaut.png", "grace_hopper=samples/grace_hopper.jpg")


Notes = Callable[[str], None]
"""``notes(line)``: a source the preparation skipped, and why (``skipped: FILE: REASON``)."""


def prepare_person(
    name: str, person: list[str], work: Path, targets: list[str], progress: PrepareProgress | None = None,
    notes: Notes | None = None,
) -> PrepareReport:
    """Crops of the person (identity ``name``) and of the target faces in ``work``; resumable. NoFaceError
    naming the person's media (and why each skipped one was skipped) when none of them gave a face."""
    sources = [f"{name}={p}" for p in person]
    samples = [f"_{ident}={asset_path(rel)}" for ident, rel in (s.split("=") for s in SAMPLE_TARGETS)]
    report = Preparer(work).run([*sources, *samples, *targets], progress)
    for _ident, _src, error in report.failed:
        if notes is not None:
            notes(f"skipped: {error}")
    if report.identities.get(name, 0) == 0:
        why = "; ".join(error for ident, _src, error in report.failed if ident == name)
        found = f"no usable face of the person was found in {', '.join(person)}"
        raise NoFaceError(f"{found} ({why})" if why else found)
    return report


def _stopping(fn: Callable[..., None] | None, stop: threading.Event | None) -> Callable[..., None] | None:
    """``fn`` (a progress callback), then :class:`Stopped` when ``stop`` is set."""
    if stop is None:
        return fn

    def call(*args: Any) -> None:
        if fn is not None:
            fn(*args)
        if stop.is_set():
            raise Stopped

    return call


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
    stop: threading.Event | None = None,
    notes: Notes | None = None,
) -> Personal:
    """Fine-tune and register; the work folder (crops, run) stays in ``<store>/../training/NAME`` for resuming.

    ``model`` defaults to ghost-2 (on resume: the run's). Everything that can be checked without the data is
    checked first: the name (its files must not replace another model's), the recipe, the start generator, that
    the model folder and the work folder can be written. A job that fails (or is stopped) before training starts
    leaves no work folder behind (one from an earlier run is kept). ``stop``: see the module docstring (raises
    :class:`~ghostlive.training.trainer.Stopped`); ``notes``: each source of the person skipped, and why."""
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
    store.writable()  # the install at the end writes there
    made = [d for d in (work.parent, work) if not d.exists()]  # removed again if the job fails before training
    try:  # (not on Ctrl-C: the preparation of long videos resumes)
        writable_folder(work, "fine-tune work folder")
        prepare_person(name, person, work / "data", list(targets or []), _stopping(prepare_progress, stop), notes)
        if ctx is None or ctx.main:
            record_person(work, name, person)  # whom this run learns (the GUI continues it only with them)
        trainer = Trainer(recipe, work / "data", run, ctx=ctx, store=store, allow_untrained=allow_untrained,
                          resume=resuming, given=given, sources=(name,))
        if stop is not None and stop.is_set():
            raise Stopped
    except Exception:
        if work in made:
            shutil.rmtree(work, ignore_errors=True)
        if work.parent in made:
            with contextlib.suppress(OSError):
                work.parent.rmdir()  # only if empty: another fine-tune may have started there meanwhile
        raise
    last = trainer.run(steps, _stopping(progress, stop))
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
