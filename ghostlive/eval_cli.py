"""``ghostlive eval``: swap every source onto every target (or take another program's results) and score them."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghostlive import __version__
from ghostlive.engines.cache import cpu_info
from ghostlive.errors import ConfigError, GhostliveError, OutputError
from ghostlive.models.registry import SWAPPERS
from ghostlive.settings import add_arguments

if TYPE_CHECKING:
    from ghostlive.eval.pairs import Media, Task

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eval", help="score swappers on your own faces (identity, pose, expression, eyes, artefacts)")
    p.add_argument("--sources", required=True, metavar="DIR", help="folder of source face photos")
    p.add_argument("--targets", required=True, metavar="DIR", help="folder of target photos and videos")
    p.add_argument(
        "--swapper",
        default="classic",
        metavar="NAMES",
        help=f"comma-separated swappers to run, from {','.join(SWAPPERS)} (default classic)",
    )
    p.add_argument(
        "--results",
        metavar="DIR",
        help="score another program's outputs instead: SOURCE_to_TARGET.EXT files or a pairs.csv "
        "(source,target,result)",
    )
    p.add_argument("--label", default="", help="name of the --results column (default: the folder name)")
    p.add_argument("-o", "--output", default="eval-report", metavar="DIR", help="report folder (default eval-report)")
    p.add_argument("--no-dlib", action="store_true", help="skip the dlib judges even when installed")
    p.add_argument("--no-arcface", action="store_true", help="skip the ArcFace judge even when installed")
    add_arguments(p, "eval")  # --tiles, declared in ghostlive.settings_swap
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_eval)


def _swappers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in SWAPPERS]
    if bad or not names:
        raise ConfigError(f"unknown swapper(s) {', '.join(bad) or '(none)'}; choose from {', '.join(SWAPPERS)}")
    return names


def _say(text: str) -> None:
    """The command's own output (the report summary), on stdout."""
    sys.stdout.write(text.rstrip("\n") + "\n")


def machine() -> str:
    """CPU model and core count, for every number the report shows."""
    return f"{cpu_info()[0]}, {os.cpu_count()} logical CPUs"


def _progress(total: int, quiet: bool) -> tuple[AbstractContextManager[Any], Callable[[Any, dict], None]]:
    if quiet:
        return nullcontext(), lambda task, record: None
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:
        done = [0]

        def plain(task: Any, record: dict) -> None:
            done[0] += 1
            sys.stderr.write(f"\r  [{done[0]}/{total}] {task.key}   ")
            sys.stderr.flush()

        return nullcontext(), plain
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    )
    tid = bar.add_task("pairs", total=total)
    return bar, lambda task, record: bar.update(tid, advance=1, description=task.key)


def run_eval(args: argparse.Namespace) -> int:
    from ghostlive.eval import pairs
    from ghostlive.media.paths import writable_folder

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise OutputError("must be a folder", out)
    inputs = [Path(d).resolve() for d in (args.sources, args.targets, args.results) if d]
    if out.resolve() in inputs:
        raise OutputError("is an input folder; choose another folder for the report", out)
    sources = pairs.list_media(args.sources, videos=False)
    targets = pairs.list_media(args.targets)
    if args.results:
        results = Path(args.results)
        if not results.is_dir():
            raise ConfigError(f"--results {results}: no such folder")
        tasks = pairs.result_tasks(results, sources, targets, args.label or results.name)
    else:
        tasks = pairs.swap_tasks(sources, targets, _swappers(args.swapper), out)
    created = not out.exists()
    writable_folder(out, "report folder")  # read-only or full: one line before any swap
    try:
        return _evaluate(args, out, tasks, sources, targets)
    finally:
        with suppress(OSError):
            if created and not any(out.iterdir()):
                out.rmdir()  # nothing came of this run (e.g. a swapper whose model is missing): no empty folder


def _evaluate(
    args: argparse.Namespace, out: Path, tasks: list[Task], sources: list[Media], targets: list[Media]
) -> int:
    from ghostlive.eval import runner
    from ghostlive.eval.scoring import Scorer
    from ghostlive.jobs import SwapSettings

    scorer = Scorer(use_dlib=not args.no_dlib, use_arcface=not args.no_arcface)
    settings = SwapSettings(faces="largest", tiles=args.tiles)
    evaluation = runner.Evaluation(out, scorer, settings)
    records: list[dict] = []
    bar, advance = _progress(len(tasks), args.quiet)

    def report() -> None:
        if records:
            earlier = evaluation.earlier({t.label for t in tasks})
            finish(out, evaluation, records + earlier, sources, targets, scorer.judges)

    interrupted = False
    try:
        with bar:
            records.extend(evaluation.run(tasks, advance))
    except KeyboardInterrupt:
        interrupted = True
    except OutputError:  # eval's own files cannot be written (disk full?): the report would likely fail too
        with suppress(GhostliveError):
            report()  # what finished, where it can still be written; the error to show is the first one
        raise
    except GhostliveError:  # e.g. a swapper whose model is missing: report what finished, then say why
        report()
        raise
    if not args.quiet and not hasattr(bar, "update"):
        sys.stderr.write("\n")  # end the plain progress line
    report()
    if interrupted:
        kept = f"{len(records)} of {len(tasks)} pairs kept in {out}" if records else "no pair had finished"
        _say(f"interrupted: {kept}; run the same command to resume")
        return 130
    failed = [r for r in records if r["status"] != "ok"]
    for r in failed:
        sys.stderr.write(f"skipped: {r['output']}: {r['status']}\n")
    _say(f"report: {out / 'report.html'}  ({len(records) - len(failed)} of {len(records)} pairs scored)")
    return 0 if len(failed) < len(records) else 1


def finish(out: Path, evaluation: Any, records: list[dict], sources: list, targets: list, judges: list[str]) -> None:
    """Retrieval, summary, the table on the terminal, and every report file."""
    from ghostlive.eval import report
    from ghostlive.eval.aggregate import add_retrieval, summarise
    from ghostlive.eval.table import render

    gallery = {str(m.path): evaluation.gallery_entry(m) for m in [*sources, *targets]}
    add_retrieval(records, gallery, {str(m.path) for m in sources})
    summary = summarise(records)
    run = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "ghostlive": __version__,
        "judges": judges,
        "labels": list(summary),
    }
    _say(render(summary, report.metric_keys(records)))
    try:
        report.write_json(out, run, summary, records)
        report.write_csv(out, records)
        report.write_html(out, run, summary, records)
    except OutputError:
        raise  # names its file already (a montage)
    except OSError as exc:
        raise OutputError(f"cannot write the report ({exc.strerror or exc})", out) from None
