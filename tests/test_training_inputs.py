"""What training and per-person fine-tuning refuse, and what they leave behind: recipe values of the wrong type or
range (named by file and key, before any network is built), ``--resume`` with settings that would change the
run, personal-model names whose files would replace another model's, and fine-tunes that fail before training."""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("onnx2torch") is None:
    pytest.skip("onnx2torch is not installed (the train extra)", allow_module_level=True)

from ghostlive.cli import main  # noqa: E402
from ghostlive.errors import ConfigError  # noqa: E402
from ghostlive.faces import asset_path  # noqa: E402
from ghostlive.hub import ModelStore  # noqa: E402
from ghostlive.media.image import read_image, write_image  # noqa: E402
from ghostlive.media.paths import sha256_file  # noqa: E402
from ghostlive.models.personal import personal_models  # noqa: E402
from ghostlive.training.config import FINETUNE_TOML, load_recipe  # noqa: E402
from ghostlive.training.prepare import Preparer  # noqa: E402
from tests.conftest import DATA, sample  # noqa: E402
from tests.training_tools import one_thread  # noqa: E402, F401 (an autouse fixture)

TINY_TOML = """\
width = 0.0625
batch_size = 2
num_workers = 0
log_every = 1
preview_every = 0
checkpoint_every = 0
validation_images = 0
[[stages]]
name = "base"
steps = 100
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 0.0 }
"""
"""A recipe of reduced width (~1/16 of the channels) without the eye loss: steps take a fraction of a second."""

