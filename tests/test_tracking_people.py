"""Several people in a stream: a swap stays on the referenced person when people cross, when a cut the shot detector
misses puts other people in the same places, and when a partly hidden face comes back; a stream frame picks the same
faces as the same picture as a photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ghostlive.faces import FaceAnalyzer
from ghostlive.jobs import Job, PairSpec, SwapSettings

from .conftest import DATA, sample
from .media_tools import CLIP, frames_of

W, H, SIDE = 640, 360, 200
"""Frame size, and the side of each person's square picture in it."""
SOURCE = str(DATA / "messi5.jpg")
REFERENCE = str(sample("grace_hopper.jpg"))
SWAPPED = 12.0
"""Mean grey-level change (summed over BGR) of a face's middle above which it counts as swapped."""


def person(image: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray:
    """A SIDE×SIDE head-and-shoulders picture of ``image``'s largest face (as cut out of a group photo)."""
    x1, y1, x2, y2 = max(analyzer.analyze(image), key=lambda f: f.detection.area).box
    cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, 0.9 * max(x2 - x1, y2 - y1)
    pad = cv2.copyMakeBorder(image, SIDE * 2, SIDE * 2, SIDE * 2, SIDE * 2, cv2.BORDER_REPLICATE)
    top, left = round(cy - r) + 2 * SIDE, round(cx - r) + 2 * SIDE
    crop = pad[top : top + round(2 * r), left : left + round(2 * r)]
    return cv2.resize(crop, (SIDE, SIDE), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def people(astronaut, grace, cameraman, messi) -> dict[str, np.ndarray]:
    analyzer = FaceAnalyzer(tile_levels=0)
    pictures = {"grace": grace, "astronaut": astronaut, "cameraman": cameraman}
    cast = {name: person(image, analyzer) for name, image in pictures.items()}
    cast["set"] = cv2.resize(cv2.GaussianBlur(messi, (0, 0), 25), (W, H))  # the same background in every shot
    return cast


def scene(people: dict[str, np.ndarray], placed: list[tuple[str, int, int]]) -> np.ndarray:
    """The set with each named person's picture at (x, y), later ones in front."""
    frame = people["set"].copy()
    for name, x, y in placed:
        xa, xb = max(x, 0), min(x + SIDE, W)
        frame[y : y + SIDE, xa:xb] = people[name][:, xa - x : xb - x]
    return frame


def swapped(before: np.ndarray, after: np.ndarray, x: int, y: int, hidden: slice | None = None) -> bool | None:
    """Whether the middle of the face whose picture is at (x, y) changed; None when too little of it shows
    (``hidden``: columns covered by something in front)."""
    mask = np.zeros((H, W), bool)
    mask[y + 60 : y + 140, max(x + 60, 0) : max(x + 140, 0)] = True
    if hidden is not None:
        mask[:, hidden] = False
    if mask.sum() < 400:
        return None
    diff = np.abs(before.astype(int) - after.astype(int)).sum(2)
    return bool(diff[mask].mean() > SWAPPED)


def run(frames: list[np.ndarray], pairs: list[PairSpec] | None = None) -> list[np.ndarray]:
    stream = Job(SwapSettings(tiles=0, faces="reference"), pairs or [PairSpec(SOURCE, REFERENCE)]).stream()
    return [stream.process(f, i / 24).frame for i, f in enumerate(frames)]


def missing_one_frame(stream, monkeypatch, frame: int, left_of: float | None, right_of: float | None) -> list[int]:
    """Make the stream's face mesh and detector miss, on its ``frame``-th frame, the faces whose middle lies left
    of ``left_of`` or right of ``right_of`` (a missed detection cannot be made to order); returns the frame
    counter to advance."""
    analyzer, count = stream.tracker.analyzer, [0]
    run_mesh, detect = analyzer.mesh.run, analyzer.detect

    def missed(x: float) -> bool:
        return count[0] == frame and ((left_of is not None and x < left_of) or (right_of is not None and x > right_of))

    def mesh(image, roi, *args, **kwargs):
        xy, z, p = run_mesh(image, roi, *args, **kwargs)
        return (xy, z, 0.0) if missed(float(xy[:, 0].mean())) else (xy, z, p)

    def detections(image, *args, **kwargs):
        return [d for d in detect(image, *args, **kwargs) if not missed((d.box[0] + d.box[2]) / 2)]

    monkeypatch.setattr(analyzer.mesh, "run", mesh)
    monkeypatch.setattr(analyzer, "detect", detections)
    return count


def counted(stream, monkeypatch) -> list[int]:
    """The number of faces the stream's embedder embeds (a list to read after running)."""
    calls, embed = [0], stream.embedder.embed

    def counting(*args, **kwargs):
        calls[0] += 1
        return embed(*args, **kwargs)

    monkeypatch.setattr(stream.embedder, "embed", counting)
    return calls


def test_a_person_walking_in_front_of_the_referenced_one_is_never_swapped(people) -> None:
    """Grace (the reference) walks right, the astronaut walks left in front of her and hides her."""
    steps = [(round(40 + 360 * i / 59), round(400 - 360 * i / 59)) for i in range(60)]
    frames = [scene(people, [("grace", g, 80), ("astronaut", a, 80)]) for g, a in steps]
    out = run(frames)
    front = [swapped(f, o, a, 80) for f, o, (_, a) in zip(frames, out, steps, strict=True)]
    assert not any(front), [i for i, s in enumerate(front) if s]  # the swap never rides onto the other person
    behind = [swapped(f, o, g, 80, slice(a, a + SIDE)) for f, o, (g, a) in zip(frames, out, steps, strict=True)]
    assert all(behind[:20])  # the referenced person before she is hidden...
    assert all(s for s in behind[-12:])  # ...and after she comes out again


def test_a_cut_to_other_people_in_the_same_places_moves_the_swap_at_once(people) -> None:
    """Grace and the cameraman; a cut the shot detector misses (same set, same places) to the astronaut and the
    cameraman; back to the first shot."""
    first = scene(people, [("grace", 60, 80), ("cameraman", 380, 80)])
    second = scene(people, [("astronaut", 60, 80), ("cameraman", 380, 80)])
    frames = [first] * 24 + [second] * 24 + [first] * 24
    out = run(frames)
    left = [swapped(f, o, 60, 80) for f, o in zip(frames, out, strict=True)]
    assert all(left[:24])
    assert not any(left[24:48]), [i for i in range(24, 48) if left[i]]  # never the astronaut
    assert all(left[56:]), [i for i in range(48, 72) if not left[i]]  # Grace again, within 8 frames of her return
    assert not any(swapped(f, o, 380, 80) for f, o in zip(frames, out, strict=True))  # never the cameraman


def test_a_face_coming_back_from_behind_a_pole_is_swapped_again_at_once(people) -> None:
    """A pole sweeps across Grace (left) and the cameraman (right); Grace is fully visible again from the first
    frame after it has passed her face."""
    base = scene(people, [("grace", 60, 80), ("cameraman", 380, 80)])
    frames, poles = [], []
    for i in range(60):
        frame, x = base.copy(), -100 + (i - 5) * 10
        frame[:, max(x, 0) : max(x + 60, 0)] = (30, 60, 90)
        frames.append(frame)
        poles.append(slice(max(x, 0), max(x + 60, 0)))
    out = run(frames)
    grace = [swapped(f, o, 60, 80, p) for f, o, p in zip(frames, out, poles, strict=True)]
    clear = next(i for i in range(30, 60) if poles[i].start >= 60 + 150)  # the pole has left her face
    assert all(grace[:15])
    assert all(grace[clear + 4 :]), [i for i in range(clear, 60) if not grace[i]]  # not 13-16 frames later


def test_a_stream_swaps_the_faces_a_photo_swaps_when_the_referenced_person_appears_twice(people) -> None:
    picture = scene(people, [("grace", 20, 80), ("astronaut", 220, 80), ("grace", 420, 80)])
    job = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(SOURCE, REFERENCE)])
    photo = job.stream().process(picture)
    assert len(photo.faces) == 3 and len(photo.swapped) == 1  # each reference takes its best face
    stream = job.stream()
    for i in range(8):
        video = stream.process(picture, i / 24)
        assert [round(f.box[0] / 100) for f in video.swapped] == [round(f.box[0] / 100) for f in photo.swapped]


