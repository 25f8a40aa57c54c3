"""The GHOST swapper end to end: checkpoints exported to ONNX into a model folder, run by ONNX Runtime.

The networks carry the deterministic fill of the golden references (the released weights cannot be fetched
here), so the faces they produce are not meaningful; what is checked is the pipeline around them: GHOST's
preprocessing against PyTorch, alignment, paste-back, masks, the model folder and the CLI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ghostlive.cli import main  # noqa: E402
from ghostlive.export.aei_net import AEINet  # noqa: E402
from ghostlive.export.iresnet import iresnet100  # noqa: E402
from ghostlive.export.onnx import export_arcface, export_generator  # noqa: E402
from ghostlive.faces import FaceAnalyzer  # noqa: E402
from ghostlive.hub import ModelStore  # noqa: E402
from ghostlive.models.ghost import GhostArcFace, GhostGenerator  # noqa: E402
from ghostlive.ops.align import norm_crop  # noqa: E402
from ghostlive.ops.mask import ghost_mask, ghost_mask_params  # noqa: E402
from ghostlive.pipeline import FrameProcessor  # noqa: E402
from ghostlive.swappers.factory import build_swapper  # noqa: E402

from .golden import fill  # noqa: E402


@pytest.fixture(scope="module")
def nets() -> tuple[AEINet, torch.nn.Module]:
    return fill(AEINet(1)), fill(iresnet100())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, nets) -> Path:
    root = tmp_path_factory.mktemp("ghosthome")
    store = ModelStore(root)
    store.staging.mkdir(exist_ok=True)
    gen, arc = nets
    store.add_file(export_generator(gen, store.staging / "g.onnx", name="ghost-1"), "ghost-1.onnx", "test")
    store.add_file(export_arcface(arc, store.staging / "a.onnx"), "ghost-arcface.onnx", "test")
    return root


def test_wrappers_match_pytorch(home: Path, nets, grace: np.ndarray, analyzer: FaceAnalyzer) -> None:
    import torch.nn.functional as F  # noqa: N812

    store = ModelStore(home)
    gen_t, arc_t = nets
    swapper = build_swapper("ghost-1", store)
    crop, _ = norm_crop(grace, analyzer.analyze(grace)[0].keypoints5, 224, "ghost")
    x = torch.from_numpy(crop[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0
    x = (x - 0.5) / 0.5
    with torch.no_grad():
        emb_t = arc_t(F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)).numpy()[0]
        y = gen_t(
            F.interpolate(x, size=(256, 256), mode="bilinear", align_corners=False), torch.from_numpy(emb_t)[None]
        ).numpy()
    assert isinstance(swapper.arcface, GhostArcFace) and isinstance(swapper.generator, GhostGenerator)
    emb = swapper.arcface.embed_one(crop)
    assert np.linalg.norm(emb - emb_t) / np.linalg.norm(emb_t) < 1e-3
    out = swapper.generator.swap(crop[None], emb)[0]
    expected = np.clip((y[0].transpose(1, 2, 0)[..., ::-1] * 0.5 + 0.5) * 255, 0, 255)
    import cv2

    expected = cv2.resize(expected.astype(np.float32), (224, 224), interpolation=cv2.INTER_LINEAR)
    assert np.abs(out - expected).mean() < 1.0


def test_ghost_swap_changes_only_the_masked_face(home: Path, grace, astronaut, analyzer: FaceAnalyzer) -> None:
    swapper = build_swapper("ghost-1", ModelStore(home))
    pipe = FrameProcessor(analyzer, swapper)
    pipe.set_source(grace)
    result = pipe.process(astronaut)
    item = swapper.render(astronaut, analyzer.analyze(astronaut)[0], pipe.source)
    full = np.zeros(astronaut.shape[:2], np.float32)
    x0, y0, x1, y1 = item.roi
    full[y0:y1, x0:x1] = item.mask
    assert np.array_equal(result.frame[full == 0], astronaut[full == 0])
    inside = full > 0.9
    assert inside.sum() > 2000
    assert np.abs(result.frame[inside].astype(int) - astronaut[inside].astype(int)).mean() > 5


def test_cli_swap_with_ghost(home: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    from .conftest import sample

    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    out = tmp_path / "out.png"
    code = main(
        [
            "swap",
            "--swapper",
            "ghost-1",
            "--source",
            str(sample("grace_hopper.jpg")),
            "--target",
            str(sample("astronaut.png")),
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.exists()
    code = main(
        [
            "swap",
            "--swapper",
            "ghost-2",
            "--source",
            str(sample("grace_hopper.jpg")),
            "--target",
            str(sample("astronaut.png")),
            "-o",
            str(tmp_path / "out2.png"),
        ]
    )
    assert code == 1 and "run: ghostlive models download ghost-2" in capsys.readouterr().err
    assert not (tmp_path / "out2.png").exists()


def test_ghost_mask_parameters_follow_the_jaw_offset() -> None:
    rng = np.random.default_rng(0)
    target = rng.uniform(60, 160, (106, 2))
    same = ghost_mask_params(target, target)
    assert same == (5, (5.0, 5.0), 2.0)
    narrower = target.copy()
    narrower[[1, 2, 13], 0] += 3.0  # swapped jaw 9 px inside the target's on one side
    assert ghost_mask_params(narrower, target) == (15, (15.0, 10.0), 2.7)
    wider = target.copy()
    wider[[1, 2, 13], 0] -= 2.0
    wider[[17, 18, 29], 0] += 2.0
    assert ghost_mask_params(wider, target) == (-5, (5.0, 10.0), 0.5)


def test_ghost_mask_is_a_soft_face_blob() -> None:
    # 106 points spread over a face-sized ellipse in a 224 crop
    t = np.linspace(0, 2 * np.pi, 106, endpoint=False)
    pts = np.stack([112 + 60 * np.cos(t), 120 + 75 * np.sin(t)], axis=1)
    mask = ghost_mask(pts, 224, (5, (5.0, 5.0), 2.0))
    assert mask.shape == (224, 224) and mask.dtype == np.float32
    assert mask[120, 112] > 0.99 and mask[5, 5] == 0.0 and mask.max() <= 1.0
    assert mask[120, 112 + 40] > mask[120, 112 + 62] > mask[120, 112 + 85]  # soft edge around the hull


def test_ghost_device_path_matches_host(home: Path, grace, astronaut, analyzer: FaceAnalyzer) -> None:
    """The GPU code path of the whole GHOST swap (alignment warps, generator pre/post-processing, both masks,
    paste-back), run on numpy through ``portable()`` against the OpenCV host path."""
    from ghostlive.engines.ort import OrtRunner
    from ghostlive.models.landmark106 import Landmark106
    from ghostlive.xp import portable

    from . import onnx_graphs

    angle = np.linspace(0, 2 * np.pi, 106, endpoint=False)
    planted = np.stack([0.5 * np.cos(angle), 0.1 + 0.6 * np.sin(angle)], 1).astype(np.float32)
    for landmarks106 in (None, Landmark106(OrtRunner(onnx_graphs.landmark106(planted)))):

        def swap(lm=landmarks106) -> np.ndarray:
            swapper = build_swapper("ghost-1", ModelStore(home))
            swapper.landmarks106 = lm
            pipe = FrameProcessor(analyzer, swapper)
            pipe.set_source(grace)
            return pipe.process(astronaut).frame

        host = swap()
        with portable():
            dev = swap()
        changed = (host != astronaut).any(2)
        assert changed.mean() > 0.01
        diff = np.abs(host.astype(int) - dev.astype(int))[changed]
        change = np.abs(host.astype(int) - astronaut.astype(int))[changed]
        # the untrained generator paints high-frequency noise (σ ≈ 120 grey levels), so OpenCV's 1/32 px
        # coordinate rounding in warpAffine shows up per pixel; on average the two paths agree within 3 %
        assert diff.mean() < 0.03 * change.mean(), (diff.mean(), change.mean())


def test_bench_times_ghost_on_every_backend_present(home: Path, monkeypatch, capsys) -> None:
    from .test_cli import bench_rows

    monkeypatch.setenv("GHOSTLIVE_HOME", str(home))
    args = ["bench", "--swapper", "ghost-1", "--backend", "all", "--frames", "1", "--sizes", "640x480"]
    assert main([*args, "--generator", "ghost-1", "--batches", "1,2", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    rows = bench_rows(out)
    assert [r[0] for r in rows] == ["onnxruntime:CPU"] and float(rows[0][9]) > 0 and rows[0][2] == "1"
    for backend in ("tensorrt", "ort-cuda", "torch-cuda"):  # absent here: each says why
        assert any(ln.split()[:2] == [backend, "unavailable:"] for ln in out.splitlines()), backend
    generator = [ln.split() for ln in out.split("generator alone")[1].splitlines() if ln.startswith(" ")]
    batches = [r for r in generator if r[0] == "onnxruntime:CPU" and r[1].isdigit()]
    assert [r[1] for r in batches] == ["1", "2"] and all(float(r[3]) > 0 for r in batches)
    opened = [r for r in generator if r[1:3] == ["session", "opened"]]  # the CPU session, opened twice
    assert len(opened) == 1 and "saved" in " ".join(opened[0]) and any(home.rglob("engines/ghost-1.ort-*.onnx"))


def test_ghost_on_a_stand_in_gpu_equals_portable(home: Path, grace, astronaut, analyzer, monkeypatch) -> None:
    """GHOST on device arrays that refuse implicit host/device moves (tests/fake_cupy.py), with the mesh mask
    and with the adaptive 106-point mask: no fallback, and the same frame as the portable numpy run."""
    from ghostlive.engines.ort import OrtRunner
    from ghostlive.models.landmark106 import Landmark106
    from ghostlive.pipeline.frame import FrameDevice
    from ghostlive.xp import portable

    from . import fake_cupy, onnx_graphs

    angle = np.linspace(0, 2 * np.pi, 106, endpoint=False)
    planted = np.stack([0.5 * np.cos(angle), 0.1 + 0.6 * np.sin(angle)], 1).astype(np.float32)
    lm106 = Landmark106(OrtRunner(onnx_graphs.landmark106(planted)))

    def swap(lm, device: str) -> np.ndarray:
        swapper = build_swapper("ghost-1", ModelStore(home))
        swapper.landmarks106 = lm
        dev = FrameDevice(device)
        with portable():
            pipe = FrameProcessor(analyzer, swapper, device=dev)
            pipe.set_source(grace)
            out = pipe.process(astronaut).frame
        assert dev.fell_back is None and type(out) is np.ndarray
        return out

    want = [swap(lm, "cpu") for lm in (None, lm106)]
    fake_cupy.install(monkeypatch)
    got = [swap(lm, "cuda") for lm in (None, lm106)]
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_faces_of_a_frame_are_swapped_in_one_batched_run(home: Path, group, grace, analyzer, monkeypatch) -> None:
    """Several faces: the generator runs once with all crops, and the frame equals the one-face-at-a-time swap."""
    canvas, _ = group
    swapper = build_swapper("ghost-1", ModelStore(home))
    pipe = FrameProcessor(analyzer, swapper)
    pipe.set_source(grace)
    batches: list[int] = []
    real = swapper.generator.swap
    monkeypatch.setattr(swapper.generator, "swap", lambda crops, ids: batches.append(len(crops)) or real(crops, ids))
    batched = pipe.process(canvas)
    assert len(batched.swapped) >= 2 and batches == [len(batched.swapped)]
    monkeypatch.setattr(swapper, "swap_many", None)  # no batching: the chain swaps one face at a time
    batches.clear()
    single = pipe.process(canvas)
    assert batches == [1] * len(batched.swapped)
    diff = np.abs(batched.frame.astype(int) - single.frame.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
