"""The run's files: metrics.json, metrics.csv, montages, distribution plots and report.html (atomic writes)."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np

from ghostlive.eval.aggregate import worst_first
from ghostlive.eval.catalogue import BY_KEY, METRICS, PAPER, RETRIEVAL
from ghostlive.eval.judges import DLIB68_LICENCE
from ghostlive.eval.pairs import unique_name
from ghostlive.eval.table import SAME_FAMILY_MARK, SAME_FAMILY_NOTE, same_family
from ghostlive.media.image import read_image, write_image
from ghostlive.media.paths import atomic_write_bytes
from ghostlive.types import Frame

TILE = 192
WORST = 3


def _clean(value: Any) -> Any:
    """NaN → None, recursively (strict JSON)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def metric_keys(records: list[dict[str, Any]]) -> list[str]:
    """Metric names present in the run, in catalogue order, then verdicts and retrieval."""
    present = {k for r in records for k in r.get("metrics", {})}
    order = [*RETRIEVAL, *(f"verdict_{j}" for j in ("dlib", "arcface")), *(m.key for m in METRICS)]
    return [k for k in order if k in present]


def write_json(out: Path, run: dict[str, Any], summary: dict, records: list[dict[str, Any]]) -> None:
    pairs = [{k: v for k, v in r.items() if k not in ("descriptors", "stamp")} for r in records]
    keys = metric_keys(records)
    metrics = {m.key: {**m.__dict__} for m in METRICS if m.key in keys}
    metrics |= {k: {"key": k, "unit": "%", "judge": k.split("_")[1], "definition": d} for k, d in RETRIEVAL.items()}
    doc = {"run": run, "metrics": metrics, "summary": summary, "paper": PAPER, "pairs": pairs}
    atomic_write_bytes(out / "metrics.json", json.dumps(_clean(doc), indent=1, allow_nan=False).encode())


def write_csv(out: Path, records: list[dict[str, Any]]) -> None:
    keys = metric_keys(records)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["label", "source", "target", "output", "status", *keys])
    for r in records:
        m = r.get("metrics", {})
        cells = ["" if (v := m.get(k)) is None or (isinstance(v, float) and math.isnan(v)) else v for k in keys]
        w.writerow([r["label"], r["source"], r["target"], r["output"], r.get("status", ""), *cells])
    atomic_write_bytes(out / "metrics.csv", buf.getvalue().encode())


def first_frame(path: str | Path, index: int = 0) -> Frame | None:
    """A photo, or frame ``index`` of a video; None when unreadable."""
    from ghostlive.eval.pairs import media_kind, read_frames

    try:
        if media_kind(Path(path)) == "video":
            frames = read_frames(Path(path), index + 1)
            return frames[-1] if frames else None
        return read_image(path).bgr
    except (OSError, ValueError):
        return None