BAD = [
    ('width = "big"\n', "width: must be a number, got 'big'"),
    ('batch_size = "four"\n', "batch_size: must be an integer, got 'four'"),
    ('[optimizer]\nlr_g = "fast"\n', "optimizer.lr_g: must be a number, got 'fast'"),
    ("width = 2\n", "width: must be a number > 0 and ≤ 1, got 2"),
    ("batch_size = 2.5\n", "batch_size: must be an integer, got 2.5"),
    ("seed = -1\n", "seed: must be an integer ≥ 0, got -1"),
    ("same_person = nan\n", "same_person: must be a number ≥ 0 and ≤ 1, got nan"),
    ("discriminator_gate = 1\n", "discriminator_gate: must be true or false, got 1"),
    ('precision = "fp8"\n', "precision: must be one of auto, fp32, fp16, bf16, got 'fp8'"),
    ("jitter = [0.2, 0.2]\n", "jitter: must be a list of 4 numbers (brightness, contrast, saturation, hue), "
                              "got [0.2, 0.2]"),
    ("[optimizer]\nbetas = [0.0, 1.0]\n", "optimizer.betas: Adam's beta1, beta2: must be a number ≥ 0 and < 1, "
                                          "got 1.0"),
    ("optimizer = 3\n", "optimizer: must be a table, got 3"),
    ('[[stages]]\nname = "a"\nsteps = -1\n', "[[stages]] #1: steps: must be an integer ≥ 0, got -1"),
    ('[[stages]]\nname = "a"\nsteps = 5\nweights = { eyes = "x" }\n',
     "[[stages]] #1: weights.eyes: must be a number, got 'x'"),
    ('[[stages]]\nname = "a"\nsteps = 5\nweights = { eyes = -1 }\n',
     "[[stages]] #1: weights.eyes: must be a number ≥ 0, got -1"),
    ('[[stages]]\nname = "a"\nsteps = 5\n[[stages]]\nname = "b"\nscheduler = "step"\n', "[[stages]] #2: needs steps"),
]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Crops of three real photos (three identities)."""
    root = tmp_path_factory.mktemp("data") / "data"
    Preparer(root).run([str(sample("astronaut.png")), str(sample("grace_hopper.jpg")), str(DATA / "messi5.jpg")])
    return root


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelStore:
    """A fresh, empty model store for each test."""
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    return ModelStore(tmp_path / "home")


def tiny(folder: Path, name: str = "tiny.toml", **changes: object) -> Path:
    text = TINY_TOML
    for key, value in changes.items():
        text = f"{key} = {json.dumps(value)}\n" + "\n".join(
            line for line in text.splitlines() if not line.startswith(f"{key} =")) + "\n"
    path = folder / name
    path.write_text(text)
    return path


def finetune(name: str, person: str | Path, cfg: Path, *extra: str) -> list[str]:
    return ["train", "finetune", "--person", str(person), "-o", name, "--config", str(cfg), "--steps", "1",
            "--allow-untrained", "-q", *extra]


def last_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected error" not in err, err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_recipe_values_are_checked_by_type_and_range(text: str, message: str, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    for base in ({}, {"base": FINETUNE_TOML}):
        with pytest.raises(ConfigError) as info:
            load_recipe(cfg, **base)
        assert str(info.value) == f"{cfg}: {message}"
    cfg.write_text('width = 1\nseed = 3\n[optimizer]\nlr_d = 0\n[[stages]]\nname = "x"\nsteps = 1\n')
    r = load_recipe(cfg)  # integers where numbers are expected are fine, and stored as floats
    assert (r.width, r.optimizer.lr_d, r.seed) == (1.0, 0.0, 3) and isinstance(r.width, float)


@pytest.mark.parametrize(("text", "message"), BAD[:3])
def test_train_and_finetune_name_the_file_and_key_before_building_anything(
    text: str, message: str, dataset: Path, store: ModelStore, tmp_path: Path, capsys, monkeypatch
) -> None:
    def no_networks(*args: object) -> None:
        pytest.fail("a network was built before the recipe was checked")

    monkeypatch.setattr("ghostlive.training.trainer.build_generator", no_networks)
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    run = tmp_path / "run"
    assert main(["train", str(dataset), "-o", str(run), "--config", str(cfg), "--allow-untrained", "-q"]) == 1
    assert last_error(capsys) == f"ghostlive: error: {cfg}: {message}" and not run.exists()
    assert main(finetune("me", sample("grace_hopper.jpg"), cfg)) == 1
    assert last_error(capsys) == f"ghostlive: error: {cfg}: {message}"
    assert not (store.root.parent / "training").exists()


def test_resume_refuses_settings_that_change_the_run_and_applies_the_bookkeeping_ones(
    dataset: Path, store: ModelStore, tmp_path: Path, capsys, caplog
) -> None:
    cfg, a, b = tiny(tmp_path), tmp_path / "a", tmp_path / "b"
    train = ["train", str(dataset), "--allow-untrained", "-q"]
    assert main([*train, "-o", str(a), "--config", str(cfg), "--steps", "2"]) == 0
    shutil.copytree(a, b)
    assert main([*train, "-o", str(a), "--steps", "4", "--resume"]) == 0  # the run's own recipe
    saved = (b / "recipe.json").read_text()
    other = tiny(tmp_path, "other.toml", width=0.125)
    other.write_text(other.read_text() + "[optimizer]\nlr_g = 1e-3\n")
    refused = [
        (["--config", str(other)], ["width (0.0625 → 0.125)", "optimizer.lr_g (0.0004 → 0.001)"]),
        (["--batch-size", "4"], ["batch_size (2 → 4)"]),
        (["--config", str(cfg), "--model", "ghost-3"], ["model ('ghost-2' → 'ghost-3')"]),
    ]
    for extra, changes in refused:
        assert main([*train, "-o", str(b), "--steps", "4", "--resume", *extra]) == 1
        error = last_error(capsys)
        assert error.startswith(f"ghostlive: error: {b}: --resume continues the run with its own recipe, but the "
                                "given settings change ") and all(c in error for c in changes), error
        assert json.loads((b / "latest.json").read_text())["step"] == 2 and (b / "recipe.json").read_text() == saved
    # What is written (checkpoints, previews) may change: the same losses as the run resumed unchanged.
    more = tiny(tmp_path, "more.toml", checkpoint_every=1, preview_every=1)
    with caplog.at_level(logging.WARNING):
        assert main([*train, "-o", str(b), "--config", str(more), "--steps", "4", "--resume"]) == 0
    assert "checkpoint_every changes from 0 to 1 on resume" in caplog.text
    assert (b / "G_0000003.pth").is_file() and (b / "previews" / "step_0000003.png").is_file()
    assert json.loads((b / "recipe.json").read_text())["checkpoint_every"] == 1
    rows = [[line.split(",") for line in (d / "log.csv").read_text().splitlines()[1:]] for d in (a, b)]
    assert [r[0] for r in rows[1]] == ["1", "2", "3", "4"]
    for x, y in zip(*rows, strict=True):
        assert [float(v) for v in x[3:10]] == pytest.approx([float(v) for v in y[3:10]], rel=1e-5, abs=1e-7)
    damaged = json.loads(saved) | {"width": "big"}
    (b / "recipe.json").write_text(json.dumps(damaged))
    assert main([*train, "-o", str(b), "--steps", "5", "--resume"]) == 1
    assert last_error(capsys) == f"ghostlive: error: {b / 'recipe.json'}: width: must be a number, got 'big'"


def test_finetune_refuses_names_whose_files_would_replace_another_model(store: ModelStore, tmp_path, capsys) -> None:
    def install(filename: str) -> None:  # a real ONNX file (the bundled iris model) under that name
        shutil.copy(asset_path("iris_landmark.onnx"), tmp_path / "staged.onnx")
        store.add_file(tmp_path / "staged.onnx", filename, "test")

    install("w600k_r50.onnx")  # an installed registry model
    install("mine.onnx")  # the user's own model file
    (store.root / "stray.pth").write_bytes(b"not recorded, still a file")
    before = {p.name: sha256_file(p) for p in store.root.iterdir() if p.is_file()}
    cfg = tiny(tmp_path)
    clashes = {
        "w600k_r50": "its file w600k_r50.onnx would replace w600k_r50.onnx, a file of the model w600k",
        "inswapper_128": "would replace inswapper_128.onnx, a file of the model inswapper",  # not installed
        "g_unet_2blocks": "would replace G_unet_2blocks.pth, a file of the model ghost-2",  # by case only
        "ghost-2-fp16": "names ending in '-fp16' are those of files made from another model",  # an export
        "backbone": "would replace backbone.pth, a file of the model ghost-arcface",
        "mine": f"would replace {store.root / 'mine.onnx'}, which is not a personal swapper's",
        "stray": f"would replace {store.root / 'stray.pth'}, which is not a personal swapper's",
    }
    for name, clash in clashes.items():
        assert main(finetune(name, sample("grace_hopper.jpg"), cfg)) == 1
        error = last_error(capsys)
        assert error.startswith(f"ghostlive: error: '{name}' cannot name a personal swapper: ") and clash in error
    assert {p.name: sha256_file(p) for p in store.root.iterdir() if p.is_file()} == before
    assert set(store.verify().values()) == {"ok"} and personal_models(store) == {}
    assert not (store.root.parent / "training").exists()


def test_a_personal_swapper_is_trained_further_under_its_own_name_with_its_own_recipe(
    store: ModelStore, tmp_path: Path, capsys, monkeypatch
) -> None:
    from ghostlive.training.trainer import Trainer

    cfg = tiny(tmp_path, same_person=0.9)
    assert main(finetune("me", sample("grace_hopper.jpg"), cfg)) == 0
    files = {f: sha256_file(store.root / f) for f in ("me.pth", "me.onnx")}
    assert main(finetune("me", sample("grace_hopper.jpg"), cfg)) == 1  # not silently started again
    assert "already holds a fine-tune of 'me'; add --resume" in last_error(capsys)
    assert main(finetune("me", sample("grace_hopper.jpg"), tiny(tmp_path, "w.toml", width=0.125), "--resume")) == 1
    assert "width (0.0625 → 0.125)" in last_error(capsys)
    seen = []
    original = Trainer.run

    def spy(self: Trainer, *args: object, **kwargs: object) -> Path:
        seen.append(self.data.same_person)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "run", spy)
    args = ["train", "finetune", "--person", str(sample("grace_hopper.jpg")), "-o", "me", "--steps", "2",
            "--allow-untrained", "-q", "--resume"]
    assert main(args) == 0  # without --config: the run's recipe, pairs drawn as before
    assert seen == [0.9] and personal_models(store)["me"].steps == 2
    assert all(sha256_file(store.root / f) != digest for f, digest in files.items())
    assert set(store.verify().values()) == {"ok"}


def no_face_photo(d: Path) -> Path:
    """The lower part of grace_hopper.jpg: her uniform, no face."""
    write_image(d / "uniform.png", read_image(sample("grace_hopper.jpg")).bgr[380:].copy())
    return d / "uniform.png"


def truncated(d: Path) -> Path:
    data = sample("grace_hopper.jpg").read_bytes()
    (d / "half.jpg").write_bytes(data[: len(data) // 20])
    return d / "half.jpg"


def empty(d: Path) -> Path:
    (d / "empty").mkdir()
    return d / "empty"


def untrained_generator(d: Path) -> Path:
    """A generator checkpoint of the tiny recipe's width (random weights): enough to start without
    --allow-untrained, which then stops at the missing ArcFace, after the person's faces were prepared."""
    from ghostlive.export.aei_net import AEINet

    torch.save(AEINet(2, width=0.0625).state_dict(), d / "G.pth")
    return d / "G.pth"


