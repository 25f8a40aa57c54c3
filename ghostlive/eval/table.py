"""The terminal table of a run (rich when installed, plain text otherwise) with the paper's figures beside it."""

from __future__ import annotations

import math
from typing import Any

from ghostlive.eval.catalogue import BY_KEY, PAPER, RETRIEVAL
from ghostlive.eval.judges import SAME_FAMILY

SAME_FAMILY_MARK = " †"
SAME_FAMILY_NOTE = "† ArcFace judging a swapper that takes its identity from ArcFace: same family as the swapper."


def same_family(key: str, label: str) -> bool:
    """True for ArcFace-judged numbers of a swapper built on ArcFace (GHOST, inswapper)."""
    return "arcface" in key and label in SAME_FAMILY


def rows(summary: dict[str, dict[str, dict[str, float]]], keys: list[str]) -> list[list[str]]:
    """One row per metric: name, unit/judge, then 'median (pass)' per label."""
    out = []
    for key in keys:
        m = BY_KEY.get(key)
        what = "%" if key in RETRIEVAL else (f"{m.unit} · {m.judge}" if m else "share")
        cells = [key, what]
        for label in summary:
            e = summary[label].get(key)
            if e is None:
                cells.append("–")
            elif key.startswith("verdict_"):
                cells.append(f"source {e['source']:.0%} · target {e['target']:.0%}")
            elif key in RETRIEVAL:
                cells.append(f"{e['pass']:.1f}")
            else:
                median = "–" if math.isnan(e["median"]) else f"{e['median']:.3g}"
                cells.append(f"{median} ({e['pass']:.0%} pass)" if "pass" in e else median)
            if same_family(key, label):
                cells[-1] += SAME_FAMILY_MARK
        out.append(cells)
    return out


def paper_rows(summary: dict[str, dict[str, dict[str, float]]]) -> list[list[str]]:
    """ID retrieval and eye landmarks: the paper's rows, then this run's (dlib retrieval, mesh+iris eyes)."""
    out = [[p["method"], f"{p['id_retrieval']:.2f}", f"{p['eye_ldmks']:.2f}"] for p in PAPER["rows"]]
    for label, s in summary.items():
        ret = s.get("retrieval_dlib", s.get("retrieval_arcface", {})).get("pass")
        eyes = s.get("eyes", {}).get("mean")
        out.append(
            [f"{label} (this run)", "–" if ret is None else f"{ret:.2f}", "–" if eyes is None else f"{eyes:.2f}"]
        )
    return out


def render(summary: dict[str, dict[str, dict[str, float]]], keys: list[str], console: Any = None) -> str:
    """The run's table and the paper comparison as text (printed through rich when available)."""
    labels = list(summary)
    body = rows(summary, keys)
    paper = paper_rows(summary)
    note = PAPER["note"] + " This run: ID retrieval by dlib among the run's sources; eye error in % inter-ocular."
    if any(same_family(k, lb) for k in keys for lb in labels):
        note += "\n" + SAME_FAMILY_NOTE
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        lines = ["\t".join(["metric", "unit · judge", *labels])]
        lines += ["\t".join(r) for r in body]
        lines += ["", "\t".join(["method", "ID retrieval", "eye ldmks"])]
        lines += ["\t".join(r) for r in paper]
        return "\n".join([*lines, note])
    table = Table(title="ghostlive eval (median, share passing)")
    for name in ["metric", "unit · judge", *labels]:
        table.add_column(name, overflow="fold")
    for r in body:
        table.add_row(*r)
    ptable = Table(title="ID retrieval and eye landmarks beside the GHOST paper")
    for name in ("method", "ID retrieval", "eye ldmks"):
        ptable.add_column(name)
    for r in paper:
        ptable.add_row(*r)
    console = console or Console(width=120)
    with console.capture() as cap:
        console.print(table)
        console.print(ptable)
        console.print(note, soft_wrap=True)
    return cap.get()
