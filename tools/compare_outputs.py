"""Render the test media through the photo, video and live-file-camera paths, and compare two such renders.

Used to prove a refactor changed no output: render once with the old code and once with the new, then compare.

    git worktree add /tmp/base 85d88e7
    PYTHONPATH=/tmp/base .venv/bin/python tools/compare_outputs.py render /tmp/out-base
    .venv/bin/python tools/compare_outputs.py render /tmp/out-new
    .venv/bin/python tools/compare_outputs.py compare /tmp/out-base /tmp/out-new

``render OUT cuda`` runs the frames on the GPU (``--device cuda``) instead of the CPU.

Cases: the classic swapper and stand-ins of GHOST (with its 106-point adaptive mask) and inswapper (ONNX graphs
with the real models' signatures, from ``tests/onnx_graphs.py``: their weights cannot be fetched here), with the
model-free masks (mouth, lips, eyes, box), stand-in occlusion and parser masks, ``--show-mask`` and a stand-in
restorer as the enhancer; face selection all/largest/index/first/reference and two pairs at once; photos from
``ghostlive/assets/samples`` and ``tests/data`` plus a two-person picture made from the samples; a video file
(``swap``'s video job, decoded back) and the live path reading a video file as a camera (frame times at the
file's rate, so the run is repeatable; the live loop's threads and frame dropping are not part of it).
Only APIs present before and after the one-processor refactor are used.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "ghostlive" / "assets" / "samples"
DATA = ROOT / "tests" / "data"
CLIP = DATA / "megamind_3s.mp4"
LIVE_FRAMES = 30
sys.path.append(str(ROOT))  # the stand-in graphs of tests/ (after PYTHONPATH, which may name an older tree)


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a command-line tool reports on stdout


def _stand_ins(home: Path) -> dict:
    """Stand-in swappers, and stand-in mask and restorer models imported into the store at ``home``."""
    from ghostlive.hub import ModelStore
    from tests import mask_graphs, restorer_graphs
    from tests.stand_in_swappers import ghost_stand_in, inswapper_stand_in

    store = ModelStore(home)
    for name, graph in (
        ("xseg_1.onnx", mask_graphs.occluder((2.0, -3.0, 1.0), 1.0)),
        ("bisenet_resnet_34.onnx", mask_graphs.parser({1: 0, 10: 1, 17: 2})),
        ("gpen_bfr_256.onnx", restorer_graphs.restorer(256, -np.eye(3, dtype=np.float32))),
    ):
        path = home / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(graph)
        store.import_file(path)
    return {"ghost-2": ghost_stand_in, "inswapper": inswapper_stand_in}


def _two_people(out: Path) -> Path:
    """Astronaut and Grace Hopper side by side (two faces in one picture)."""
    a = cv2.imread(str(SAMPLES / "astronaut.png"))
    g = cv2.imread(str(SAMPLES / "grace_hopper.jpg"))
    g = cv2.resize(g, (round(g.shape[1] * a.shape[0] / g.shape[0]), a.shape[0]), interpolation=cv2.INTER_AREA)
    path = out / "two_people.png"
    cv2.imwrite(str(path), np.hstack([a, g]))
    return path


def _cases(two: Path) -> list[tuple[str, dict, list[tuple[str, str | None]], list[Path]]]:
    """(name, settings changes, pairs, photo targets)."""
    from ghostlive.enhance import EnhanceOptions
    from ghostlive.masking.options import MaskOptions
    from ghostlive.swappers.classic import ClassicOptions

    astro, grace = str(SAMPLES / "astronaut.png"), str(SAMPLES / "grace_hopper.jpg")
    photos = [SAMPLES / "astronaut.png", SAMPLES / "grace_hopper.jpg", DATA / "messi5.jpg", DATA / "cameraman_gray.png"]
    enh = EnhanceOptions("gpen-bfr-256", 0.7)
    ghost_masked = {"swapper": "ghost-2", "masks": MaskOptions(("lips",)), "enhance": enh}
    insw_masked = {"swapper": "inswapper", "masks": MaskOptions(("occlusion",)), "enhance": enh}
    classic_masked = {"masks": MaskOptions(("mouth", "eyes", "box")), "enhance": enh}
    return [
        ("classic", {}, [(grace, None)], [*photos, two]),
        ("classic-keep-none-mean", {"classic": ClassicOptions(keep=(), color="mean")}, [(grace, None)], photos[:2]),
        ("classic-masks-enh", classic_masked, [(grace, None)], photos[:2]),
        ("classic-models-show", {"masks": MaskOptions(("occlusion", "parser"), show=True)}, [(grace, None)], [two]),
        ("ghost", {"swapper": "ghost-2"}, [(grace, None)], [*photos[:3], two]),
        ("ghost-lips-enh", ghost_masked, [(grace, None)], [two]),
        ("inswapper", {"swapper": "inswapper"}, [(grace, None)], [*photos[:3], two]),
        ("inswapper-enh-occ", insw_masked, [(astro, None)], [two]),
        ("largest", {"faces": "largest"}, [(grace, None)], [two]),
        ("index1", {"faces": "index", "face_index": 1}, [(astro, None)], [two]),
        ("first", {"faces": "first"}, [(grace, None)], [two]),
        ("reference", {}, [(grace, astro)], [two]),
        ("two-pairs", {}, [(grace, astro), (astro, grace)], [two]),
    ]


DEVICE = "cpu"
"""Where frames are swapped (``render OUT cuda``: the GPU frame path)."""


def _job(settings_changes: dict, pairs: list[tuple[str, str | None]], makers: dict):
    from ghostlive.jobs import Job, PairSpec, SwapSettings

    settings = replace(SwapSettings(device=DEVICE), **settings_changes)
    swapper = makers[settings.swapper]() if settings.swapper in makers else None
    return Job(settings, [PairSpec(s, r) for s, r in pairs], swapper=swapper)


def _decode(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as box:
        return np.stack([f.to_ndarray(format="bgr24") for f in box.decode(video=0)])


def _live(job) -> np.ndarray:
    """The live path on a video file as the camera: frame after frame through the job's stream swapper."""
    from ghostlive.media.sources import FileCamera

    cam = FileCamera(CLIP, loop=False, pace=False)
    stream = job.stream()
    out = []
    for i in range(LIVE_FRAMES):
        frame = cam.read()
        if frame is None:
            break
        out.append(stream.process(frame, i / 25.0).frame)
    cam.close()
    return np.stack(out)