def test_faces_side_by_side_keep_their_tracks_through_one_missed_frame(people, monkeypatch) -> None:
    """The astronaut and Grace cheek to cheek (their faces about 11 px apart); on frame 10 Grace is missed: her
    swap is held, not dropped for a frame and restarted as a new track."""
    frame = scene(people, [("astronaut", 190, 80), ("grace", 300, 80)])
    stream = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(SOURCE, REFERENCE)]).stream()
    count = missing_one_frame(stream, monkeypatch, 10, None, 300 + SIDE / 2 - 40)
    out, ids = [], []
    for i in range(20):
        count[0] = i
        out.append(swapped(frame, stream.process(frame, i / 24).frame, 300, 80))
        ids.append(tuple(tr.id for tr in stream.tracker.tracks))
    assert all(out), [i for i, s in enumerate(out) if not s]
    assert set(ids) == {(0, 1)}, ids


def test_a_borderline_match_is_kept_after_one_missed_frame(people, monkeypatch) -> None:
    """Grace beside the cameraman matches her reference only just; missed on frame 10 and found again, she is still
    the same face: her match is not decided again on one look (and lost for good)."""
    frame = scene(people, [("grace", 150, 80), ("cameraman", 280, 80)])
    stream = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(SOURCE, REFERENCE)]).stream()
    count = missing_one_frame(stream, monkeypatch, 10, 280 + 30, None)
    out = []
    for i in range(20):
        count[0] = i
        out.append(swapped(frame, stream.process(frame, i / 24).frame, 150, 80))
    assert all(out), [i for i, s in enumerate(out) if not s]


