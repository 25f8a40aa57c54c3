"""Judge the classic swapper on the repository's portrait pairs, before and after a change.

    python tools/classic_pairs.py build PAIRS_DIR                # inputs + pairs.json (ghostlive.pairs)
    python tools/classic_pairs.py swap PAIRS_DIR OUT_DIR [--keep mouth|none|...]
    python tools/classic_pairs.py measure PAIRS_DIR OUT_DIR      # the issue-14 metrics (tests/classic_quality.py)
    python tools/classic_pairs.py montage PAIRS_DIR BEFORE_DIR AFTER_DIR PNG

``swap`` only uses the public swapper API, so it runs older code too: to get the "before" images of another
branch, export its package with the folders installed as ``ghostlive.*`` (pyproject's package-dir) moved in
(``git archive main ghostlive engines export ui training | tar -x -C /tmp/main``, then
``cd /tmp/main && for d in engines export ui training; do mv $d ghostlive/; done``) and run
``PYTHONPATH=/tmp/main python tools/classic_pairs.py swap ...`` from outside the worktree (revisions before
e9a9371 call the processor ``FramePipeline``). ``measure`` also prints each pair's head-pose difference and its
two parts (tests/classic_quality.py: ``pose_parts``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def swap(pairs_dir: Path, out_dir: Path, keep: tuple[str, ...]) -> None:
    from ghostlive.faces import FaceAnalyzer
    from ghostlive.pipeline import FrameProcessor
    from ghostlive.swappers.classic import ClassicOptions, ClassicSwapper

    analyzer = FaceAnalyzer()
    out_dir.mkdir(parents=True, exist_ok=True)
    for e in json.loads((pairs_dir / "pairs.json").read_text())["pairs"]:
        src, tgt = (cv2.imread(str(pairs_dir / e[k]), cv2.IMREAD_COLOR) for k in ("source", "target"))
        pipe = FrameProcessor(analyzer, ClassicSwapper(ClassicOptions(keep=keep)))
        pipe.set_source(src)
        pipe.selection = type(pipe.selection)("largest")
        cv2.imwrite(str(out_dir / f"{e['name']}.png"), pipe.process(tgt).frame)


def face_crop(image: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    return cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def montage(pairs_dir: Path, before: Path, after: Path, png: Path, size: int = 128) -> None:
    """One row per pair: source, target, before, after (crops around each input's face; the results are cropped
    like the target)."""
    from ghostlive.faces import FaceAnalyzer

    analyzer = FaceAnalyzer()
    rows = []
    for e in json.loads((pairs_dir / "pairs.json").read_text())["pairs"]:
        src, tgt = (cv2.imread(str(pairs_dir / e[k]), cv2.IMREAD_COLOR) for k in ("source", "target"))
        tiles = []
        for image, ref in (
            (src, src),
            (tgt, tgt),
            *((cv2.imread(str(d / f"{e['name']}.png")), tgt) for d in (before, after)),
        ):
            face = max(analyzer.analyze(ref), key=lambda f: f.detection.area)
            lo, hi = face.landmarks.min(0), face.landmarks.max(0)
            c, r = (lo + hi) / 2, 0.62 * float((hi - lo).max())
            h, w = ref.shape[:2]
            box = (max(int(c[0] - r), 0), max(int(c[1] - r), 0), min(int(c[0] + r), w), min(int(c[1] + r), h))
            tiles.append(face_crop(image, box, size))
        row = np.hstack(tiles)
        cv2.putText(row, e["name"], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(row)
    header = np.zeros((18, 4 * size, 3), np.uint8)
    for i, label in enumerate(("source", "target", "before", "after")):
        cv2.putText(header, label, (i * size + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    half = (len(rows) + 1) // 2
    left, right = np.vstack([header, *rows[:half]]), np.vstack([header, *rows[half:]])
    right = np.pad(right, ((0, left.shape[0] - right.shape[0]), (0, 0), (0, 0)))
    sheet = np.hstack([left, np.full((left.shape[0], 8, 3), 255, np.uint8), right])
    # a 256-colour palette keeps the PNG small enough for the repository (~0.4 MB instead of 1.2 MB)
    rgb = Image.fromarray(np.ascontiguousarray(sheet[..., ::-1]))
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build").add_argument("pairs", type=Path)
    s = sub.add_parser("swap")
    s.add_argument("pairs", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--keep", default="mouth")
    m = sub.add_parser("measure")
    m.add_argument("pairs", type=Path)
    m.add_argument("out", type=Path)
    g = sub.add_parser("montage")
    for name in ("pairs", "before", "after", "png"):
        g.add_argument(name, type=Path)
    args = parser.parse_args()
    if args.cmd == "build":
        from ghostlive.pairs import build_pairs

        build_pairs(args.pairs, ROOT / "tests" / "data")
    elif args.cmd == "swap":
        swap(args.pairs, args.out, () if args.keep == "none" else tuple(args.keep.split(",")))
    elif args.cmd == "measure":
        sys.path.insert(0, str(ROOT))
        from tests.classic_quality import report

        print(report(args.pairs, args.out))  # noqa: T201 - a command-line tool reports on stdout
    else:
        montage(args.pairs, args.before, args.after, args.png)


if __name__ == "__main__":
    main()
