"""The face-restorer wrappers and the enhancer stage: every restorer in the table runs on a stand-in graph
with its real signature and known transfers (identity, inversion, one channel everywhere), so its value
range and colour order are proven exact; the stage puts the restored face back where it belongs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.engines import OrtRunner
from ghostlive.enhance import EnhancedSwapper, EnhanceOptions, build_restorer
from ghostlive.errors import ModelError
from ghostlive.faces import FaceAnalyzer
from ghostlive.hub import ModelStore
from ghostlive.models.registry import RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.pipeline.chain import FrameProcessor, render_face
from ghostlive.swappers.classic import ClassicSwapper
from ghostlive.types import FaceMemory
from tests import restorer_graphs
from tests.conftest import largest, sample

EYE = np.eye(3)
FIRST = np.array([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0]])


def make(name: str, mix: np.ndarray, fidelity: float = 1.0) -> Restorer:
    spec = RESTORERS[name]
    graph = restorer_graphs.restorer(spec.size, mix, weighted=bool(spec.weight))
    return Restorer(OrtRunner(graph), spec, fidelity)


@pytest.mark.parametrize("name", sorted(RESTORERS))
def test_restorer_pre_and_post_processing_are_exact(name: str) -> None:
    size = RESTORERS[name].size
    crop = np.random.default_rng(1).integers(0, 256, (size, size, 3), np.uint8)
    np.testing.assert_allclose(make(name, EYE)(crop), crop, atol=2e-3)  # identity
    # [-1, 1] models: mirrored; GHOST's enhancer ([0, 1]): negative outputs clamp to black, as GHOST clamps
    inverted = 255.0 - crop if RESTORERS[name].value_range == (-1.0, 1.0) else np.zeros(crop.shape)
    np.testing.assert_allclose(make(name, -EYE)(crop), inverted, atol=2e-3)
    # the model's first channel is red: the wrapper feeds RGB and reads RGB back
    np.testing.assert_allclose(make(name, FIRST)(crop), np.repeat(crop[..., 2:3], 3, axis=2), atol=2e-3)


def test_codeformer_fidelity_weight_is_fed() -> None:
    crop = np.random.default_rng(2).integers(0, 256, (512, 512, 3), np.uint8)
    np.testing.assert_allclose(make("codeformer", EYE, fidelity=0.0)(crop), 127.5, atol=2e-3)  # output 0 = mid
    np.testing.assert_allclose(make("codeformer", EYE, fidelity=0.5)(crop), (crop + 127.5) / 2, atol=2e-3)


def test_a_graph_without_the_weight_input_is_refused() -> None:
    with pytest.raises(ModelError, match="weight"):
        Restorer(OrtRunner(restorer_graphs.restorer(512, EYE)), RESTORERS["codeformer"])


@pytest.fixture(scope="module")
def swaps(analyzer: FaceAnalyzer, astronaut, grace):
    face = largest(analyzer.analyze(astronaut))
    plain = ClassicSwapper()
    source = plain.prepare_source(grace, largest(analyzer.analyze(grace)))
    return face, plain, source


def test_stage_with_identity_restorer_changes_little(swaps, astronaut) -> None:
    face, plain, source = swaps
    a = plain.render(astronaut, face, source)
    b = render_face(EnhancedSwapper(plain, make("gfpgan-1.4", EYE), blend=1.0), astronaut, face, source)
    assert b.roi == a.roi and np.array_equal(b.mask, a.mask)
    shown = a.mask > 0.99
    assert np.abs(b.face - a.face)[shown].mean() < 4.0  # resampling there and back only


def test_stage_puts_the_restored_face_in_place(swaps, astronaut) -> None:
    face, plain, source = swaps
    a = plain.render(astronaut, face, source)
    for name in ("gpen-bfr-256", "codeformer"):
        b = render_face(EnhancedSwapper(plain, make(name, -EYE), blend=1.0), astronaut, face, source)
        shown = a.mask > 0.99
        assert np.abs(b.face - (255.0 - a.face))[shown].mean() < 6.0  # inverted exactly where the face is
        half = render_face(EnhancedSwapper(plain, make(name, -EYE), blend=0.5), astronaut, face, source)
        assert np.abs(half.face - 127.5)[shown].mean() < 4.0


def test_missing_restorer_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"ghostlive models import gfpgan_1\.4\.onnx"):
        build_restorer(EnhanceOptions("gfpgan-1.4"), ModelStore(tmp_path))


def test_imported_restorer_is_checked_and_used(tmp_path: Path, analyzer, astronaut, grace) -> None:
    store = ModelStore(tmp_path / "home")
    path = tmp_path / "gpen_bfr_512.onnx"
    path.write_bytes(restorer_graphs.restorer(512, -EYE))
    store.import_file(path)
    restorer = build_restorer(EnhanceOptions("gpen-bfr-512"), store, backend="ort-cpu")
    pipe = FrameProcessor(analyzer, EnhancedSwapper(ClassicSwapper(), restorer, 1.0))
    pipe.set_source(grace)
    assert not np.array_equal(pipe.process(astronaut).frame, astronaut)
    wrong = tmp_path / "wrong.onnx"
    wrong.write_bytes(restorer_graphs.restorer(256, EYE))
    with pytest.raises(ModelError, match=r"not the gfpgan-1\.4 model"):
        store.import_file(wrong, "gfpgan_1.4.onnx")


def test_cli_enhancer_without_its_model(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    src, tgt = sample("grace_hopper.jpg"), sample("astronaut.png")
    out = tmp_path / "out.png"
    args = ["swap", "--source", str(src), "--target", str(tgt), "-o", str(out), "-q", "--enhancer", "codeformer"]
    assert main(args) == 1
    assert "ghostlive models import codeformer.onnx" in capsys.readouterr().err and not out.exists()


class Counting(Restorer):
    """A restorer (on a stand-in graph) that counts its calls."""

    calls = 0

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        type(self).calls += 1
        return super().__call__(crop)


def test_budget_cadence_reuses_the_last_result_on_the_moving_face(swaps, astronaut) -> None:
    face, plain, source = swaps
    spec = RESTORERS["gpen-bfr-256"]
    restorer = Counting(OrtRunner(restorer_graphs.restorer(spec.size, -EYE)), spec)
    Counting.calls = 0
    stage = EnhancedSwapper(plain, restorer, blend=1.0, budget_ms=1e-6)  # any real cost is over budget
    state = FaceMemory()
    render_face(stage, astronaut, face, source, state)
    stage.cost_ms = 3.5e-6  # as if measured: 3.5 × the budget → every 4th frame
    assert stage.cadence == 4
    shifted = np.roll(astronaut, 3, axis=1)  # the face moved 3 px right
    moved = replace(face, landmarks=face.landmarks + np.float32([3, 0]), kps5=None)
    outs = [render_face(stage, shifted, moved, source, state) for _ in range(7)]
    assert Counting.calls == 2  # the first frame, then of the next 7 only the 4th one (count 4)
    reference = plain.render(shifted, moved, source)
    for out in outs:  # every frame, fresh or re-warped, shows the inverted face where it now is
        core = reference.mask > 0.99
        assert np.abs(out.face - (255.0 - reference.face))[core].mean() < 8.0
    # without a budget (photos, video files) the restorer runs on every frame
    Counting.calls = 0
    every = EnhancedSwapper(plain, restorer, blend=1.0)
    for _ in range(3):
        render_face(every, astronaut, face, source, state)
    assert Counting.calls == 3


def test_stage_times_are_split_out_of_the_swap(analyzer, astronaut, grace) -> None:
    from ghostlive.masking.combine import with_masks
    from ghostlive.masking.mesh import RegionMask

    swapper = with_masks(EnhancedSwapper(ClassicSwapper(), make("gfpgan-1.4", EYE), 1.0), [RegionMask("mouth")])
    pipe = FrameProcessor(analyzer, swapper)
    pipe.set_source(grace)
    times = pipe.process(astronaut).times.ms
    assert times["enhance"] > 0 and times["mask"] > 0 and times["swap"] >= 0
    assert swapper.spent_ms == {} and swapper.inner.spent_ms == {}  # claimed by the pipeline, counters reset


def test_live_default_budget_is_half_a_frame_period() -> None:
    from ghostlive.enhance import set_live_budget
    from ghostlive.masking.combine import MaskedSwapper

    auto = EnhancedSwapper(ClassicSwapper(), make("gfpgan-1.4", EYE))
    set_live_budget(MaskedSwapper(auto, []), 25.0)
    assert auto.budget_ms == pytest.approx(20.0)
    every = EnhancedSwapper(ClassicSwapper(), make("gfpgan-1.4", EYE), budget_ms=0.0)  # --enhance-budget 0
    set_live_budget(every, 25.0)
    every.cost_ms = 500.0
    assert every.budget_ms == 0.0 and every.cadence == 1


def test_live_status_shows_the_enhancer_cost(tmp_path: Path, capsys, monkeypatch) -> None:
    from tests.media_tools import CLIP

    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    model = tmp_path / "gfpgan_1.4.onnx"
    model.write_bytes(restorer_graphs.restorer(512, EYE))  # stand-in graph with the real signature
    assert main(["models", "import", str(model)]) == 0
    args = ["live", "--source", str(sample("grace_hopper.jpg")), "--camera", str(CLIP), "--duration", "3"]
    assert main([*args, "--enhancer", "gfpgan-1.4", "--mask", "mouth"]) == 0
    err = capsys.readouterr().err
    assert " | enhance " in err and " | mask " in err, err[-500:]