def render(out: Path) -> None:
    from ghostlive.jobs import run_video
    from ghostlive.media.image import read_image

    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="compare-home-"))
    os.environ["GHOSTLIVE_HOME"] = str(home)
    makers = _stand_ins(home)
    two = _two_people(out)
    for name, changes, pairs, targets in _cases(two):
        job = _job(changes, pairs, makers)
        for target in targets:
            result = job.swap_image(read_image(target))
            cv2.imwrite(str(out / f"photo-{name}-{target.stem}.png"), result.frame)
            say(f"photo {name} {target.name}: {len(result.swapped)} of {len(result.faces)} face(s) swapped")
    for name, changes, pairs in (
        ("classic", {}, [(str(SAMPLES / "grace_hopper.jpg"), None)]),
        ("ghost-masks-enh", _cases(two)[5][1], [(str(SAMPLES / "grace_hopper.jpg"), None)]),
        ("inswapper-first", {"swapper": "inswapper", "faces": "first"}, [(str(SAMPLES / "astronaut.png"), None)]),
    ):
        job = _job(changes, pairs, makers)
        video = out / f"video-{name}.mp4"
        run_video(job, str(CLIP), video)
        np.save(out / f"video-{name}.npy", _decode(video))
        video.unlink()
        np.save(out / f"live-{name}.npy", _live(_job(changes, pairs, makers)))
        say(f"video and live {name}: done")


def _load(path: Path) -> np.ndarray:
    return np.load(path) if path.suffix == ".npy" else cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    worst = 0
    say(f"{'output':54} {'max':>4} {'mean':>9} {'differing':>10}")
    for name in names:
        if not (a / name).exists() or not (b / name).exists():
            say(f"{name:54} missing in {'first' if not (a / name).exists() else 'second'} render")
            worst = 255
            continue
        x, y = _load(a / name).astype(np.int16), _load(b / name).astype(np.int16)
        if x.shape != y.shape:
            say(f"{name:54} shapes differ: {x.shape} vs {y.shape}")
            worst = 255
            continue
        d = np.abs(x - y)
        worst = max(worst, int(d.max()))
        say(f"{name:54} {int(d.max()):4d} {float(d.mean()):9.6f} {int((d > 0).sum()):10d}")
    say(f"largest difference over all outputs: {worst}")
    return 0 if worst == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "render":
        DEVICE = sys.argv[3] if len(sys.argv) == 4 else "cpu"
        render(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
