"""The one frame processor: swappers give crops, the chain places, enhances, masks and pastes them in one
fixed order; photos and streams share selection; per-track memory is typed."""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np

from ghostlive.engines.ort import OrtRunner
from ghostlive.enhance import EnhancedSwapper
from ghostlive.masking.combine import MaskedSwapper
from ghostlive.masking.mesh import RegionMask, region_cover
from ghostlive.models.registry import RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.ops.align import invert_affine, norm_crop
from ghostlive.ops.blend import SwapCrop, place
from ghostlive.pipeline.chain import FrameProcessor, Pair
from ghostlive.swappers.base import CropSwapper
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.types import Face, FaceMemory

from . import restorer_graphs
from .conftest import DATA, largest


class MirrorSwapper(CropSwapper):
    """A swapper written as the README's "Adding a swapper" shows: the target's own 112 px ArcFace crop,
    mirrored left to right, with no mask of its own."""

    name = "mirror"

    def prepare_source(self, image, face: Face) -> None:
        return None

    def swap(self, frame, target: Face, source, memory: FaceMemory | None = None) -> SwapCrop:
        crop, m = norm_crop(frame, target.keypoints5, 112, "arcface")
        return SwapCrop(crop[:, ::-1], invert_affine(m))


def inverting_restorer() -> Restorer:
    spec = RESTORERS["gpen-bfr-256"]
    return Restorer(OrtRunner(restorer_graphs.restorer(spec.size, -np.eye(3))), spec)


def test_a_swapper_with_only_swap_gets_placed_masked_and_pasted(analyzer, astronaut) -> None:
    face = largest(analyzer.analyze(astronaut))
    proc = FrameProcessor(analyzer, MaskedSwapper(MirrorSwapper(), [RegionMask("mouth")]))
    proc.set_pairs([Pair(None)])
    out = proc.process(astronaut).frame
    paste = MirrorSwapper().render(astronaut, face, None)
    x0, y0, x1, y1 = paste.roi
    outside = np.ones(astronaut.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], astronaut[outside])  # nothing pasted outside the crop's region
    changed = np.abs(out.astype(int) - astronaut).max(2) > 20
    assert changed[y0:y1, x0:x1].mean() > 0.3  # the mirrored face is pasted
    mouth = region_cover(face, "mouth", paste.roi, 0.0) > 0.5
    assert mouth.sum() > 50 and not changed[y0:y1, x0:x1][mouth].any()  # the mouth mask keeps the target's mouth


def test_stage_order_is_the_chains_whatever_the_nesting(analyzer, astronaut, grace) -> None:
    restorer = inverting_restorer()
    masks = [RegionMask("mouth"), RegionMask("eyes")]
    outs = []
    for swapper in (
        MaskedSwapper(EnhancedSwapper(ClassicSwapper(), restorer, 0.7), masks),
        EnhancedSwapper(MaskedSwapper(ClassicSwapper(), masks), restorer, 0.7),
        ClassicSwapper(),
    ):
        proc = FrameProcessor(analyzer, swapper)
        proc.set_source(grace)
        result = proc.process(astronaut)
        outs.append(result.frame)
        assert result.times.ms["swap"] > 0
    assert np.array_equal(outs[0], outs[1])  # enhance, then masks: the declared nesting does not matter
    assert np.abs(outs[0].astype(int) - outs[2]).max() > 100  # and both stages did something


def test_a_frame_space_crop_is_pasted_as_it_is(astronaut) -> None:
    image = np.random.default_rng(0).uniform(0, 255, (40, 30, 3)).astype(np.float32)
    mask = np.full((40, 30), 0.7, np.float32)
    paste = place(astronaut, SwapCrop.region((10, 20, 40, 60), image, mask))
    assert paste.roi == (10, 20, 40, 60) and paste.face is image and paste.mask is mask
    shifted = np.array([[1.0, 0.0, 10.5], [0.0, 1.0, 20.0]])  # half a pixel: resampled into a region
    moved = place(astronaut, SwapCrop(image, shifted))
    assert moved.roi[0] == 9 and moved.mask.max() <= 1.0 and moved.mask.min() == 0.0  # zero border, clipped


