"""``ghostlive eval`` end to end on real faces: the classic swapper out of the box, another program's results
(photos and a video), Ctrl-C and resume, bad input."""

from __future__ import annotations

import csv
import json
import logging
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ghostlive.cli import main
from ghostlive.errors import InvalidInputError
from ghostlive.eval import pairs
from ghostlive.eval.runner import Evaluation
from ghostlive.faces import FaceAnalyzer
from ghostlive.ops.align import similarity_transform

from .conftest import DATA, largest, sample
from .media_tools import write_video


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["eval", *(str(a) for a in argv)])
    out, err = capsys.readouterr()
    return code, out, err


def strict_json(path: Path) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    src, tgt = tmp_path / "sources", tmp_path / "targets"
    src.mkdir()
    tgt.mkdir()
    for name in ("astronaut.png", "grace_hopper.jpg"):
        shutil.copy(sample(name), src)
        shutil.copy(sample(name), tgt)
    shutil.copy(DATA / "cameraman_gray.png", tgt)
    return src, tgt


@pytest.mark.slow
def test_classic_out_of_the_box(folders, tmp_path: Path, capsys) -> None:
    src, tgt = folders
    report = tmp_path / "report"
    code, out, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 0, out
    assert "GHOST (paper)" in out and "90.61" in out and "compare only in direction" in out
    doc = strict_json(report / "metrics.json")
    assert len(doc["pairs"]) == 4  # 2 sources × 3 targets, minus each person onto themself
    summary = doc["summary"]["classic"]
    assert summary["pairs"]["ok"] == 4
    assert summary["verdict_dlib"]["source"] >= 0.5
    assert "dlib" in doc["run"]["judges"] and "CPU" in doc["run"]["machine"]
    with (report / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {"seam", "eyes", "pose", "retrieval_dlib"} <= set(rows[0])
    html = (report / "report.html").read_text()
    assert html.count("<img src='montages/") == 4 and "plots/distributions.png" in html
    assert all((report / "outputs" / "classic" / Path(r["output"]).name).is_file() for r in rows)
    # a rerun resumes: nothing is swapped or scored again
    stamps = {p: p.stat().st_mtime_ns for p in (report / "pairs").rglob("*.json")}
    code, _, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 0
    assert {p: p.stat().st_mtime_ns for p in (report / "pairs").rglob("*.json")} == stamps


@pytest.mark.slow
def test_ctrl_c_keeps_finished_pairs_and_a_rerun_completes(folders, tmp_path: Path, capsys, monkeypatch) -> None:
    src, tgt = folders
    report = tmp_path / "report"
    real = Evaluation._measure
    calls = []

    def interrupt_second(self, task):  # the user presses Ctrl-C while the second pair's output is scored
        calls.append(task)
        if len(calls) == 2:
            assert task.result.is_file()
            raise KeyboardInterrupt
        return real(self, task)

    monkeypatch.setattr(Evaluation, "_measure", interrupt_second)
    code, out, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 130 and "1 of 4 pairs kept" in out
    assert len(strict_json(report / "metrics.json")["pairs"]) == 1
    first = next((report / "pairs").rglob("*.json"))
    # the interrupted pair's output is gone with it: every output left has its record
    assert [p.stem for p in (report / "outputs" / "classic").iterdir()] == [first.stem]
    stamp = first.stat().st_mtime_ns
    monkeypatch.setattr(Evaluation, "_measure", real)
    code, _, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 0
    assert len(strict_json(report / "metrics.json")["pairs"]) == 4
    assert first.stat().st_mtime_ns == stamp


def opencv_face_paste(source: np.ndarray, target: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray:
    """Another program's swap: OpenCV's Poisson blending of the similarity-aligned source face (no ghostlive
    swapper involved)."""
    s, t = largest(analyzer.analyze(source)), largest(analyzer.analyze(target))
    m = similarity_transform(s.keypoints5, t.keypoints5)
    warped = cv2.warpAffine(source, m, target.shape[1::-1])
    hull = cv2.convexHull(np.rint(t.landmarks).astype(np.int32))
    mask = np.zeros(target.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    x, y, w, h = cv2.boundingRect(hull)
    return cv2.seamlessClone(warped, target, mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)


@pytest.mark.slow
def test_results_of_another_program_with_a_jittery_video(tmp_path: Path, capsys, analyzer, grace, astronaut) -> None:
    src, tgt, res = tmp_path / "sources", tmp_path / "targets", tmp_path / "otherapp"
    for d in (src, tgt, res):
        d.mkdir()
    shutil.copy(sample("astronaut.png"), src)
    shutil.copy(sample("grace_hopper.jpg"), tgt)
    still = cv2.resize(grace, (256, 300), interpolation=cv2.INTER_AREA)
    write_video(tgt / "still.mp4", [still] * 24)
    cv2.imwrite(str(res / "astronaut_to_grace_hopper.jpg"), opencv_face_paste(astronaut, grace, analyzer))
    pasted = opencv_face_paste(astronaut, still, analyzer)
    shifts = np.random.default_rng(5).normal(0.0, 1.5, (24, 2))
    added = float(np.sqrt((np.diff(shifts, axis=0) ** 2).sum(1).mean() / 2.0))
    jittery = [
        cv2.warpAffine(pasted, np.float32([[1, 0, dx], [0, 1, dy]]), (256, 300), borderMode=cv2.BORDER_REFLECT)
        for dx, dy in shifts
    ]
    write_video(res / "astronaut_to_still.mp4", jittery)
    report = tmp_path / "report"
    code, _, err = run(capsys, "--sources", src, "--targets", tgt, "--results", res, "-o", report, "-q")
    assert code == 0, err
    pairs = {Path(p["target"]).name: p for p in strict_json(report / "metrics.json")["pairs"]}
    assert {p["label"] for p in pairs.values()} == {"otherapp"}
    photo, video = pairs["grace_hopper.jpg"]["metrics"], pairs["still.mp4"]["metrics"]
    assert photo["verdict_dlib"] in ("source", "neither") and "seam" in photo
    assert video["jitter"] == pytest.approx(added, rel=0.2)
    assert video["show_through"] == 0.0
    # a second program's results, listed in a pairs.csv, into the same report: both columns are reported
    (res / "a.jpg").write_bytes((res / "astronaut_to_grace_hopper.jpg").read_bytes())
    (res / "pairs.csv").write_text("source,target,result\nastronaut.png,grace_hopper.jpg,a.jpg\n")
    argv = ("--sources", src, "--targets", tgt, "--results", res, "--label", "csvcopy", "-o", report, "-q")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "(1 of 1 pairs scored)" in out
    doc = strict_json(report / "metrics.json")
    assert list(doc["summary"]) == ["csvcopy", "otherapp"]
    assert [Path(p["output"]).name for p in doc["pairs"] if p["label"] == "csvcopy"] == ["a.jpg"]


def test_bad_input_is_one_line(tmp_path: Path, folders, capsys, monkeypatch) -> None:
    src, tgt = folders
    code, _, err = run(capsys, "--sources", tmp_path / "nope", "--targets", tgt, "-o", tmp_path / "r")
    assert code == 1 and err.strip() == f"ghostlive: error: {tmp_path / 'nope'}: no such folder"
    photo = next(Path(src).iterdir())  # a photo where a folder is expected: said so, not "no such folder"
    code, _, err = run(capsys, "--sources", photo, "--targets", tgt, "-o", tmp_path / "r")
    assert code == 1 and err.strip().startswith(f"ghostlive: error: {photo}: is a file; give the folder")
    code, _, err = run(capsys, "--sources", src, "--targets", tgt, "--swapper", "classic,magic", "-o", tmp_path / "r")
    assert code == 1 and "unknown swapper(s) magic" in err and "Traceback" not in err
    code, _, err = run(capsys, "--sources", src, "--targets", tgt, "-o", tgt)
    assert code == 1 and err.strip().endswith(f"{tgt}: is an input folder; choose another folder for the report")
    monkeypatch.setenv("GHOSTLIVE_HOME", str(tmp_path / "home"))
    code, _, err = run(capsys, "--sources", src, "--targets", tgt, "--swapper", "ghost-2", "-o", tmp_path / "r")
    assert code == 1 and "ghost-2 swapper needs" in err and "ghostlive models download ghost-2" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing made, no empty folder for it
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "--sources", src, "--targets", tgt, "--results", empty, "-o", tmp_path / "r")
    assert code == 1 and "holds no SOURCE_to_TARGET.EXT results" in err


def test_every_pair_skipped_says_why_and_leaves_no_folder(tmp_path: Path, capsys) -> None:
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(sample("grace_hopper.jpg"), one)
    shutil.copy(sample("grace_hopper.jpg"), one / "grace_hopper.png")  # another file, the same name
    code, out, err = run(capsys, "--sources", one, "--targets", one, "-o", tmp_path / "r")
    assert code == 1 and out == ""
    assert err.strip() == (
        "ghostlive: error: no pairs to score: every source and target is named 'grace_hopper', and files that share "
        "a name count as the same person (never swapped onto each other); add other people's photos to the targets"
    )
    assert not (tmp_path / "r").exists()


def test_pairs_whose_names_meet_are_refused(tmp_path: Path) -> None:
    src, tgt = tmp_path / "s", tmp_path / "t"
    src.mkdir()
    tgt.mkdir()
    shutil.copy(sample("grace_hopper.jpg"), src / "a_to_b.jpg")
    shutil.copy(sample("astronaut.png"), src / "a.png")
    shutil.copy(DATA / "messi5.jpg", tgt / "c.jpg")
    shutil.copy(DATA / "cameraman_gray.png", tgt / "b_to_c.png")
    with pytest.raises(InvalidInputError, match=r"would both be named a_to_b_to_c; rename one"):
        pairs.swap_tasks(pairs.list_media(src), pairs.list_media(tgt), ["classic"], tmp_path / "r")


def test_a_results_table_names_inputs_by_file_name_and_skips_missing_files(tmp_path: Path, caplog) -> None:
    src, tgt, res = tmp_path / "s", tmp_path / "t", tmp_path / "res"
    for d in (src, tgt, res):
        d.mkdir()
    shutil.copy(sample("grace_hopper.jpg"), src / "face.jpg")
    shutil.copy(sample("astronaut.png"), src / "face.png")
    shutil.copy(DATA / "messi5.jpg", tgt / "photo.jpg")
    shutil.copy(DATA / "messi5.jpg", res / "a.jpg")
    rows = ["face.png,photo.jpg,a.jpg", "face.jpg,photo.jpg,gone.jpg", "face,photo.jpg,a.jpg"]
    (res / "pairs.csv").write_text("source,target,result\n" + "\n".join(rows) + "\n")
    tasks = pairs.result_tasks(res, pairs.list_media(src, videos=False), pairs.list_media(tgt), "other")
    assert [(t.source.path.name, t.target.path.name, t.result.name) for t in tasks] == [
        ("face.png", "photo.jpg", "a.jpg")
    ]
    assert f"{res / 'gone.jpg'}: no such file" in caplog.text
    assert "source 'face' could be any of face.jpg, face.png" in caplog.text


@pytest.mark.slow
def test_inputs_that_share_a_stem_keep_their_own_files(tmp_path: Path, capsys, caplog) -> None:
    """face.jpg and face.png are two people, photo.jpg and photo.png two photos: four pairs, each with its own
    output, record, montage and anchor; a bad target is named once; a rerun resumes; the outputs can be scored
    again as another program's results."""
    src, tgt, res = tmp_path / "sources", tmp_path / "targets", tmp_path / "res"
    for d in (src, tgt, res):
        d.mkdir()
    shutil.copy(sample("grace_hopper.jpg"), src / "face.jpg")
    shutil.copy(sample("astronaut.png"), src / "face.png")
    shutil.copy(DATA / "messi5.jpg", tgt / "photo.jpg")
    shutil.copy(DATA / "cameraman_gray.png", tgt / "photo.png")
    (tgt / "notes.jpg").write_text("not a photo")
    report = tmp_path / "report"
    with caplog.at_level(logging.WARNING):
        code, out, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 0 and "(4 of 6 pairs scored)" in out
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "notes.jpg" in r.getMessage()]
    assert len(warned) == 1 and warned[0].count("notes.jpg") == 1, warned
    with (report / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    assert len({r["output"] for r in rows}) == 4
    for r in rows:  # each output is its own target's swap
        assert cv2.imread(r["output"]).shape == cv2.imread(r["target"]).shape
        assert Path(r["output"]).name == f"{Path(r['source']).name}_to_{Path(r['target']).name}.png"
    assert len(list((report / "pairs" / "classic").glob("*.json"))) == 6
    doc = strict_json(report / "metrics.json")
    retrieval, hits = doc["summary"]["classic"]["retrieval_dlib"], [float(r["retrieval_dlib"]) for r in rows]
    assert retrieval["mean"] == retrieval["pass"] == pytest.approx(100 * np.mean(hits))  # all in %
    assert doc["metrics"]["outside_change"]["unit"] == "%"
    html = (report / "report.html").read_text()
    ids = re.findall(r"<h3 id='([^']+)'", html)
    assert len(ids) == len(set(ids)) == 6 and len(set(re.findall(r"<img src='(montages/[^']+)'", html))) == 6
    assert set(re.findall(r"href='#([^']+)'", html)) <= set(ids)
    assert "<td style='text-align:left'>% · pixels</td>" in html
    stamps = {p: p.stat().st_mtime_ns for p in (report / "pairs").rglob("*.json")}
    code, _, _ = run(capsys, "--sources", src, "--targets", tgt, "-o", report, "-q")
    assert code == 0 and {p: p.stat().st_mtime_ns for p in (report / "pairs").rglob("*.json")} == stamps
    shutil.copy(report / "outputs" / "classic" / "face.png_to_photo.jpg.png", res)
    shutil.copy(res / "face.png_to_photo.jpg.png", res / "face_to_photo.jpg.png")
    shutil.copy(res / "face.png_to_photo.jpg.png", res / "face.png_to_nobody.png")
    caplog.clear()
    code, out, _ = run(capsys, "--sources", src, "--targets", tgt, "--results", res, "-o", tmp_path / "r2", "-q")
    assert code == 0 and "(1 of 1 pairs scored)" in out
    assert f"no target 'nobody' in {tgt}" in caplog.text and "no source" not in caplog.text
    assert "source 'face' could be any of face.jpg, face.png" in caplog.text
