"""From per-pair records to the run's figures: ID retrieval and per-metric median, mean and share passing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ghostlive.eval.catalogue import BY_KEY, RETRIEVAL
from ghostlive.eval.judges import retrieval_top1


def add_retrieval(records: list[dict[str, Any]], gallery: dict[str, dict[str, list[float]]], sources: set[str]) -> None:
    """Add ``retrieval_JUDGE`` (among the run's sources) and ``retrieval_JUDGE_all`` (sources and targets) to
    each scored record's metrics: 1.0 when the output's nearest identity is its own source, else 0.0 (also when
    the judge finds no face in the output).

    ``gallery`` maps each input path to its judges' descriptors; ``sources`` names the source paths."""
    for judge in ("dlib", "arcface"):
        everyone = {p: np.array(d[judge]) for p, d in gallery.items() if judge in d}
        if not everyone:
            continue  # this judge did not run
        ok = [i for i, r in enumerate(records) if r.get("status") == "ok"]
        outputs = {i: np.array(records[i]["descriptors"][judge]) for i in ok if judge in records[i]["descriptors"]}
        truth = {i: records[i]["source"] for i in outputs}
        only_sources = {p: v for p, v in everyone.items() if p in sources}
        for suffix, pool in (("", only_sources), ("_all", everyone)):
            if len(pool) < 2:
                continue
            hits = retrieval_top1(outputs, pool, truth) if outputs else {}
            for i in ok:  # an output in which the judge finds no face is a miss
                records[i]["metrics"][f"retrieval_{judge}{suffix}"] = 1.0 if hits.get(i) else 0.0


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not math.isnan(float(v)) else None


def summarise(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """label → metric → {n, median, mean, pass} (pass: share of pairs on the good side of the metric's limit;
    for retrieval median, mean and pass are in % (pass: the hit rate), for verdicts the share judged each way)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for label in dict.fromkeys(r["label"] for r in records):
        rows = [r["metrics"] for r in records if r["label"] == label and r.get("status") == "ok"]
        summary: dict[str, dict[str, float]] = {
            "pairs": {"n": float(sum(r["label"] == label for r in records)), "ok": float(len(rows))}
        }
        keys = dict.fromkeys(k for m in rows for k in m)
        for key in keys:
            if key.startswith("verdict_"):
                verdicts = [m[key] for m in rows if key in m]
                summary[key] = {"n": float(len(verdicts))} | {
                    v: sum(x == v for x in verdicts) / len(verdicts) for v in ("source", "target", "neither")
                }
                continue
            values = [x for m in rows if (x := _number(m.get(key))) is not None]
            if not values:
                continue
            if key in RETRIEVAL:  # per pair 1 (hit) or 0 (miss); the run's figures are rates in %
                values = [100.0 * v for v in values]
            entry = {"n": float(len(values)), "median": float(np.median(values)), "mean": float(np.mean(values))}
            if key in RETRIEVAL:
                entry["pass"] = entry["mean"]
            elif key in BY_KEY:
                entry["pass"] = float(np.mean([BY_KEY[key].passes(v) for v in values]))
            summary[key] = entry
        out[label] = summary
    return out


def worst_first(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Records with a value for ``key``, worst first."""
    metric = BY_KEY.get(key)
    rows = [r for r in records if _number(r.get("metrics", {}).get(key)) is not None]
    higher_better = metric.higher_better if metric else key in RETRIEVAL
    return sorted(rows, key=lambda r: r["metrics"][key], reverse=not higher_better)