def test_photo_and_first_stream_frame_choose_the_same_first_face(analyzer, group) -> None:
    from ghostlive.selection import TargetSelection

    image, _ = group
    chosen = []
    for t in (None, 0.0):
        proc = FrameProcessor(analyzer, ClassicSwapper(), TargetSelection("first"))
        proc.set_source(image)
        chosen.append(proc.process(image, t).swapped)
    assert len(chosen[0]) == len(chosen[1]) == 1
    centres = [faces[0].landmarks.mean(0) for faces in chosen]
    assert np.abs(centres[0] - centres[1]).max() < 2.0  # the same face (of three), found by either path


def test_new_pairs_forget_identities_but_keep_the_rest(analyzer, astronaut) -> None:
    proc = FrameProcessor(analyzer, ClassicSwapper())
    proc.set_source(astronaut)
    proc.process(astronaut, 0.0)
    (track,) = proc.tracker.tracks
    track.memory.pair, track.memory.sims, track.memory.ghost_mask = 0, np.ones(1, np.float32), "frozen"
    proc.set_pairs(proc.pairs)
    assert track.memory.pair is None and track.memory.sims is None and track.memory.ghost_mask == "frozen"


def test_types_import_no_model() -> None:
    code = "import sys, ghostlive.types; print(sorted(m for m in sys.modules if m.startswith('ghostlive.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['ghostlive.types']"


def test_a_stream_frame_located_then_rendered_is_the_frame_process_gives(analyzer, astronaut, grace) -> None:
    """The live loop tracks a frame in one thread and swaps it in another: ``render(locate(f, t))`` gives the
    pixels ``process(f, t)`` gives, frame after frame of a real clip, and a source changed between the two
    halves reaches the next frame, not the one already located."""
    with av.open(str(DATA / "megamind_3s.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for _, f in zip(range(9), c.decode(video=0), strict=False)][1:]
    whole, split = FrameProcessor(analyzer, ClassicSwapper()), FrameProcessor(analyzer, ClassicSwapper())
    for proc in (whole, split):
        proc.set_source(grace)
    assert split.splits  # frames on the host
    for i, frame in enumerate(frames[:6]):
        expected, got = whole.process(frame, i / 24), split.render(split.locate(frame, i / 24))
        assert len(got.swapped) == 1 and np.array_equal(got.frame, expected.frame)
        assert {"track", "swap", "blend"} <= {k for k, v in got.times.ms.items() if v > 0}
    _, other = split.prepare(astronaut)
    located = split.locate(frames[6], 6 / 24)
    split.set_pairs([Pair(other)])
    assert np.array_equal(split.render(located).frame, whole.process(frames[6], 6 / 24).frame)
    changed = split.process(frames[7], 7 / 24).frame.astype(int) - whole.process(frames[7], 7 / 24).frame
    assert np.abs(changed).max() > 50  # the new source from the next frame on


def test_the_readmes_registration_makes_a_swapper_the_command_line_runs(tmp_path, monkeypatch) -> None:
    """The one line of the README's "Adding a swapper", as written there, then ``ghostlive swap --swapper mirror``."""
    import re
    from pathlib import Path

    import cv2

    from ghostlive.cli import main
    from ghostlive.swappers.factory import SWAPPER_REGISTRY

    from .conftest import sample

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    line = re.search(r"`(SWAPPER_REGISTRY\.register\(\"mirror\",[^`]*)`", readme)
    assert line is not None
    monkeypatch.setattr(SWAPPER_REGISTRY, "_entries", dict(SWAPPER_REGISTRY._entries))  # undone after the test
    eval(" ".join(line.group(1).split()), {"SWAPPER_REGISTRY": SWAPPER_REGISTRY, "MirrorSwapper": MirrorSwapper})
    out = tmp_path / "out.png"
    target = sample("astronaut.png")
    argv = ["swap", "--source", str(sample("grace_hopper.jpg")), "--target", str(target), "--swapper", "mirror"]
    assert main([*argv, "-o", str(out)]) == 0
    assert np.abs(cv2.imread(str(out)).astype(int) - cv2.imread(str(target))).max() > 50  # the mirrored face