def around(image: Frame | None, box: list[float] | None, margin: float = 0.7) -> Frame | None:
    """The part of ``image`` around a face ``box`` (x1, y1, x2, y2), ``margin`` × its size on each side."""
    if image is None or not box:
        return image
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (0.5 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    h, w = image.shape[:2]
    xa, ya = max(int(cx - side), 0), max(int(cy - side), 0)
    xb, yb = min(int(cx + side), w), min(int(cy + side), h)
    return image[ya:yb, xa:xb] if xb > xa and yb > ya else image


def _tile(image: Frame | None, caption: str) -> Frame:
    tile = np.full((TILE + 22, TILE, 3), 32, np.uint8)
    if image is not None:
        h, w = image.shape[:2]
        s = TILE / max(h, w)
        small = cv2.resize(image, (max(round(w * s), 1), max(round(h * s), 1)), interpolation=cv2.INTER_AREA)
        y, x = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
        tile[y : y + small.shape[0], x : x + small.shape[1]] = small
    cv2.putText(tile, caption[:26], (4, TILE + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return tile


def pair_names(records: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """A name per (source, target) of the records, unique in the report (montage file and HTML anchor): the
    pair's own name (its record's ``pair``; SOURCESTEM_to_TARGETSTEM in older records) with ``~2``, ``~3`` …
    added where pairs of other folders meet, and white space as ``_``."""
    names: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for r in records:
        key = (r["source"], r["target"])
        if key in names:
            continue
        pair = r.get("pair") or f"{Path(key[0]).stem}_to_{Path(key[1]).stem}"
        names[key] = unique_name(re.sub(r"\s", "_", pair), used)
    return names


def montages(out: Path, records: list[dict[str, Any]], names: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """One image per (source, target): source | target | each label's output. Returns relative paths."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["source"], r["target"]), []).append(r)
    folder = out / "montages"
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for (src, tgt), rows in groups.items():
        view = next((r["view"] for r in rows if r.get("view")), {})
        i, tgt_box = view.get("frame", 0), view.get("target")
        tiles = [_tile(around(first_frame(src), view.get("source")), "source")]
        tiles.append(_tile(around(first_frame(tgt, i), tgt_box), "target" + (f" (frame {i})" if i else "")))
        tiles += [
            _tile(around(first_frame(r["output"], i), tgt_box) if r.get("status") == "ok" else None, r["label"])
            for r in rows
        ]
        name = f"{names[src, tgt]}.png"
        write_image(folder / name, np.hstack(tiles))
        made[(src, tgt)] = f"montages/{name}"
    return made


def plots(out: Path, records: list[dict[str, Any]]) -> list[str]:
    """Histograms of every metric (all labels overlaid, the pass limit dashed) in one PNG,
    plots/distributions.png; needs matplotlib (eval extra), else nothing is drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    keys = [k for k in metric_keys(records) if not k.startswith(("verdict_", "retrieval_"))]
    if not keys:
        return []
    labels = list(dict.fromkeys(r["label"] for r in records))
    cols = 4
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), dpi=90, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        m = BY_KEY[key]
        by_label = {
            label: [v for r in records if r["label"] == label and _number(v := r["metrics"].get(key))]
            for label in labels
        }
        values = [v for vs in by_label.values() for v in vs]
        span = (min([*values, 0.0]), max([*values, m.limit * 1.1]) or 1.0)
        for i, (label, vals) in enumerate(by_label.items()):
            if vals:  # a fixed colour per label, whichever labels have values here
                ax.hist(vals, bins=16, range=span, alpha=0.6, label=label, color=f"C{i % 10}")
        ax.axvline(m.limit, color="k", linestyle="--", linewidth=1)
        ax.set_title(f"{key} ({m.unit}; {m.judge})", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="upper right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "plots" / "distributions.png", buf.getvalue())
    return ["plots/distributions.png"]


def _number(v: Any) -> bool:
    return isinstance(v, float) and not math.isnan(v)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.3g}"
    return html.escape(str(v))


def _pair_link(r: dict[str, Any], names: dict[tuple[str, str], str]) -> str:
    s, t = html.escape(Path(r["source"]).name), html.escape(Path(r["target"]).name)
    anchor = html.escape(names[r["source"], r["target"]])
    return f"{html.escape(r['label'])}: <a href='#{anchor}'>{s} → {t}</a>"


def _summary_html(summary: dict, keys: list[str]) -> str:
    labels = list(summary)
    head = "<th>unit · judge</th>" + "".join(
        f"<th>{html.escape(lb)} median</th><th>mean</th><th>pass</th>" for lb in labels
    )
    rows = []
    for key in keys:
        cells = []
        for lb in labels:
            e = summary[lb].get(key, {})
            if key.startswith("verdict_"):
                cells.append(f"<td colspan=3>source {e.get('source', 0):.0%} · target {e.get('target', 0):.0%}</td>")
            else:
                p = e.get("pass")
                pass_txt = "–" if p is None else (f"{p:.1f}%" if key in RETRIEVAL else f"{p:.0%}")
                cells.append(f"<td>{_fmt(e.get('median', math.nan))}</td><td>{_fmt(e.get('mean', math.nan))}</td>")
                cells.append(f"<td>{pass_txt}{SAME_FAMILY_MARK if same_family(key, lb) else ''}</td>")
        m = BY_KEY.get(key)
        what = RETRIEVAL.get(key) or (f"{m.definition} [{m.unit}; judge {m.judge}]" if m else "identity verdict")
        judge = (
            f"{m.unit} · {m.judge}" if m else ("share · " if key.startswith("verdict_") else "% · ") + key.split("_")[1]
        )
        unit = f"<td style='text-align:left'>{html.escape(judge)}</td>"
        rows.append(f"<tr><th title='{html.escape(what)}'>{key}</th>{unit}{''.join(cells)}</tr>")
    return f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


def write_html(out: Path, run: dict, summary: dict, records: list[dict[str, Any]]) -> None:
    keys = metric_keys(records)
    names = pair_names(records)
    tiles = montages(out, records, names)
    figures = plots(out, records)
    paper = "".join(
        f"<tr><td>{p['method']}</td><td>{p['id_retrieval']}</td><td>{p['eye_ldmks']}</td></tr>" for p in PAPER["rows"]
    )
    worst = []
    for key in keys:
        if key.startswith(("verdict_", "retrieval_")):
            continue
        cells = "".join(
            f"<td>{_fmt(r['metrics'][key])} · {_pair_link(r, names)}</td>" for r in worst_first(records, key)[:WORST]
        )
        worst.append(f"<tr><th>{key}</th>{cells}</tr>")
    pairs = "".join(
        f"<h3 id='{html.escape(names[s, t])}'>{a} → {b}</h3><img src='{html.escape(quote(rel))}' alt='montage'>"
        for (s, t), rel in tiles.items()
        for a, b in [(html.escape(Path(s).name), html.escape(Path(t).name))]
    )
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>ghostlive eval</title><style>
body{{font-family:sans-serif;margin:1.5em;max-width:1200px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}} th:first-child{{text-align:left}}
img{{max-width:100%}} .worst td{{text-align:left}} .plots img{{width:100%}}</style></head><body>
<h1>ghostlive eval</h1><p>{html.escape(run.get("when", ""))} · judges: {html.escape(", ".join(run["judges"]))}
· {len(records)} outputs · {html.escape(run.get("machine", ""))}</p>
<h2>Summary</h2>{_summary_html(summary, keys)}
<h2>Published (GHOST paper)</h2><table><tr><th>method</th><th>ID retrieval</th><th>eye ldmks</th></tr>{paper}</table>
<p>{html.escape(PAPER["note"])}</p><p>{html.escape(DLIB68_LICENCE)}. {html.escape(SAME_FAMILY_NOTE)}</p>
<h2>Worst pairs per metric</h2><table class="worst">{"".join(worst)}</table>
<h2>Pairs (source | target | each output)</h2>{pairs}
<h2>Distributions</h2><div class="plots">{"".join(f"<img src='{f}'>" for f in figures)}</div></body></html>"""
    atomic_write_bytes(out / "report.html", doc.encode())
