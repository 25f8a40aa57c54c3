"""``ghostlive bench --live``: the threaded live loop on a paced file camera, with the thread plan, CPU time per
frame per thread and per stage (meaningful even on a busy machine, unlike frames per second), a JSON record
(``--save``) and ratios against an earlier record (``--compare``)."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from ghostlive.errors import ConfigError, InputNotFoundError, OutputError
from ghostlive.threads import ThreadPlan

THREAD_GROUPS = {
    "ghostlive-capture": "capture",
    "ghostlive-track": "swap",
    "ghostlive-swap": "swap",
    "ghostlive-sink": "sink",
}
"""Live-loop threads by name; every other thread of the process (model pools, OpenCV, FFmpeg) is ``pools``. The
frame's processing counts as ``swap`` whether one thread does it or two (track and swap), so records saved
before the two threads compare; the per-stage CPU figures tell tracking from swapping."""


def thread_cpu_ms() -> dict[int, float]:
    """CPU milliseconds used so far by each thread of this process, by native thread id (Linux; {} elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, float] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        out[int(tid)] = (int(fields[11]) + int(fields[12])) * 1000.0 / tick  # utime + stime
    return out


def cpu_by_group(before: dict[int, float], after: dict[int, float]) -> dict[str, float]:
    """CPU milliseconds between two :func:`thread_cpu_ms` samples, summed per live-loop thread group."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    groups: dict[str, float] = defaultdict(float)
    for tid, ms in after.items():
        groups[THREAD_GROUPS.get(names.get(tid, ""), "pools")] += ms - before.get(tid, 0.0)
    return dict(groups)


def measure(pipe: Any, seconds: float, warmup: float = 1.5) -> dict[str, Any]:
    """Run the started live ``pipe`` for ``warmup`` + ``seconds``; one record of what it did in ``seconds``."""
    time.sleep(warmup)
    t0, c0, d0 = thread_cpu_ms(), time.process_time(), pipe.stats().delivered
    time.sleep(seconds)
    t1, c1, s = thread_cpu_ms(), time.process_time(), pipe.stats()
    frames = max(s.delivered - d0, 1)
    per_frame = {k: v / frames for k, v in cpu_by_group(t0, t1).items()}
    per_frame["process"] = (c1 - c0) * 1000.0 / frames
    return {
        "fps": s.fps,
        "p50_ms": s.latency_p50,
        "p95_ms": s.latency_p95,
        "dropped": s.drop_rate,
        "stages_ms": s.stages,
        "stages_cpu_ms": s.stages_cpu,
        "cpu_ms_per_frame": per_frame,
    }


def check_record_paths(save: str | None, compare: str | None) -> dict[str, Any] | None:
    """Before anything is measured: the ``--compare`` record read (a clear error when it is missing or not one)
    and the ``--save`` folder proven writable, so a bad path never costs the user a finished measurement."""
    previous = load_record(compare) if compare else None
    if save:
        from ghostlive.pipeline.offline import claim_output

        out = Path(save)
        if out.is_dir():
            raise OutputError("is a folder; --save takes a file name, e.g. run.json", out)
        claim_output(out).unlink()
    return previous


def bench_live(
    sizes: list[tuple[int, int]],
    seconds: float,
    plan: ThreadPlan,
    save: str | None = None,
    compare: str | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The live loop on a 30 fps file camera (paced like a webcam) per frame size; prints a table, saves and
    compares JSON records (``previous``: the ``--compare`` record, read and the ``--save`` folder checked by
    :func:`check_record_paths` before anything was measured). Returns the record."""
    from ghostlive.bench_video import make_clip
    from ghostlive.faces import asset_path
    from ghostlive.jobs import Job, PairSpec
    from ghostlive.media.image import read_image
    from ghostlive.media.sinks import NullSink
    from ghostlive.media.sources import FileCamera
    from ghostlive.pipeline.live import LivePipeline
    from ghostlive.settings import swap_settings

    photo = read_image(asset_path("samples/astronaut.png")).bgr
    job = Job(swap_settings({}, "live"), [PairSpec(asset_path("samples/grace_hopper.jpg"))])
    print(f"\nlive loop, 30 fps file camera, classic swapper, detector every 3rd frame, {seconds:.0f} s per size")
    print(plan.line())
    print(
        f"{'frame':>10} {'fps':>6} {'p50 ms':>7} {'p95 ms':>7} {'dropped':>8} {'track':>6} {'swap':>6} "
        f"{'blend':>6} | CPU ms/frame: {'track':>6} {'swap':>6} {'capture':>8} {'pools':>6} {'process':>8}"
    )
    record: dict[str, Any] = {"plan": plan.as_dict(), "seconds": seconds, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for w, h in sizes:
            clip = f"{tmp}/cam_{w}x{h}.mp4"
            make_clip(clip, photo, (w, h), 90)
            pipe = LivePipeline(lambda clip=clip: FileCamera(clip), job.stream(), [NullSink()])
            pipe.start()
            try:
                run = measure(pipe, seconds)
            finally:
                pipe.stop()
            record["sizes"][f"{w}x{h}"] = run
            print(_row(f"{w:>5}x{h:<4}", run))
    if save:
        _save(save, record)
    if previous is not None:
        print_comparison(record, previous, compare or "")
    return record


def _row(label: str, run: dict[str, Any]) -> str:
    st, cpu, cst = run["stages_ms"], run["cpu_ms_per_frame"], run["stages_cpu_ms"]
    return (
        f"{label} {run['fps']:6.1f} {run['p50_ms']:7.1f} {run['p95_ms']:7.1f} {100 * run['dropped']:7.1f}% "
        f"{st.get('track', 0):6.1f} {st.get('swap', 0):6.1f} {st.get('blend', 0):6.1f} | {'':>13} "
        f"{cst.get('track', 0):6.1f} {cst.get('swap', 0):6.1f} {cpu.get('capture', 0):8.1f} "
        f"{cpu.get('pools', 0):6.1f} {cpu.get('process', 0):8.1f}"
    )


def _save(path: str, record: dict[str, Any]) -> None:
    from ghostlive.media.paths import atomic_write_bytes

    try:
        atomic_write_bytes(Path(path), json.dumps(record, indent=2).encode())
    except OSError as exc:  # the folder was fine when the run began (check_record_paths)
        raise OutputError(f"cannot save the record ({exc.strerror or exc})", path) from None
    print(f"saved {path}")


def load_record(path: str) -> dict[str, Any]:
    """A record written by ``--save``; a clear error when it is missing or not one."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a bench --live record")
    if not p.is_file():
        raise InputNotFoundError("no such bench record", p)
    try:
        record = json.loads(p.read_text())
        if not isinstance(record.get("sizes"), dict):
            raise ValueError("no 'sizes'")
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not a bench --live record ({exc})") from None
    return record


def ratios(new: dict[str, Any], old: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per frame size in both records: new ÷ old for fps, latency and every CPU-time figure (< 1 = less)."""
    out: dict[str, dict[str, float]] = {}
    for size, run in new["sizes"].items():
        before = old["sizes"].get(size)
        if before is None:
            continue
        pairs = {k: (run[k], before.get(k)) for k in ("fps", "p50_ms", "p95_ms")}
        for group in ("cpu_ms_per_frame", "stages_cpu_ms"):
            prefix = "cpu " if group == "cpu_ms_per_frame" else "stage cpu "
            for k, v in run[group].items():
                pairs[prefix + k] = (v, before.get(group, {}).get(k))
        out[size] = {k: a / b for k, (a, b) in pairs.items() if isinstance(b, (int, float)) and b > 0}
    return out


def print_comparison(new: dict[str, Any], old: dict[str, Any], label: str) -> None:
    print(f"\ncompared with {label} (new ÷ old; same machine only)")
    for size, r in ratios(new, old).items():
        print(f"{size:>10} " + ", ".join(f"{k} {v:.2f}×" for k, v in r.items()))