def test_bystanders_cost_few_embeddings(people, monkeypatch) -> None:
    """Identity checks are not repeated every other frame for every face that does not match: the real clip with a
    reference not in it, and three people standing still (6 and 8 embeddings before early re-checks existed)."""
    clip = frames_of(CLIP)
    stream = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(SOURCE, REFERENCE)]).stream()
    calls = counted(stream, monkeypatch)
    for i, f in enumerate(clip):
        stream.process(f, i / 24)
    assert calls[0] <= 9, calls[0]
    crowd = scene(people, [("astronaut", 20, 80), ("cameraman", 220, 80), ("grace", 420, 80)])
    noise = np.random.default_rng(0)
    stream = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(SOURCE, REFERENCE)]).stream()
    calls = counted(stream, monkeypatch)
    for i in range(48):
        stream.process(np.clip(crowd.astype(int) + noise.integers(-3, 4, crowd.shape), 0, 255).astype(np.uint8), i / 24)
    assert calls[0] <= 12, calls[0]


def test_a_referenced_person_turning_his_head_stays_swapped(tmp_path) -> None:
    """The real clip with one of its own later frames as the reference: the re-check's average dipped just under
    the threshold while he turned (0.875 against 0.88) and the swap went off for 15 frames. A matched face now
    keeps its reference within a small margin (hysteresis)."""
    clip = frames_of(CLIP)
    cv2.imwrite(str(tmp_path / "him.png"), clip[40])
    stream = Job(SwapSettings(tiles=0, faces="reference"), [PairSpec(REFERENCE, str(tmp_path / "him.png"))]).stream()
    found = [bool(stream.process(f, i / 24).swapped) for i, f in enumerate(clip)]
    first = found.index(True)
    assert all(found[first:]), "".join("1" if s else "0" for s in found)
