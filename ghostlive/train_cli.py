"""``ghostlive train …``: prepare a dataset, train GHOST, fine-tune it on one person; and ``bench --train``.

    ghostlive train prepare SRC… -o DATASET
    ghostlive train DATASET -o RUN [--model ghost-2] [--steps N] [--batch-size B] [--config FILE] [--resume]
    ghostlive train finetune --person PHOTOS_OR_VIDEO -o NAME [--model ghost-2] [--steps N]
    torchrun --nproc_per_node=8 -m ghostlive train DATASET -o RUN          # the same on many GPUs / nodes

torch is imported only when a command runs (the ``train`` extra: ``pip install 'ghostlive[train]'``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from ghostlive.cli_args import int_range
from ghostlive.engines.cache import cpu_info
from ghostlive.errors import ConfigError, GhostliveError

MODES = "prepare SRC… | DATASET | finetune"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``train`` (and the ``--train`` option of ``bench``) on the top-level subparsers."""
    p = sub.add_parser("train", help="prepare datasets, train or fine-tune GHOST (needs the train extra)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("items", nargs="+", metavar="ITEM", help=MODES)
    p.add_argument("-o", "--output", required=True, help="dataset folder, run folder, or the personal model's name")
    p.add_argument("--model", choices=("ghost-1", "ghost-2", "ghost-3"), help="default: the recipe's (ghost-2)")
    p.add_argument("--steps", type=int_range(0), help="stop at this global step (default: the end of the recipe)")
    p.add_argument("--batch-size", type=int_range(1), help="per process (default: the recipe's, 16; fine-tune 4)")
    p.add_argument("--config", metavar="FILE", help="TOML recipe overriding the defaults (see README)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in -o from its latest checkpoint, with the run's own recipe")
    p.add_argument("--allow-untrained", action="store_true",
                   help="smoke runs only: random ArcFace/eye model when the real ones are not installed")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--person", action="append", default=[], metavar="MEDIA", help="finetune: photos/folder/video")
    p.add_argument("--targets", action="append", default=[], metavar="MEDIA", help="finetune: extra target faces")
    p.add_argument("--generator", default="", metavar="PTH", help="finetune: start from this checkpoint")
    p.add_argument("--discriminator", default="", metavar="PTH", help="finetune: discriminator to start from")
    p.add_argument("--min-size", type=int, default=64, help="prepare: skip faces narrower than this (px)")
    p.add_argument("--every", type=int, default=5, help="prepare: video frames between crops")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=run_train)
    bench = sub.choices.get("bench")
    if bench is not None:
        bench.add_argument("--train", action="store_true", help="time training steps of ghost-2 (batch 1 and 4)")


def _progress_line(text: str) -> None:
    sys.stderr.write(f"\r  {text}   ")
    sys.stderr.flush()


def _prepare_progress(done: int, total: int, counts: object) -> None:
    c = vars(counts)
    _progress_line(f"source {done}/{total}  kept {c['kept']}  too small {c['too_small']}  "
                   f"duplicates {c['duplicate']}  no face {c['no_face']}  unreadable {c['unreadable']}")


def _train_progress(step: int, end: int, values: dict[str, float]) -> None:
    _progress_line(f"step {step}/{end}  G {values['loss_g']:.3f}  D {values['loss_d']:.3f}  "
                   f"id {values['id']:.3f}  {values['sec_per_step']:.2f} s/step")


def run_train(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("torch") is None:
        raise ConfigError("training needs PyTorch; run: pip install 'ghostlive[train]'")
    mode = args.items[0]
    if mode == "prepare":
        return _prepare(args)
    if mode == "finetune":
        return _finetune(args)
    if len(args.items) != 1:
        raise ConfigError(f"expected one DATASET folder, got {' '.join(args.items)}; usage: train {MODES}")
    return _train(args, args.items[0])


def _prepare(args: argparse.Namespace) -> int:
    from ghostlive.training.prepare import PrepareOptions, Preparer

    if len(args.items) < 2:
        raise ConfigError("train prepare needs at least one photo, folder or video")
    preparer = Preparer(args.output, PrepareOptions(min_size=args.min_size, every=args.every))
    try:
        report = preparer.run(args.items[1:], None if args.quiet else _prepare_progress)
    except GhostliveError:
        if not args.quiet:
            sys.stderr.write("\n")  # end the progress line: the error goes on a line of its own
        raise
    c = report.counts
    print(("\n" if not args.quiet else "") + f"{args.output}: {sum(report.identities.values())} crops of "
          f"{len(report.identities)} identities (this run: kept {c.kept}, too small {c.too_small}, near-duplicates "
          f"{c.duplicate}, no face {c.no_face}, unreadable {c.unreadable}; "
          f"{report.sources_skipped} sources done before)")
    return 0


def _train(args: argparse.Namespace, dataset: str) -> int:
    from ghostlive.training.config import given_keys, load_recipe
    from ghostlive.training.dist import joined
    from ghostlive.training.trainer import Trainer

    options = {"model": args.model, "batch_size": args.batch_size}
    recipe = load_recipe(args.config, **options)  # checked before any process group, dataset or network
    given = given_keys(args.config, **options) if args.resume else frozenset()
    with joined(args.device) as ctx:
        trainer = Trainer(recipe, dataset, args.output, ctx=ctx, allow_untrained=args.allow_untrained,
                          resume=args.resume, given=given)
        last = trainer.run(args.steps, None if args.quiet or not ctx.main else _train_progress)
    if ctx.main:
        print(f"\ntrained to step {trainer.step} → {last} (and D_/state_ beside it; logs in {args.output})")
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from ghostlive.training.dist import joined
    from ghostlive.training.finetune import finetune

    if not args.person:
        raise ConfigError("train finetune needs --person PHOTOS_OR_VIDEO")
    with joined(args.device) as ctx:
        entry = finetune(
            args.output, args.person, model=args.model, generator=args.generator,
            discriminator=args.discriminator, config=args.config, steps=args.steps, batch_size=args.batch_size,
            targets=args.targets,
            allow_untrained=args.allow_untrained, resume=args.resume, ctx=ctx,
            progress=None if args.quiet else _train_progress,
            prepare_progress=None if args.quiet else _prepare_progress,
        )
    if ctx.main:
        print(f"\npersonal swapper {entry.name!r} ({entry.steps} steps from {entry.base}); use it with "
              f"--swapper {entry.name}")
    return 0


def bench_train_report(args: argparse.Namespace) -> int:
    """``ghostlive bench --train``: s/step and samples/s of ghost-2 training at batch 1 and 4."""
    from ghostlive.training.bench import bench_train, device_name, set_threads

    set_threads(args.threads)

    print(f"ghostlive bench --train: ghost-2 full size, official recipe stage 1, on {device_name(cpu_info()[0])}")
    print(f"{'device':>8} {'batch':>5} {'s/step':>9} {'samples/s':>10}")
    bench_train("ghost-2", (1, 4), max(1, min(args.runs, 3)),
                show=lambda r: print(f"{r[0]:>8} {r[1]:>5} {r[2]:>9.2f} {r[3]:>10.3f}", flush=True))
    return 0