@pytest.mark.parametrize("person", [lambda d: d / "nope", empty, no_face_photo, truncated, "no ArcFace"])
def test_a_finetune_that_fails_before_training_leaves_no_work_folder(person, store, tmp_path, capsys) -> None:
    cfg = tiny(tmp_path)
    if person == "no ArcFace":
        args = ["train", "finetune", "--person", str(sample("grace_hopper.jpg")), "-o", "me", "--config", str(cfg),
                "--generator", str(untrained_generator(tmp_path)), "-q"]
    else:
        args = finetune("me", person(tmp_path), cfg)
    assert main(args) == 1
    error = last_error(capsys)
    assert person != "no ArcFace" or "ghostlive models download ghost-arcface" in error
    assert not (store.root.parent / "training").exists()
    (store.root.parent / "training" / "other").mkdir(parents=True)  # a fine-tune of another name stays
    assert main(args) == 1
    assert [p.name for p in (store.root.parent / "training").iterdir()] == ["other"]


def test_a_failed_finetune_keeps_the_work_folder_of_an_earlier_run(store: ModelStore, tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    assert main(finetune("me", sample("grace_hopper.jpg"), cfg)) == 0
    work = store.root.parent / "training" / "me"
    before = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    assert main(finetune("me", tmp_path / "nope", cfg, "--resume")) == 1
    assert sorted(str(p.relative_to(work)) for p in work.rglob("*")) == before


def test_files_left_by_a_stopped_install_of_the_same_name_are_not_a_clash(store: ModelStore, tmp_path) -> None:
    from ghostlive.models.personal import check_free, work_folder

    run = work_folder(store, "me") / "run"
    run.mkdir(parents=True)
    store.import_file(untrained_generator(run), "me.pth")  # installed, then stopped before registering
    assert check_free(store, "me") == "me"
    store.import_file(untrained_generator(tmp_path), "you.pth")  # the same file from elsewhere: someone else's
    with pytest.raises(ConfigError, match=r"'you' cannot name a personal swapper: its file you\.pth would replace"):
        check_free(store, "you")
