"""Photo, folder and video jobs: what the CLI and the GUI run, with one set of settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from ghostlive.enhance import EnhanceOptions, build_restorer, with_enhancer
from ghostlive.errors import ConfigError, InvalidInputError, NoFaceError, OutputError
from ghostlive.faces import Embedder, FaceAnalyzer, TargetSelection
from ghostlive.hub import ModelStore, has_models_folder
from ghostlive.masking.combine import with_masks
from ghostlive.masking.options import MaskOptions, build_providers
from ghostlive.media.image import WRITABLE, LoadedImage, check_output_path, read_image, write_image
from ghostlive.media.paths import check_sinks
from ghostlive.media.video import VIDEO_SUFFIXES
from ghostlive.media.video_out import EncodeOptions
from ghostlive.pipeline.chain import FrameProcessor, Pair
from ghostlive.pipeline.face_choice import explain_no_swap as explain_photo
from ghostlive.pipeline.face_choice import explain_video_no_swap, reference_face
from ghostlive.pipeline.frame import FrameDevice, FrameResult
from ghostlive.pipeline.offline import Progress, VideoReport, claim_output, swap_video
from ghostlive.pipeline.photo_folder import (  # folder_plan, folder_summary: the session's and the CLI's names
    AUDIO_SUFFIXES,
    folder_plan,  # noqa: F401
    folder_summary,  # noqa: F401
    plan_folder,
)
from ghostlive.settings import default
from ghostlive.swappers.base import Swapper
from ghostlive.swappers.classic import ClassicOptions
from ghostlive.swappers.embedders import choose_embedder
from ghostlive.swappers.factory import build_swapper, keypoint_detector
from ghostlive.threads import apply_plan, plan_threads, release_freed_memory
from ghostlive.tracking import TrackerOptions
from ghostlive.types import Embedding, Face, Frame, TargetMode

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = set(WRITABLE) | {".gif"}


@dataclass(frozen=True)
class PairSpec:
    """A source photo, and optionally a reference photo of the target person it should replace."""

    source: str
    reference: str | None = None


@dataclass(frozen=True)
class SwapSettings:
    """What a swap job is told; the defaults are the photo and video files' ones in the settings schema
    (:mod:`ghostlive.settings`, which also builds one from setting values: ``swap_settings``)."""

    swapper: str = default("swapper")
    backend: str = default("backend")
    cpu_precision: str = default("cpu_precision")
    """The GHOST generator's precision on ONNX Runtime's CPU backend: auto, fp32 or int8."""
    device: str = default("device")
    """Where frames are processed: auto (the GPU when CuPy can use one), cpu or cuda."""
    classic: ClassicOptions = field(default_factory=ClassicOptions)
    detector: str = default("detector")
    embedder: str = default("embedder")
    """Identity model for reference matching: auto (the swapper's own, else the best installed) or a name of
    :data:`ghostlive.swappers.embedders.EMBEDDERS`."""
    tiles: int = default("tiles")
    """0: no small-face tiles (one whole-frame detector pass); otherwise tiles chosen from the image size."""
    min_face: int = default("min_face")
    """Smallest face (px) the tiles look for (see :func:`ghostlive.faces.tiles`)."""
    faces: TargetMode = default("faces")  # noqa: RUF009 - a str
    face_index: int = default("face_index")
    similarity: float | None = default("similarity")
    source_face: int | None = default("source_face")
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    label: str = default("label")
    masks: MaskOptions = field(default_factory=MaskOptions)
    enhance: EnhanceOptions = field(default_factory=EnhanceOptions)


def make_analyzer(settings: SwapSettings, store: ModelStore | None = None) -> FaceAnalyzer:
    """The face analyzer for ``settings``: with detector ``auto``, SCRFD when it is installed (the neural
    swappers' models were trained on its keypoints; a warning says what is lost when it is not), else BlazeFace
    full; ``scrfd`` requires an installed SCRFD model."""
    detector = settings.detector
    scrfd = None
    neural = settings.swapper != "classic"
    if detector == "scrfd" or (detector == "auto" and (neural or store is not None or has_models_folder())):
        store = store or ModelStore()
        scrfd = keypoint_detector(settings.swapper, store, settings.backend, warn=detector == "auto")
        if scrfd is None and detector == "scrfd":
            raise ConfigError("--detector scrfd needs an installed SCRFD model; run: ghostlive models download scrfd")
    kind = "scrfd" if scrfd is not None else ("full" if detector in ("auto", "blazeface") else detector)
    return FaceAnalyzer(kind, tile_levels=settings.tiles, min_face=settings.min_face, scrfd=scrfd)  # type: ignore[arg-type]


def with_stages(swapper: Swapper, settings: SwapSettings, store: ModelStore | None = None) -> Swapper:
    """``swapper`` with the enhancer and extra masks that ``settings`` ask for (the masks apply over the
    restored face), their models from ``store`` (default: the user's); missing models are errors naming the
    command that installs them."""
    restorer = build_restorer(settings.enhance, store, backend=settings.backend)
    masks = settings.masks
    swapper = with_enhancer(swapper, restorer, settings.enhance)
    return with_masks(swapper, build_providers(masks, store, backend=settings.backend), masks.show)


def target_kind(path: str | Path) -> str:
    """'folder', 'video' or 'image', judged by the path."""
    p = Path(path)
    if p.is_dir():
        return "folder"
    return "video" if p.suffix.lower() in VIDEO_SUFFIXES | AUDIO_SUFFIXES else "image"


def check_video_job(target: str | Path, output: str | Path) -> Path:
    """Fail fast, before models load or frames are decoded: an audio file as the target, an output that is not a
    video, is a folder, would overwrite the input, or lies in a folder that is missing, unwritable or full."""
    src, out = Path(target), Path(output)
    if src.suffix.lower() in AUDIO_SUFFIXES:
        raise InvalidInputError("is an audio file: it has no video to swap faces in", src)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"a video needs a video output ({', '.join(sorted(VIDEO_SUFFIXES))})", out)
    if out.is_dir():
        raise OutputError("is a folder, not a file name", out)
    check_sinks([out], [src])
    claim_output(out).unlink()  # the folder takes a new file now; swap_video claims its own
    return out


class Job:
    """Everything a run needs, built once: analyzer, swapper, identities."""

    def __init__(
        self,
        settings: SwapSettings,
        pairs: list[PairSpec],
        swapper: Swapper | None = None,
        store: ModelStore | None = None,
    ) -> None:
        if not pairs:
            raise ConfigError("give a source face (--source FACE or --pair FACE=REFERENCE)")
        self.settings = settings
        mode = "reference" if any(p.reference for p in pairs) else settings.faces
        if mode == "reference" and not all(p.reference for p in pairs):
            raise ConfigError("with reference matching every source needs a reference photo (--pair FACE=REF)")
        built = swapper or build_swapper(
            settings.swapper, store, settings.classic, settings.backend, settings.cpu_precision
        )
        self.swapper = with_stages(built, settings, store)
        self.analyzer = make_analyzer(settings, store)
        # neural swappers choose faces with their own ArcFace (GHOST's rule); otherwise the best installed ArcFace,
        # else the built-in descriptor
        self.embedder: Embedder = choose_embedder(self.swapper, settings.embedder, store, settings.backend)
        self.device = FrameDevice(settings.device, host_first=getattr(self.swapper, "host_frames", False))
        self.pairs: list[Pair] = []
        self.sources: list[tuple[Frame, Face, Embedding | None]] = []
        """(image, face, reference) of each pair: what a new swapper needs to prepare the same identities."""
        finder = self.processor(TargetSelection(mode))
        for spec in pairs:
            src = read_image(spec.source).bgr
            face, source = finder.prepare(src, settings.source_face, spec.source)
            ref = None
            if spec.reference:
                img = read_image(spec.reference).bgr
                ref = self.embedder.embed(img, reference_face(self.analyzer, img, spec.reference))
            self.pairs.append(Pair(source, ref))
            self.sources.append((src, face, ref))
        refs = tuple(p.reference for p in self.pairs if p.reference is not None)
        self.selection = TargetSelection(mode, settings.face_index, refs, settings.similarity)

    def processor(self, selection: TargetSelection | None = None) -> FrameProcessor:
        """A fresh frame processor for this job: its analyzer, swapper, selection, embedder, device and pairs."""
        proc = FrameProcessor(
            self.analyzer,
            self.swapper,
            selection or self.selection,
            self.embedder,
            self.device,
            tracker=self.settings.tracker,
            label=self.settings.label,
        )
        if self.pairs:
            proc.set_pairs(self.pairs)
        return proc

    def stream(self) -> FrameProcessor:
        """A processor for a video or a camera: faces tracked from frame to frame."""
        return self.processor()

    def swap_image(self, image: LoadedImage) -> FrameResult:
        """One photo, a one-frame stream without memory: each reference picks its best face (photo semantics),
        or all/largest/index; with several pairs each face takes its best reference, as on a stream's first
        frame."""
        if len(self.pairs) == 1:
            return self.processor().process(image.bgr)
        return self.processor().process(image.bgr, 0.0)


def _threshold(job: Job) -> float:
    return job.selection.threshold or job.embedder.default_threshold


def explain_no_swap(result: FrameResult, job: Job, target: str) -> NoFaceError:
    return explain_photo(result, job.selection, _threshold(job), target)


def check_chosen(job: Job, target: str) -> Callable[[VideoReport, Frame | None], None]:
    """The check of a swapped video (see :func:`swap_video`): a video with no face in any frame, or in which the
    job's choice of face (``--reference``, ``--face-index``) found nobody, is an error that says why, as for a
    photo (no output is written)."""

    def check(report: VideoReport, busiest: Frame | None) -> None:
        if report.frames_with_faces:
            return
        photo = job.processor().process
        error = explain_video_no_swap(
            report.frames, report.most_faces, busiest, job.selection, _threshold(job), photo, target
        )
        if error is not None:
            raise error

    return check


def run_image(job: Job, target: str, output: str | Path, inputs: tuple[str, ...]) -> FrameResult:
    out = check_output_path(output, inputs)
    image = read_image(target)
    result = job.swap_image(image)
    if not result.swapped:
        raise explain_no_swap(result, job, target)
    write_image(out, result.frame, like=image)
    return result


def run_folder(
    job: Job,
    folder: str | Path,
    output: str | Path,
    report: Callable[[str], None] = log.info,
    inputs: tuple[str, ...] = (),
) -> tuple[int, list[str]]:
    """Swap every image in ``folder`` into the folder ``output`` (names from :func:`folder_plan`; what is not a
    photo is left out, said in one warning); no input is ever overwritten: neither the folder's photos nor
    ``inputs`` (the source and reference photos, which may lie in ``output``). ``output`` is created only when
    there are images to swap, and removed again when it was new and nothing was written. Returns (images written,
    problems), each problem as ``"NAME: reason"``."""
    plan, scan = plan_folder(folder, output, inputs)
    if scan.skipped:
        log.warning("%s: %s", folder, scan.skipped_note())
    dst = Path(output)
    created = not dst.exists()
    try:
        dst.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder ({exc.strerror or exc})", dst) from None
    written, problems = 0, []
    try:
        for i, (path, out) in enumerate(plan):
            try:
                run_image(job, str(path), out, (str(path), *inputs))
                written += 1
            except (InvalidInputError, NoFaceError) as exc:
                problems.append(f"{path.name}: {str(exc).removeprefix(f'{exc.path}: ')}")
            report(f"[{i + 1}/{len(plan)}] {path.name}")
    finally:
        if created and not written:
            with suppress(OSError):
                dst.rmdir()
    return written, problems


def run_video(
    job: Job,
    target: str,
    output: str | Path,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> VideoReport:
    out = check_video_job(target, output)
    apply_plan(plan_threads("video"))  # reader, swap and writer overlap: OpenCV, decoder and encoder share the cores
    try:
        settings = job.settings
        return swap_video(
            target, out, job.stream(), encode=settings.encode, progress=progress, stop=stop,
            check=check_chosen(job, target),
        )
    finally:
        release_freed_memory()
