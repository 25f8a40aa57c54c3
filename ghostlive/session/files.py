"""File jobs of :class:`ghostlive.session.Session`: a photo, a folder of photos or a video, checked before any
model loads (``ghostlive swap`` and the window's Files tab run this one function)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ghostlive.jobs import (
    Job,
    PairSpec,
    SwapSettings,
    check_video_job,
    folder_plan,
    run_folder,
    run_image,
    run_video,
    target_kind,
)
from ghostlive.media.image import check_output_path
from ghostlive.media.paths import check_sinks
from ghostlive.pipeline.frame import FrameResult
from ghostlive.pipeline.offline import Progress, VideoReport
from ghostlive.threads import apply_plan, plan_threads


@dataclass
class FileResult:
    """What a file job wrote: ``kind`` is 'image', 'video' or 'folder'; one of ``image``/``video`` is set for the
    first two; a folder counts the photos ``written`` and the ``problems`` (``"NAME: reason"``)."""

    kind: str
    output: Path
    image: FrameResult | None = None
    video: VideoReport | None = None
    written: int = 0
    problems: list[str] = field(default_factory=list)


def job_inputs(target: str, pairs: list[PairSpec]) -> tuple[str, ...]:
    """Every file the job reads: an output may be none of them."""
    return (target, *(p.source for p in pairs), *(p.reference for p in pairs if p.reference))


def run_file(
    settings: SwapSettings,
    pairs: list[PairSpec],
    target: str,
    output: str | Path,
    *,
    video_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    report: Callable[[int, int, str], None] | None = None,
    job: Callable[[SwapSettings, list[PairSpec]], Job] = Job,
) -> FileResult:
    """Swap ``target`` (photo, video or folder, judged by :func:`target_kind`) into ``output``. The outputs are
    checked before ``job`` builds the models; ``report(done, total, text)`` hears of photos and folders,
    ``video_progress`` of video frames; ``stop`` ends a video early (nothing is left half-written)."""
    inputs = job_inputs(target, pairs)
    kind = target_kind(target)
    if kind == "image":
        check_output_path(output, inputs)
    elif kind == "folder":  # every photo's output against every input, before the models load
        folder_plan(target, output, inputs)
    elif kind == "video":
        check_sinks([output], inputs)
        check_video_job(target, output)
        apply_plan(plan_threads("video"))  # before the models open: their sessions take the plan's threads
    built = job(settings, pairs)
    if kind == "folder":
        written, problems = run_folder(built, target, output, inputs=inputs[1:])
        if report:
            report(written, written, "; ".join(problems))
        return FileResult(kind, Path(output), written=written, problems=problems)
    if kind == "video":
        video = run_video(built, target, output, progress=video_progress, stop=stop)
        return FileResult(kind, video.output, video=video)
    result = run_image(built, target, output, inputs)
    if report:
        report(1, 1, "")
    return FileResult(kind, Path(output), image=result)
