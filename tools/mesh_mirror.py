"""Derive the face mesh's left-right vertex pairing (``FACEMESH_MIRROR`` in facemesh_topology.json).

The mesh is run on portraits and on their mirror images; flipped back, vertex j of a mirror image lies where
vertex i of the original is, for i and j partners. One assignment over the summed distances (portraits scaled
to the face size) gives the pairing; it is checked to be an involution before it is written.

    python tools/mesh_mirror.py [--write]      # prints agreement; --write stores it in the topology file
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from ghostlive.faces import FaceAnalyzer, asset_path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ("samples/astronaut.png", "samples/grace_hopper.jpg")


def pairing(images: list[np.ndarray]) -> np.ndarray:
    analyzer = FaceAnalyzer()
    cost = np.zeros((468, 468))
    for im in images:
        face = max(analyzer.analyze(im), key=lambda f: f.detection.area).landmarks
        flipped = max(analyzer.analyze(np.ascontiguousarray(im[:, ::-1])), key=lambda f: f.detection.area)
        back = flipped.landmarks.copy()
        back[:, 0] = im.shape[1] - 1 - back[:, 0]
        cost += np.linalg.norm(face[:, None] - back[None], axis=2) / float(np.ptp(face[:, 0]))
    _, partner = linear_sum_assignment(cost)
    return partner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    images = [cv2.imread(asset_path(p)) for p in IMAGES]
    images += [cv2.imread(str(ROOT / "tests" / "data" / "messi5.jpg"))]
    m = pairing(images)
    if not (m[m] == np.arange(len(m))).all():
        raise SystemExit("the pairing is not an involution; add portraits")
    path = ROOT / "ghostlive" / "assets" / "facemesh_topology.json"
    data = json.loads(path.read_text())
    old = data.get("FACEMESH_MIRROR")
    same = "-" if old is None else f"{(np.asarray(old) == m).mean():.3f}"
    print(f"midline vertices {(m == np.arange(len(m))).sum()}, agreement with the stored pairing {same}")  # noqa: T201
    if args.write:
        data["FACEMESH_MIRROR"] = [int(v) for v in m]
        path.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
