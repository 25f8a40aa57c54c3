"""Source×target portrait pairs for judging a swapper, assembled from the repository's own images.

The set covers what a new user meets first: studio portraits, a small face in a busy photo, a grey photo, a
grey photo stored as RGB, a painting-like image, a closed-eye face (a blink in the Megamind clip), and heads
turned left and right (the same clip, one frame and its mirror). :func:`build_pairs` writes the inputs as PNG
files and a ``pairs.json`` manifest into a folder, so an evaluation can load them without this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ghostlive.errors import InvalidInputError
from ghostlive.faces import asset_path
from ghostlive.media.paths import atomic_write_bytes
from ghostlive.media.video import VideoItem, VideoSource
from ghostlive.types import Frame

MEGAMIND_FRAMES = {"megamind_front": 8, "megamind_closed_eyes": 31, "megamind_turned": 62}
"""Frames of ``megamind_3s.mp4``: eyes open and facing the camera; both eyes shut (a blink); head turned."""


@dataclass(frozen=True)
class Pair:
    """One swap to judge: ``source``'s identity onto ``target``; ``kinds`` says what the target tests."""

    name: str
    source: str
    target: str
    kinds: tuple[str, ...] = ()


PAIRS: tuple[Pair, ...] = (
    Pair("grace-astronaut", "grace", "astronaut", ("portrait",)),
    Pair("astronaut-grace", "astronaut", "grace", ("portrait",)),
    Pair("astronaut-messi", "astronaut", "messi", ("small face",)),
    Pair("grace-messi", "grace", "messi", ("small face",)),
    Pair("grace-cameraman", "grace", "cameraman", ("grey", "turned")),
    Pair("astronaut-cameraman", "astronaut", "cameraman", ("grey", "turned")),
    Pair("astronaut-grace_grey_rgb", "astronaut", "grace_grey_rgb", ("grey",)),
    Pair("grace-painting", "grace", "astronaut_painting", ("painting",)),
    Pair("painting-grace", "astronaut_painting", "grace", ("painting source",)),
    Pair("astronaut-megamind_closed", "astronaut", "megamind_closed_eyes", ("closed eyes",)),
    Pair("grace-megamind_closed", "grace", "megamind_closed_eyes", ("closed eyes",)),
    Pair("astronaut-megamind_turned", "astronaut", "megamind_turned", ("turned",)),
    Pair("grace-megamind_turned_mirror", "grace", "megamind_turned_mirror", ("turned",)),
    Pair("megamind_turned-astronaut", "megamind_turned", "astronaut", ("turned source",)),
    Pair("megamind_turned_mirror-cameraman", "megamind_turned_mirror", "cameraman", ("turned source", "grey")),
    Pair("megamind_front-grace", "megamind_front", "grace", ("portrait",)),
    Pair("cameraman-astronaut", "cameraman", "astronaut", ("grey source",)),
)


def video_frames(path: Path, indices: dict[str, int]) -> dict[str, Frame]:
    """The decoded frames of ``path`` at ``indices`` (name → frame number)."""
    wanted = {i: name for name, i in indices.items()}
    found: dict[str, Frame] = {}
    with VideoSource(path) as src:
        items = (item for item in src.items() if isinstance(item, VideoItem))
        for i, item in enumerate(items):
            if i in wanted:
                found[wanted[i]] = item.image
            if len(found) == len(wanted):
                break
    if len(found) != len(wanted):
        raise InvalidInputError(f"has fewer than {max(indices.values()) + 1} frames", str(path))
    return found


def portraits(data_dir: Path) -> dict[str, Frame]:
    """Every image the pairs use, by name: the bundled samples, ``data_dir``'s photos and clip, and images
    derived from them (grey stored as RGB, a painting-like stylisation, a mirrored turned head)."""

    def read(path: Path) -> Frame:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InvalidInputError("cannot read this image", str(path))
        return image

    images = {
        "astronaut": read(Path(asset_path("samples/astronaut.png"))),
        "grace": read(Path(asset_path("samples/grace_hopper.jpg"))),
        "messi": read(data_dir / "messi5.jpg"),
        "cameraman": read(data_dir / "cameraman_gray.png"),
    }
    images.update(video_frames(data_dir / "megamind_3s.mp4", MEGAMIND_FRAMES))
    grey = cv2.cvtColor(images["grace"], cv2.COLOR_BGR2GRAY)
    derived: dict[str, Callable[[], Frame]] = {
        "grace_grey_rgb": lambda: cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR),
        "astronaut_painting": lambda: cv2.stylization(images["astronaut"], sigma_s=60, sigma_r=0.45),
        "megamind_turned_mirror": lambda: np.ascontiguousarray(images["megamind_turned"][:, ::-1]),
    }
    images.update({name: make() for name, make in derived.items()})
    return images


def build_pairs(folder: str | Path, data_dir: str | Path) -> list[Pair]:
    """Write every input of :data:`PAIRS` as ``folder/NAME.png`` and the manifest ``folder/pairs.json``
    (``{"pairs": [{name, source, target, kinds}]}``, sources and targets as file names); returns the pairs."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, image in portraits(Path(data_dir)).items():
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise InvalidInputError("cannot encode this image", name)
        atomic_write_bytes(out / f"{name}.png", png.tobytes())
    manifest = [
        {**asdict(p), "source": f"{p.source}.png", "target": f"{p.target}.png", "kinds": list(p.kinds)} for p in PAIRS
    ]
    atomic_write_bytes(out / "pairs.json", json.dumps({"pairs": manifest}, indent=1).encode())
    return list(PAIRS)


def load_pairs(folder: str | Path) -> list[tuple[Pair, Frame, Frame]]:
    """The pairs written by :func:`build_pairs`, with their source and target images."""
    root = Path(folder)
    entries = json.loads((root / "pairs.json").read_text())["pairs"]
    loaded = []
    for e in entries:
        pair = Pair(e["name"], e["source"], e["target"], tuple(e["kinds"]))
        src, tgt = (cv2.imread(str(root / f), cv2.IMREAD_COLOR) for f in (e["source"], e["target"]))
        loaded.append((pair, src, tgt))
    return loaded
