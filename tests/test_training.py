"""ghostlive.training, the parts without a training loop: dataset preparation, the recipe, the losses, the
eye models (torch conversions vs ONNX Runtime, gradients only around the eyes), FAN and checkpoint layouts."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("onnx2torch") is None:  # imported by ghostlive without torchvision (see eyes.py)
    pytest.skip("onnx2torch is not installed (the train extra)", allow_module_level=True)

from ghostlive.errors import ConfigError  # noqa: E402
from ghostlive.training import losses as L  # noqa: E402, N812
from ghostlive.training.config import load_recipe  # noqa: E402
from ghostlive.training.data import PairDataset, StepSampler  # noqa: E402
from ghostlive.training.prepare import PrepareOptions, Preparer  # noqa: E402
from tests.conftest import DATA, sample  # noqa: E402
from tests.golden import manifests  # noqa: E402
from tests.training_tools import batch_of, prepare  # noqa: E402


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("train") / "data")


@pytest.fixture(scope="module")
def eyes():
    from ghostlive.training.eyes import MeshEyeLoss

    return MeshEyeLoss()


def crops(dataset: Path, n: int = 3) -> tuple[torch.Tensor, list[str]]:
    """The two photographs (astronaut, grace_hopper) and a video frame, as the dataset serves them."""
    data = PairDataset(dataset, jitter=(0, 0, 0, 0))
    picks = [0, 1, len(data.images) - 1][:n]
    x = torch.stack([data[(i, 0)]["xs"] for i in picks])
    return x, [data.images[i] for i in picks]


def test_prepare_writes_aligned_crops_per_identity_and_resumes(dataset: Path, tmp_path: Path) -> None:
    manifest = json.loads((dataset / "manifest.json").read_text())
    idents = {k.split("/")[0] for k in manifest["images"]}
    assert idents == {"astronaut", "grace_hopper", "megamind_3s"}
    assert sum(k.startswith("megamind_3s/") for k in manifest["images"]) >= 3  # tracked video frames
    first = next(iter(manifest["images"].values()))
    eyes = np.array(first["eyes"])  # eye corners land where GHOST's template puts the eyes in a 256 crop
    assert eyes.shape == (4, 2) and np.all(np.abs(eyes[:, 1] - 117) < 25) and eyes[0, 0] < 128 < eyes[3, 0]
    again = Preparer(dataset).run([str(sample("astronaut.png")), str(sample("grace_hopper.jpg"))])
    assert again.sources_skipped == 2 and again.counts.kept == 0  # resumed: nothing redone
    copy = tmp_path / "again.png"
    shutil.copy(sample("astronaut.png"), copy)
    small = Preparer(tmp_path / "d", PrepareOptions(min_size=4000)).run([str(sample("grace_hopper.jpg"))])
    assert small.counts.too_small == 1 and small.counts.kept == 0
    dup = Preparer(tmp_path / "e").run([f"p={sample('astronaut.png')}", f"p={copy}"])
    assert dup.counts.kept == 1 and dup.counts.duplicate == 1


def test_default_recipe_is_ghosts_and_toml_overrides_it(tmp_path: Path) -> None:
    r = load_recipe()
    assert (r.batch_size, r.same_person, r.jitter, r.model) == (16, 0.2, (0.2, 0.2, 0.2, 0.01), "ghost-2")
    assert (r.optimizer.lr_g, r.optimizer.lr_d, r.optimizer.betas, r.optimizer.weight_decay) == (
        4e-4, 4e-4, (0.0, 0.999), 1e-4)
    base, eyes = r.stages
    assert base.weights == {"adv": 1, "attr": 10, "id": 20, "rec": 10, "eyes": 0} and base.scheduler == "none"
    assert eyes.weights["eyes"] == 800 and (eyes.scheduler, eyes.step_size, eyes.gamma) == ("step", 5000, 0.2)
    cfg = tmp_path / "c.toml"
    cfg.write_text('batch_size = 4\n[optimizer]\nlr_g = 1e-5\n[[stages]]\nname = "x"\nsteps = 7\n')
    r = load_recipe(cfg, model="ghost-3")
    assert (r.batch_size, r.optimizer.lr_g, r.optimizer.lr_d, r.num_blocks, r.total_steps) == (4, 1e-5, 4e-4, 3, 7)
    cfg.write_text("batch_sise = 4\n")
    with pytest.raises(ConfigError, match="batch_sise"):
        load_recipe(cfg)


def test_reconstruction_only_on_same_person_pairs(dataset: Path) -> None:
    same = PairDataset(dataset, same_person=1.0)
    diff = PairDataset(dataset, same_person=0.0)
    key = (same.images.index(next(k for k in same.images if k.startswith("megamind"))), 7)
    a, b = same[key], diff[key]
    assert a["same"] == 1 and b["same"] == 0
    y = torch.zeros(1, 3, 256, 256)
    assert L.reconstruction_loss(y, a["xt"][None], a["same"][None]) > 0.01
    assert L.reconstruction_loss(y, b["xt"][None], b["same"][None]) == 0
    both = L.reconstruction_loss(y.repeat(2, 1, 1, 1), torch.stack([a["xt"], b["xt"]]), torch.tensor([1.0, 0.0]))
    assert torch.isclose(both, L.reconstruction_loss(y, a["xt"][None], a["same"][None]), rtol=1e-4)


def test_sampler_splits_a_global_batch_across_processes() -> None:
    one = StepSampler(10, 4, seed=3).keys(5)
    halves = StepSampler(10, 2, seed=3, rank=0, world=2).keys(5) + StepSampler(10, 2, seed=3, rank=1, world=2).keys(5)
    assert one == halves and StepSampler(10, 4, seed=3, start_step=5).keys(5) == one


def test_losses_on_real_faces_are_finite_and_zero_at_identity(dataset: Path) -> None:
    x, _ = crops(dataset)
    d = [torch.full((3, 1, 4, 4), 2.0), torch.full((3, 1, 2, 2), -2.0)]
    assert L.adversarial_loss(d) == 3.0  # relu(1-2)=0 on the first scale, relu(1+2)=3 on the second
    assert L.discriminator_loss(d, d) == 0.5 * (3.0 + 3.0)
    e = torch.randn(3, 512)
    assert L.identity_loss(e, e) < 1e-6 and L.identity_loss(e, -e) > 1.99
    z = [x, x[:, :1]]
    assert L.attribute_loss(z, z) == 0 and torch.isfinite(L.attribute_loss(z, [t * 0 for t in z]))


def test_eye_models_in_torch_match_onnxruntime(dataset: Path, eyes) -> None:
    from ghostlive.engines.ort import open_onnx
    from ghostlive.faces import asset_path
    from ghostlive.training.eyes import batched_graph, sample_rois

    x, _ = crops(dataset)
    x01 = x * 0.5 + 0.5
    corners = eyes.locate(x01)
    for module, asset, rois, size in (
        (eyes.iris, "iris_landmark.onnx", eyes.eye_rois(corners)[0], 64),
        (eyes.mesh, "facemesh_468.onnx", np.repeat(np.array([[[1.33, 0, 0], [0, 1.33, 0]]]), 3, 0), 192),
    ):
        inp = sample_rois(x01, rois, size)
        with torch.no_grad():
            ours = [t.reshape(3, -1).numpy() for t in module(inp)]
        runner = open_onnx(asset_path(asset))
        name = runner.info.inputs[0].name
        ref = [np.concatenate([runner.run({name: inp[i : i + 1].numpy()})[o.name].reshape(1, -1)
                               for i in range(3)]) for o in runner.info.outputs]
        for a, b in zip(sorted(ours, key=np.size), sorted(ref, key=np.size), strict=True):
            assert np.abs(a - b).max() < 2e-3  # crop pixels / logits
        assert batched_graph(asset_path(asset)) is not None


def test_mesh_finds_the_eye_corners_prepare_recorded(dataset: Path, eyes) -> None:
    x, names = crops(dataset, 2)  # the two real photographs
    manifest = json.loads((dataset / "manifest.json").read_text())["images"]
    found = eyes.locate(x * 0.5 + 0.5)
    assert np.abs(found - np.array([manifest[n]["eyes"] for n in names])).max() < 6


def test_eye_loss_gradients_only_around_the_eyes(dataset: Path, eyes) -> None:
    xt, _ = crops(dataset, 2)
    y = (xt.flip(0) + 0.0).requires_grad_(True)  # each output is the other person's face
    loss = eyes(xt, y)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    grad = y.grad.abs().sum(1)
    windows = np.zeros((2, 256, 256), bool)
    for rois in eyes.eye_rois(eyes.locate(xt * 0.5 + 0.5)):
        for n, m in enumerate(rois):
            corners = np.array([[0, 0, 1], [64, 0, 1], [0, 64, 1], [64, 64, 1]]) @ m.T
            (x0, y0), (x1, y1) = np.floor(corners.min(0)) - 1, np.ceil(corners.max(0)) + 1
            windows[n, int(max(y0, 0)) : int(y1), int(max(x0, 0)) : int(x1)] = True
    assert float(grad[torch.from_numpy(~windows)].abs().max()) == 0.0
    assert float(grad[torch.from_numpy(windows)].abs().sum()) > 0
    assert windows.mean() < 0.25  # the windows are a small part of the face


def test_fan_definition_has_the_wflw_4hg_layout_and_loads_safely(tmp_path: Path) -> None:
    from ghostlive.export.checkpoint import read_state_dict
    from ghostlive.export.fan import FAN, check_layout, load_fan

    with torch.device("meta"):
        fan = FAN()
    sd = fan.state_dict()
    check_layout(fan)
    assert {k.split(".")[0] for k in sd} == {"conv1", "bn1", "conv2", "conv3", "conv4"} | {
        f"{p}{i}" for i in range(4) for p in ("m", "top_m_", "conv_last", "bn_end", "l")} | {
        f"{p}{i}" for i in range(3) for p in ("bl", "al")}
    assert sd["conv1.conv.weight"].shape == (64, 6, 7, 7) and sd["m0.coordconv.conv.weight"].shape == (256, 259, 1, 1)
    assert {"m0.b2_plus_1.conv1.weight", "m3.b1_4.downsample"} & set(sd) == {"m0.b2_plus_1.conv1.weight"}
    real = FAN()
    wrapped = {"state_dict": {f"module.{k}": v.half() for k, v in real.state_dict().items()}}
    torch.save(wrapped, tmp_path / "WFLW_4HG.pth")
    assert len(read_state_dict(tmp_path / "WFLW_4HG.pth")) == len(sd)
    loaded = load_fan(tmp_path / "WFLW_4HG.pth")
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())


def test_networks_have_the_released_keys_and_shapes() -> None:
    from ghostlive.export.aei_net import AEINet
    from ghostlive.export.discriminator import MultiscaleDiscriminator

    def layout(model):
        return [[k, list(v.shape)] for k, v in model.state_dict().items()]

    with torch.device("meta"):
        for n, name in ((1, "G_unet_1block"), (2, "G_unet_2blocks"), (3, "G_unet_3blocks")):
            assert layout(AEINet(n)) == [[k, s] for k, s, _ in manifests()[name]]
            assert [k for k, _ in layout(AEINet(n, width=0.0625))] == [k for k, _, _ in manifests()[name]]
        assert layout(MultiscaleDiscriminator()) == [[k, s] for k, s, _ in manifests()["D_unet_2blocks"]]


def test_batches_are_reproducible_by_key(dataset: Path) -> None:
    data = PairDataset(dataset)
    a, b = batch_of(data, [(1, 5), (2, 6)]), batch_of(data, [(1, 5), (2, 6)])
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["xs"][0], a["xs_id"][0][:, :1].expand(3, 224, 224)[:, :1])


def test_validation_scores_held_out_images_with_the_eval_judges(dataset: Path, tmp_path: Path) -> None:
    from ghostlive.export.iresnet import IResNet
    from ghostlive.training.validate import Validator

    data = PairDataset(dataset, held_out=3)
    assert len(data.held_out) == 3 and not set(data.held_out) & (set(data.sources) | set(data.allowed))
    everything = len(data.images)  # too few to hold out this many: validation is off, and every image trains
    assert PairDataset(dataset, held_out=everything // 2 + 1).held_out == []

    class Echo(torch.nn.Module):
        """Stand-in generator that returns the target unchanged: the judges must see a perfect attribute match."""

        def forward(self, x: torch.Tensor, z_id: torch.Tensor) -> torch.Tensor:
            return x

    summary = Validator(data, tmp_path)(7, Echo(), IResNet((1, 1, 1, 1), widths=(8, 16, 32, 64)).eval(),
                                        torch.device("cpu"))
    assert summary["eyes"] < 0.5 and summary["pose"] < 0.5 and summary["expression"] < 0.01
    if "id_dlib_target" in summary:  # dlib installed: the output is the target's identity, not the source's
        assert summary["id_dlib_target"] < 0.1 < summary["id_dlib_source"]
    lines = (tmp_path / "validation.csv").read_text().splitlines()
    assert lines[0].startswith("step,") and lines[1].startswith("7,")


def test_a_stop_raised_by_progress_ends_a_video_within_a_frame_and_a_rerun_prepares_it(tmp_path: Path) -> None:
    class StopError(Exception):
        pass

    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int, counts) -> None:
        calls.append((done, counts.kept))
        if len(calls) == 3:  # the third frame looked at, inside the video
            raise StopError

    video = str(DATA / "megamind_3s.mp4")
    with pytest.raises(StopError):
        Preparer(tmp_path / "d", PrepareOptions(every=5)).run([video], progress)
    assert calls[0][0] == 0 and len(calls) == 3  # per frame, before the video (of 18 frames looked at) finished
    path = tmp_path / "d" / "manifest.json"
    assert not path.exists() or not json.loads(path.read_text())["done"]  # the stopped video is not finished
    again = Preparer(tmp_path / "d", PrepareOptions(every=5)).run([video])
    assert again.sources_done == 1 and again.counts.kept >= 3
