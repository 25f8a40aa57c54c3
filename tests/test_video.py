"""Offline video on real footage: frames, timing and audio kept, faces swapped, bad inputs handled."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

av = pytest.importorskip("av")

from ghostlive.cli import main  # noqa: E402
from ghostlive.errors import CancelledError  # noqa: E402
from ghostlive.faces import FaceAnalyzer  # noqa: E402
from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video  # noqa: E402

from .conftest import compose, sample  # noqa: E402
from .media_tools import CLIP, add_tone, audio_packets, frame_times, frames_of, write_video  # noqa: E402

GRACE = str(sample("grace_hopper.jpg"))


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return add_tone(CLIP, tmp_path_factory.mktemp("clip") / "megamind_tone.mp4")


@pytest.fixture(scope="module")
def swapped_clip(clip_with_audio: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "swapped.mp4"
    assert main(["swap", "-q", "--source", GRACE, "--target", str(clip_with_audio), "-o", str(out)]) == 0
    return out


def test_frames_duration_and_audio_are_kept(clip_with_audio: Path, swapped_clip: Path) -> None:
    with av.open(str(clip_with_audio)) as a, av.open(str(swapped_clip)) as b:
        assert b.streams.video[0].frames == a.streams.video[0].frames == 72
        assert abs(b.duration - a.duration) < 50_000  # µs
        assert b.streams.video[0].average_rate == a.streams.video[0].average_rate
        assert b.metadata.get("ghostlive_synthetic") == "1" and "Synthetic media" in b.metadata["comment"]
    assert frame_times(swapped_clip) == frame_times(clip_with_audio)
    assert audio_packets(swapped_clip) == audio_packets(clip_with_audio)  # bit-identical, packet for packet
    assert len(audio_packets(swapped_clip)) > 100


def test_faces_changed_and_faceless_frames_kept(clip_with_audio: Path, swapped_clip: Path) -> None:
    analyzer = FaceAnalyzer(tile_levels=0)
    before, after = frames_of(clip_with_audio), frames_of(swapped_clip)
    assert len(before) == len(after)
    with_face = without = 0
    for a, b in zip(before, after, strict=True):
        faces = analyzer.analyze(a)
        diff = np.abs(a.astype(int) - b.astype(int))
        if not faces:
            assert diff.mean() < 1.0  # only the re-encoding
            without += 1
            continue
        x1, y1, x2, y2 = (int(v) for v in faces[0].box)
        assert diff[max(y1, 0) : y2, max(x1, 0) : x2].mean() > 4.0
        with_face += 1
    assert with_face > 60 and without >= 1


def test_reference_picks_the_right_person_in_a_two_person_clip(tmp_path: Path, astronaut, grace) -> None:
    canvas, _ = compose(astronaut, grace, height=300)
    frames = [np.roll(canvas, 2 * i, axis=1) for i in range(12)]  # a slow pan
    clip = write_video(tmp_path / "two.mp4", frames)
    ref = tmp_path / "ref.jpg"
    cv2.imwrite(str(ref), cv2.resize(grace, None, fx=0.8, fy=0.8))
    out = tmp_path / "out.mp4"
    assert (
        main(
            [
                "swap",
                "-q",
                "--source",
                str(sample("astronaut.png")),
                "--target",
                str(clip),
                "--reference",
                str(ref),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    boxes = [tuple(int(v) for v in f.box) for f in FaceAnalyzer(tile_levels=0).analyze(canvas)]
    assert len(boxes) == 2
    for i, (a, b) in enumerate(zip(frames_of(clip), frames_of(out), strict=True)):
        diffs = []
        for x1, y1, x2, y2 in boxes:
            region = np.s_[y1:y2, x1 + 2 * i : x2 + 2 * i]
            diffs.append(np.abs(a[region].astype(int) - b[region].astype(int)).mean())
        kept, changed = diffs  # the astronaut: re-encoding only; Grace: swapped
        assert kept < 2.0 and changed > 4 * kept


def landmark_jitter(frames: list[np.ndarray], smoothing: bool) -> float:
    job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
    stream = job.stream()
    stream.tracker.options = type(stream.tracker.options)(smoothing=smoothing)
    pasted = []
    for i, f in enumerate(frames):
        result = stream.process(f, i / 24)
        pasted.append(result.swapped[0].landmarks)
    pts = np.stack(pasted[3:])
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=2).mean())


def test_smoothing_reduces_jitter_on_a_still_scene(astronaut: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    frames = [
        np.clip(astronaut.astype(int) + rng.normal(0, 6, astronaut.shape), 0, 255).astype(np.uint8) for _ in range(24)
    ]  # a still camera: only sensor noise changes
    raw, smooth = landmark_jitter(frames, False), landmark_jitter(frames, True)
    assert smooth < 0.6 * raw


def test_smoothing_follows_fast_motion(astronaut: np.ndarray) -> None:
    frames = [np.roll(astronaut, 6 * i, axis=1) for i in range(16)]  # 6 px per frame, 144 px/s
    job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
    stream = job.stream()
    lag = []
    for i, f in enumerate(frames):
        face = stream.process(f, i / 24).swapped[0]
        truth = FaceAnalyzer(tile_levels=0).analyze(f)[0] if i == len(frames) - 1 else None
        if truth is not None:
            lag.append(np.abs(face.landmarks[:, 0].mean() - truth.landmarks[:, 0].mean()))
    assert lag[0] < 3.0


def test_a_missed_frame_is_bridged(astronaut: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(astronaut, (0, 0), 12)
    assert not FaceAnalyzer(tile_levels=0).analyze(blurred)  # neither detector nor mesh sees a face here
    frames = [astronaut] * 5 + [blurred] + [astronaut] * 3
    for max_gap, expect_swap in ((5, True), (0, False)):
        job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
        stream = job.stream()
        stream.tracker.options = type(stream.tracker.options)(max_gap=max_gap)
        results = [stream.process(f, i / 24) for i, f in enumerate(frames)]
        assert bool(results[5].swapped) is expect_swap
        assert results[6].swapped  # and the face is picked up again after the gap


def test_cancel_leaves_nothing(clip_with_audio: Path, tmp_path: Path) -> None:
    job = Job(SwapSettings(tiles=0), [PairSpec(GRACE)])
    stop = threading.Event()

    def progress(p) -> None:
        if p.done >= 10:
            stop.set()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(CancelledError):
        run_video(job, str(clip_with_audio), out, progress=progress, stop=stop)
    assert list(tmp_path.iterdir()) == []


def test_variable_frame_rate_is_kept(tmp_path: Path, astronaut: np.ndarray) -> None:
    pts = [0, 4, 10, 30, 34, 60, 61, 90]
    clip = write_video(tmp_path / "vfr.mp4", [astronaut] * len(pts), pts=pts)
    out = tmp_path / "out.mp4"
    assert main(["swap", "-q", "--source", GRACE, "--target", str(clip), "-o", str(out)]) == 0
    assert frame_times(out) == frame_times(clip)


def test_rotated_phone_video_is_processed_upright(tmp_path: Path, astronaut: np.ndarray) -> None:
    sideways = np.ascontiguousarray(np.rot90(astronaut, k=-1))  # stored turned 90° clockwise
    clip = write_video(tmp_path / "phone.mp4", [sideways] * 6, rotation=90)
    out = tmp_path / "out.mp4"
    assert main(["swap", "-q", "--source", GRACE, "--target", str(clip), "-o", str(out)]) == 0
    frames = frames_of(out)
    assert frames[0].shape == astronaut.shape  # written upright
    assert np.abs(frames[0].astype(int) - astronaut.astype(int)).mean() > 0.5
    assert FaceAnalyzer(tile_levels=0).analyze(frames[0])


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def assert_failed_cleanly(code: int, err: str, folder: Path, *words: str) -> None:
    assert code == 1 and "Traceback" not in err
    for w in words:
        assert w in err
    assert not [p for p in folder.iterdir() if p.name.startswith((".out", "out"))]


def test_truncated_video(tmp_path: Path, capsys) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(CLIP.read_bytes()[: CLIP.stat().st_size // 2])
    code, err = run_cli(capsys, "swap", "-q", "--source", GRACE, "--target", str(cut), "-o", str(tmp_path / "out.mp4"))
    assert_failed_cleanly(code, err, tmp_path, "cut.mp4")


def test_corrupt_video_gives_an_error_or_an_output_with_a_count(tmp_path: Path, capsys, caplog) -> None:
    data = bytearray(CLIP.read_bytes())
    rng = np.random.default_rng(5)
    for pos in rng.integers(len(data) // 4, len(data) * 3 // 4, 40):
        data[pos] ^= 0xFF
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, "swap", "-q", "--source", GRACE, "--target", str(bad), "-o", str(out))
    if code == 0:  # every frame, or the frames that decode and a warning with the count
        written = len(frames_of(out))
        assert written == 72 or f"({written} of 72 frames written)" in caplog.text
    else:
        assert_failed_cleanly(code, err, tmp_path, "bad.mp4")


@pytest.mark.parametrize(("name", "words"), [("tone.m4a", "is an audio file"), ("tone.mp4", "no video stream")])
def test_audio_only_file(tmp_path: Path, capsys, name: str, words: str) -> None:
    audio = tmp_path / "tone.m4a"
    with av.open(str(audio), "w", format="mp4") as o:
        s = o.add_stream("aac", rate=48000)
        s.layout = "mono"
        for k in range(0, 48000, 1024):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 48000, k
            for p in s.encode(f):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    target = audio.rename(tmp_path / name)
    out = str(tmp_path / "out.mp4")
    code, err = run_cli(capsys, "swap", "-q", "--source", GRACE, "--target", str(target), "-o", out)
    assert_failed_cleanly(code, err, tmp_path, f"error: {target}: ", words)
    assert "out.mp4" not in err  # the problem is the input, not the output


@pytest.mark.parametrize("content", [b"", b"this is a text file, not a film\n" * 50])
def test_empty_or_non_video_file(tmp_path: Path, capsys, content: bytes) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(content)
    code, err = run_cli(capsys, "swap", "-q", "--source", GRACE, "--target", str(fake), "-o", str(tmp_path / "out.mp4"))
    assert_failed_cleanly(code, err, tmp_path, "fake.mp4")


def test_unknown_output_codec(tmp_path: Path, capsys) -> None:
    code, err = run_cli(
        capsys,
        "swap",
        "-q",
        "--source",
        GRACE,
        "--target",
        str(CLIP),
        "--codec",
        "nosuchcodec",
        "-o",
        str(tmp_path / "out.mp4"),
    )
    assert_failed_cleanly(code, err, tmp_path, "nosuchcodec")


def test_video_output_must_be_a_video(tmp_path: Path, capsys) -> None:
    code, err = run_cli(capsys, "swap", "-q", "--source", GRACE, "--target", str(CLIP), "-o", str(tmp_path / "o.jpg"))
    assert code == 1 and "video output" in err


def test_label_is_burned_in(tmp_path: Path, clip_with_audio: Path) -> None:
    out = tmp_path / "labelled.mkv"
    assert (
        main(
            [
                "swap",
                "-q",
                "--source",
                GRACE,
                "--target",
                str(clip_with_audio),
                "--label",
                "AI-generated",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    first = frames_of(out)[0]  # a black frame: only the label is there
    assert first[-40:, :200].max() > 200


def test_image_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("astronaut.png", "grace_hopper.jpg"):
        (folder / name).write_bytes(sample(name).read_bytes())
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.png").touch()
    out = tmp_path / "out"
    assert main(["swap", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 1  # one file failed
    assert sorted(p.name for p in out.iterdir()) == ["astronaut.png", "grace_hopper.jpg"]
    stdout, err = capsys.readouterr()
    assert "failed: empty.png: the file is empty" in err
    assert stdout.strip().splitlines()[-1] == f"2 done, 1 failed (empty.png) → {out}"
    (folder / "empty.png").unlink()
    assert main(["swap", "--source", GRACE, "--target", str(folder), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"2 done, 0 failed → {out}"
    assert main(["swap", "--source", GRACE, "--target", str(folder), "-o", str(folder)]) == 1
