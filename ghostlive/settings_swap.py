"""The swap settings (face selection, models, tracking, video, classic quality, masks, enhancer), each declared
once; see :mod:`ghostlive.settings`. Choices are lookups, so a registry's names are read when needed."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ghostlive.cli_args import MAX_TILES, choice, feathers, names, padding, pair, regions
from ghostlive.settings_spec import Setting

S, L, B, G, E = "swap", "live", "bench", "gui", "eval"
SELECT, VIDEO, QUALITY = "face selection", "video", "classic swapper quality"
MASKS_GROUP, ENHANCE_GROUP = "masks (combined with every swapper's own mask)", "face enhancer"


def _detectors() -> Sequence[str]:
    from ghostlive.faces import DETECTORS

    return DETECTORS


def _embedders() -> Sequence[str]:
    from ghostlive.swappers.embedders import EMBEDDER_CHOICES

    return EMBEDDER_CHOICES


def _backends() -> Sequence[str]:
    from ghostlive.engines.registry import backend_choices

    return backend_choices()


def _cpu_precisions() -> Sequence[str]:
    from ghostlive.engines.int8 import PRECISIONS

    return PRECISIONS


def _gui_backends() -> Sequence[str]:
    from ghostlive.engines.registry import BACKENDS

    return ("auto", *BACKENDS)


def _devices() -> Sequence[str]:
    from ghostlive.xp import DEVICES

    return DEVICES


def _swappers() -> Sequence[str]:
    from ghostlive.swappers.factory import swapper_names

    return swapper_names()


def _swapper(text: str) -> str:
    from ghostlive.models.personal import swapper_choice

    return swapper_choice(text)


def _presets() -> Sequence[str]:
    from ghostlive.media.video_out import PRESETS

    return PRESETS


def _colors() -> Sequence[str]:
    from ghostlive.ops.color import COLOR_MODES

    return COLOR_MODES


def _keep_regions() -> Sequence[str]:
    from ghostlive.types import KEEP_REGIONS

    return KEEP_REGIONS


def _masks() -> Sequence[str]:
    from ghostlive.masking.options import MASKS

    return MASKS


def _parser_regions() -> Sequence[str]:
    from ghostlive.models.masks import PARSER_REGIONS

    return tuple(PARSER_REGIONS)


def _feather_masks() -> Sequence[str]:
    from ghostlive.masking.mesh import DEFAULT_FEATHER

    return tuple(DEFAULT_FEATHER)


def _restorers() -> Sequence[str]:
    from ghostlive.enhance import ENHANCERS

    return ENHANCERS.names()


def _name_list(parse: Callable[[str], tuple[str, ...]], none: bool = False) -> Callable[[str], tuple[str, ...]]:
    """``parse`` (a comma-separated list of names) made the same for every list option: names in any case,
    duplicates folded, an empty value refused (with ``none``: ``none`` alone means no names)."""

    def wrapped(text: str) -> tuple[str, ...]:
        if not text.replace(",", "").strip():
            hint = "give none to choose nothing, or " if none else "give "
            raise argparse.ArgumentTypeError(f"empty list {text!r}; {hint}comma-separated names")
        lowered = text.lower()
        if none and [v.strip() for v in lowered.split(",") if v.strip()] == ["none"]:
            return ()
        return parse(lowered)

    return wrapped


_DEFAULT_REGIONS = ("skin", "brows", "eyes", "glasses", "nose", "mouth", "lips")
FILES, LIVE_ALL = (S, L), (S, L, G)

SWAP_SETTINGS: tuple[Setting, ...] = (
    Setting("faces", str, "all", "which target faces to swap (default: all); first: the first frame's best-detected "
            "face; a later frame with one face swaps it, whoever it is, with several the one most like that first "
            "face (GHOST's behaviour without a reference)", LIVE_ALL, SELECT,
            choices=("all", "largest", "index", "reference", "first"), label="Swap",
            per={G: {"choices": ("all", "largest", "reference")}}),
    Setting("face_index", int, 0, "swap only the face at this place, 0 = leftmost; in a video or live it is picked "
            "again on every frame, so it follows the place, not the person (sets --faces index)", FILES,
            SELECT, lo=0),
    Setting("reference_photos", list, [], "with --faces reference: swap the face most like the one in IMAGE "
            "(repeatable)", LIVE_ALL, SELECT, flags=("--reference",), dest="reference", action="append",
            metavar="IMAGE"),
    Setting("similarity", float, None, "with --faces reference: minimum similarity (default: the matcher's own)",
            LIVE_ALL, SELECT, lo=-1.0, hi=1.0, optional=True, unit="%", scale=100, slider=True,
            per={G: {"default": 0.88, "lo": 0.5, "hi": 0.99, "optional": False}}),
    Setting("pair", list, [], "paste FACE onto the person shown in REFERENCE (repeatable: several people at once)",
            FILES, SELECT, action="append", parse=pair, metavar="FACE=REFERENCE"),
    Setting("source_face", int, None, "face in the source image (default: largest)", FILES, SELECT, lo=0,
            optional=True),
    Setting("detector", str, "auto", "face detector: BlazeFace (blazeface = full, short, both: built in) or scrfd "
            "(installed); auto (default): scrfd when installed (small, turned and partly hidden faces; the neural "
            "swappers were trained on its keypoints), else blazeface", FILES, SELECT, choices=_detectors),
    Setting("embedder", str, "auto", "identity model for --reference/--pair matching: arcface-w600k, arcface-ghost "
            "(installed) or lbp (built in); auto (default): the neural swapper's own ArcFace, else the best "
            "installed, else lbp", FILES, SELECT, choices=_embedders),
    Setting("tiles", int, 2, "detection passes over magnified tiles for small faces, chosen from the image size "
            "(0 = off)", (S, L, B, E), SELECT, lo=0, hi=MAX_TILES, metavar="N",
            per={L: {"default": 0}, B: {"default": 0, "group": "", "help": "small-face tiles as for swap (faces from "
                 "20 px; default 0 = off, the live setting)"},
                 E: {"group": "", "metavar": None, "help": "small-face tiles for the swaps (0 = off)"}}),
    Setting("min_face", int, 20, "smallest face the tiles look for (default 20)", FILES, SELECT, lo=1, metavar="PX",
            unit="px"),
    Setting("swapper", str, "classic", "classic (built in), a neural model you installed (see: ghostlive models "
            "list) or a personal one", (S, L, B, G), SELECT, choices=_swappers, parse=_swapper,
            per={B: {"group": "", "help": "swapper for the per-stage table (default classic; ghost-N not installed: "
                 "untrained export)"}}),
    Setting("codec", str, "", "video encoder (default: libx264, libvpx-vp9 for .webm)", FILES, VIDEO),
    Setting("crf", int, None, "quality, lower is better (default: x264 18, VP9 31, SVT-AV1 35)", FILES, VIDEO,
            lo=0, hi=63, optional=True),
    Setting("preset", str, "medium", "x264/x265 speed preset, ultrafast … placebo (default medium)", FILES, VIDEO,
            choices=_presets, parse=choice(_presets, "x264 preset"),
            per={c: {"default": "veryfast", "help": "x264/x265 speed preset, ultrafast … placebo (default veryfast: "
                     "the encoder shares the CPU with the live loop)"} for c in (L, G)}),
    Setting("smoothing", float, 1.0, "landmark smoothing: the One-Euro filter's minimum cutoff in Hz, lower is "
            "smoother (default %(default)s; 0 = off)", LIVE_ALL, VIDEO, lo=0.0, hi=5.0, unit="Hz", step=0.1,
            metavar="HZ", off_flag="--no-smoothing",
            off_help="turn off landmark smoothing"),
    Setting("max_gap", int, 5, "frames a lost face is held before it ends (default 5)", FILES, VIDEO, lo=0,
            unit="frames"),
    Setting("detect_every", int, 1, "run the detector every N frames (default %(default)s)", FILES, VIDEO, lo=1,
            unit="frames", per={L: {"default": 3}}),
    Setting("label", str, "", "burn a visible label into every frame, e.g. 'AI-generated'", FILES, VIDEO),
    Setting("quiet", bool, False, "no progress display", FILES, VIDEO, flags=("-q", "--quiet")),
    Setting("backend", str, "auto", "inference backend for neural swappers (default auto: TensorRT → ORT CUDA → "
            "torch CUDA → ORT CPU)", (S, L, B, G), SELECT, choices=_backends,
            per={B: {"group": "", "choices": lambda: ("auto", "all", *_backends()[1:]), "help": "backend for neural "
                     "models (all: each backend present in turn; default auto)"}, G: {"choices": _gui_backends}}),
    Setting("cpu_precision", str, "auto", "GHOST generator on the ONNX Runtime CPU backend: auto (int8 where "
            "'ghostlive models optimise' found it keeps identity and is faster on this machine), fp32, or int8 "
            "(refused where it did not keep identity)", (S, L, G), SELECT, choices=_cpu_precisions,
            label="CPU precision"),
    Setting("device", str, "auto", "where frames are processed: auto (the GPU when CuPy can use one), cpu, or cuda",
            (S, L, B, G), SELECT, choices=_devices, label="Frames on",
            per={B: {"group": "", "choices": lambda: (*_devices(), "portable"), "help": "where frames are processed "
                     "(portable: the GPU code path on numpy, to check it on a CPU)"}}),
    Setting("blend", float, 1.0, "0 = target only … 1 = full swap (default 1)", LIVE_ALL, QUALITY, lo=0.0, hi=1.0,
            unit="%", scale=100, slider=True),
    Setting("feather", float, 0.035, "mask edge softness, fraction of face width", LIVE_ALL, QUALITY, lo=0.0,
            hi=0.2, lo_open=True, unit="‰", scale=1000, slider=True, label="Mask feather",
            per={G: {"lo": 0.005, "hi": 0.15, "lo_open": False}}),
    Setting("shape", float, 0.7, "classic swapper: how far the target's eyes, brows and nose move toward the "
            "source's proportions (0 = the target's geometry, 1 = the source's)", FILES, QUALITY, lo=0.0, hi=1.0),
    Setting("color", str, "lowfreq", "colour/lighting transfer", LIVE_ALL, QUALITY, choices=_colors, label="Colour"),
    Setting("keep", tuple, ("mouth",), "target regions to keep, comma-separated from mouth,eyes,brows or 'none'",
            LIVE_ALL, QUALITY, choices=_keep_regions, parse=_name_list(regions(_keep_regions), none=True)),
    Setting("mask", tuple, (), "comma-separated: occlusion (keeps hands etc. in front of the face; needs the "
            "occluder model), parser (swaps only --regions; needs the parser model), mouth, lips, eyes (keep the "
            "target's own), box (the face box grown by --mask-padding), or none", (S, L, B, G), MASKS_GROUP,
            choices=_masks, parse=_name_list(names(_masks, "mask"), none=True), label="Masks"),
    Setting("regions", tuple, _DEFAULT_REGIONS, f"face-parser regions to swap with --mask parser (default "
            f"{','.join(_DEFAULT_REGIONS)})", (S, L, B, G), MASKS_GROUP, choices=_parser_regions,
            parse=_name_list(names(_parser_regions, "region")), label="Parser regions", min_items=1),
    Setting("mask_feather", dict, {}, "per-mask edge softness, e.g. mouth=0.03,box=0.08", (S, L, B), MASKS_GROUP,
            parse=feathers(_feather_masks)),
    Setting("mask_padding", tuple, (0.1, 0.1, 0.1, 0.1), "box growth: f or t,r,b,l", (S, L, B), MASKS_GROUP,
            parse=padding),
    Setting("show_mask", bool, False, "show the combined mask in green over the output", (S, L, B, G), MASKS_GROUP,
            label="Show the combined mask"),
    Setting("enhancer", str, "", "restore each swapped face with it", (S, L, B, G), ENHANCE_GROUP,
            choices=_restorers),
    Setting("enhance_blend", float, 0.8, "0 = swap only … 1 = restorer", (S, L, B, G), ENHANCE_GROUP, lo=0.0,
            hi=1.0, unit="%", scale=100, slider=True),
    Setting("enhance_fidelity", float, 1.0, "CodeFormer: 0 = quality … 1 = identity", (S, L, B), ENHANCE_GROUP,
            lo=0.0, hi=1.0),
    Setting("enhance_budget", float, None, "restorer ms allowed per face per frame; a slower restorer runs every "
            "k-th frame of each face, its last result following the face in between (0: every frame; default: "
            "every frame in files, half a frame period live)", (S, L, B), ENHANCE_GROUP, lo=0.0, optional=True,
            metavar="MS", unit="ms"),
)
