"""Known neural models: where they come from, what they are, their licences."""

from __future__ import annotations

from dataclasses import dataclass

GHOST_RELEASES = "https://github.com/sberbank-ai/sber-swap/releases/download"
BUFFALO_L = "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip"
INSIGHTFACE_TERMS = "insightface model terms: non-commercial research use only"


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable or importable model file."""

    name: str
    filename: str
    kind: str
    description: str
    licence: str
    url: str = ""
    """Empty: import only (no official download location)."""
    archive_member: str = ""
    """Set when ``url`` is a zip archive holding the file."""
    sha256: str = ""
    """Published SHA-256, when there is one; otherwise it is recorded on first install and verified after."""
    needs: tuple[str, ...] = ()
    """What the swapper also uses, installed by the same ``models download``: the identity encoder (required),
    the detector the model was trained on and GHOST's 106-point mask model (used when present)."""
    exports_to: str = ""
    """For ``.pth`` checkpoints: the ONNX file ``ghostlive export`` makes from it."""

    @property
    def exports(self) -> tuple[str, ...]:
        """The ONNX files ``models export`` makes from this checkpoint (fp32, then fp16); none for other models."""
        return (self.exports_to, fp16_name(self.exports_to)) if self.exports_to else ()


def fp16_name(onnx_file: str) -> str:
    """The half-precision export's file name beside ``onnx_file`` (``NAME.onnx`` → ``NAME-fp16.onnx``)."""
    return onnx_file.removesuffix(".onnx") + "-fp16.onnx"


MASK_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="occluder",
        filename="xseg_1.onnx",
        kind="occluder",
        description="XSeg-style face occluder, 256 px (import your copy, e.g. FaceFusion's xseg_1.onnx)",
        licence="the terms of the file you import (XSeg: DeepFaceLab, GPL-3.0)",
    ),
    ModelSpec(
        name="parser",
        filename="bisenet_resnet_34.onnx",
        kind="face_parser",
        description="BiSeNet face parser, 512 px, 19 CelebAMask-HQ classes (import your copy, e.g. FaceFusion's)",
        licence="the terms of the file you import (face-parsing.PyTorch: MIT)",
    ),
)


@dataclass(frozen=True)
class Restoration:
    """How a face restorer sees a face: an aligned ``size`` crop on ``template`` (ghostlive.ops.align),
    channels in ``colour`` order, values scaled to ``value_range`` (its output uses the same); ``weight``:
    the name of a fidelity input (CodeFormer's), fed as a float64 array of shape (1,)."""

    filename: str
    size: int
    template: str
    licence: str
    description: str
    colour: str = "rgb"
    value_range: tuple[float, float] = (-1.0, 1.0)
    weight: str = ""


RESTORERS: dict[str, Restoration] = {
    "gfpgan-1.4": Restoration(
        "gfpgan_1.4.onnx", 512, "ffhq", "Apache-2.0 (TencentARC GFPGAN)", "GFPGAN v1.4 face restorer"
    ),
    "codeformer": Restoration(
        "codeformer.onnx",
        512,
        "ffhq",
        "S-Lab License 1.0: non-commercial use only (sczhou/CodeFormer)",
        "CodeFormer face restorer (fidelity weight input)",
        weight="weight",
    ),
    "gpen-bfr-256": Restoration(
        "gpen_bfr_256.onnx", 256, "inswapper", "see yangxy/GPEN's licence", "GPEN-BFR 256 face restorer"
    ),
    "gpen-bfr-512": Restoration(
        "gpen_bfr_512.onnx", 512, "ffhq", "see yangxy/GPEN's licence", "GPEN-BFR 512 face restorer"
    ),
    "ghost-sr": Restoration(
        "ghost-sr.onnx",
        256,
        "ghost",
        "CC BY-NC-SA 4.0: non-commercial use only",
        "GHOST's own enhancer (exported from 10_net_G.pth)",
        value_range=(0.0, 1.0),
    ),
    "restoreformer": Restoration(
        "restoreformer_plus_plus.onnx",
        512,
        "ffhq",
        "see wzhouxiff/RestoreFormerPlusPlus's licence",
        "RestoreFormer++ face restorer",
    ),
}
"""ONNX face restorers (as FaceFusion converts them): template ``ffhq`` is the FFHQ 512 template scaled to
the crop; ``inswapper`` is the ArcFace template shifted for 128 px crops (GPEN-BFR 256 was aligned so)."""

MODELS: tuple[ModelSpec, ...] = (
    *(
        ModelSpec(
            name=f"ghost-{n}",
            filename=f"G_unet_{n}block{'s' if n > 1 else ''}.pth",
            kind="ghost_checkpoint",
            description=f"GHOST AEI-Net generator, {n} AAD block{'s' if n > 1 else ''} per ResBlk"
            + (" (the main model)" if n == 2 else ""),
            licence="Apache-2.0 (GHOST; maintainer: commercial use allowed)",
            url=f"{GHOST_RELEASES}/sber-swap-v2.0/G_unet_{n}block{'s' if n > 1 else ''}.pth",
            needs=("ghost-arcface", "2d106det", "scrfd"),
            exports_to=f"ghost-{n}.onnx",
        )
        for n in (1, 2, 3)
    ),
    ModelSpec(
        name="ghost-arcface",
        filename="backbone.pth",
        kind="ghost_checkpoint",
        description="ArcFace iresnet100 identity encoder used by GHOST",
        licence="Apache-2.0 (GHOST release)",
        url=f"{GHOST_RELEASES}/arcface/backbone.pth",
        exports_to="ghost-arcface.onnx",
    ),
    ModelSpec(
        name="awl-fan",
        filename="WFLW_4HG.pth",
        kind="landmark_fan",
        description="AdaptiveWingLoss FAN, 98 WFLW points (GHOST's eye loss; training only)",
        licence="Apache-2.0 (AdaptiveWingLoss; distributed with the GHOST release)",
        url=f"{GHOST_RELEASES}/awl_detector/WFLW_4HG.pth",
    ),
    ModelSpec(
        name="ghost-sr",
        filename="10_net_G.pth",
        kind="ghost_checkpoint",
        description="GHOST face enhancer: LIP-SPADE generator, 256→256 (--enhancer ghost-sr)",
        licence="CC BY-NC-SA 4.0 (NVIDIA SPADE code, GHOST super-res weights): non-commercial use only",
        url=f"{GHOST_RELEASES}/super-res/10_net_G.pth",
        exports_to="ghost-sr.onnx",
    ),
    ModelSpec(
        name="scrfd",
        filename="scrfd_10g_bnkps.onnx",
        kind="scrfd",
        description="SCRFD-10GF face detector with 5 keypoints (as used by GHOST)",
        licence=INSIGHTFACE_TERMS,
        url=f"{GHOST_RELEASES}/antelope/scrfd_10g_bnkps.onnx",
    ),
    ModelSpec(
        name="2d106det",
        filename="2d106det.onnx",
        kind="landmark106",
        description="insightface 106-point landmarks (GHOST's adaptive mask)",
        licence=INSIGHTFACE_TERMS,
        url=BUFFALO_L,
        archive_member="2d106det.onnx",
    ),
    ModelSpec(
        name="w600k",
        filename="w600k_r50.onnx",
        kind="arcface_insightface",
        description="insightface ArcFace R50 (WebFace600K), identity for inswapper and face matching",
        licence=INSIGHTFACE_TERMS,
        url=BUFFALO_L,
        archive_member="w600k_r50.onnx",
    ),
    ModelSpec(
        name="det_10g",
        filename="det_10g.onnx",
        kind="scrfd",
        description="insightface SCRFD-10GF detector (buffalo_l pack)",
        licence=INSIGHTFACE_TERMS,
        url=BUFFALO_L,
        archive_member="det_10g.onnx",
    ),
    ModelSpec(
        name="inswapper",
        filename="inswapper_128.onnx",
        kind="inswapper",
        description="insightface inswapper_128 (import your own copy: no official download exists)",
        licence=INSIGHTFACE_TERMS,
        needs=("w600k", "det_10g"),
    ),
    *MASK_MODELS,
    *(
        ModelSpec(
            name=name,
            filename=r.filename,
            kind="restorer_weighted" if r.weight else f"restorer_{r.size}",
            description=f"{r.description}, {r.size} px (import your copy)",
            licence=r.licence,
        )
        for name, r in RESTORERS.items()
        if name != "ghost-sr"  # a GHOST checkpoint, listed above
    ),
)

BY_NAME = {m.name: m for m in MODELS}
BY_FILENAME = {m.filename: m for m in MODELS}
SWAPPERS: tuple[str, ...] = ("classic", "ghost-1", "ghost-2", "ghost-3", "inswapper")


@dataclass(frozen=True)
class TensorSig:
    """One expected ONNX input or output: its name (None: any) and shape (None: any size; a leading ``...``:
    any number of leading axes of any size)."""

    name: str | None
    shape: tuple[object, ...]


Signature = tuple[tuple[TensorSig, ...], tuple[TensorSig, ...]]
"""(inputs, outputs) of a model file, as its wrapper in ghostlive.models needs them."""

_SCRFD_OUT = tuple(TensorSig(None, (..., width)) for width in (1, 1, 1, 4, 4, 4, 10, 10, 10))
SIGNATURES: dict[str, Signature] = {
    "scrfd": ((TensorSig("input.1", (None, 3, None, None)),), _SCRFD_OUT),
    "landmark106": ((TensorSig("data", (None, 3, 192, 192)),), (TensorSig("fc1", (None, 212)),)),
    "arcface_insightface": ((TensorSig("input.1", (None, 3, 112, 112)),), (TensorSig("683", (None, 512)),)),
    "inswapper": (
        (TensorSig("target", (None, 3, 128, 128)), TensorSig("source", (None, 512))),
        (TensorSig("output", (None, 3, 128, 128)),),
    ),
    "ghost_generator": (
        (TensorSig("target", (None, 3, 256, 256)), TensorSig("source", (None, 512))),
        (TensorSig("output", (None, 3, 256, 256)),),
    ),
    "ghost_arcface": ((TensorSig("input", (None, 3, 112, 112)),), (TensorSig("embedding", (None, 512)),)),
    **{
        f"restorer_{n}": ((TensorSig("input", (None, 3, n, n)),), (TensorSig(None, (None, 3, n, n)),))
        for n in (256, 512)
    },
    "ghost_sr": ((TensorSig("input", (None, 3, 256, 256)),), (TensorSig("output", (None, 3, 256, 256)),)),
    "restorer_weighted": (
        (TensorSig("input", (None, 3, 512, 512)), TensorSig("weight", (None,))),
        (TensorSig(None, (None, 3, 512, 512)),),
    ),
    "occluder": ((TensorSig(None, (None, 256, 256, 3)),), (TensorSig(None, (None, 256, 256, 1)),)),
    "face_parser": ((TensorSig(None, (None, 3, 512, 512)),), (TensorSig(None, (None, 19, 512, 512)),)),
}
"""ONNX signatures by kind: the insightface files' own tensor names, and those of ghostlive's GHOST exports."""


EXPORT_KINDS = {"ghost-arcface": "ghost_arcface", "ghost-sr": "ghost_sr"}
"""The signature kind of each GHOST export that is not a generator."""


def expected_kind(filename: str) -> tuple[str, str] | None:
    """(model name, kind) that a model file name stands for: a registry file or a GHOST export; else None."""
    if filename in BY_FILENAME:
        spec = BY_FILENAME[filename]
        return spec.name, spec.kind
    for m in MODELS:
        if filename in m.exports:
            return m.name, EXPORT_KINDS.get(m.name, "ghost_generator")
    return None


KEYPOINT_DETECTORS: dict[str, tuple[str, ...]] = {
    "ghost": ("scrfd", "det_10g"),
    "inswapper": ("det_10g", "scrfd"),
}
"""The SCRFD models each neural swapper family was trained on, in order of preference (GHOST's own
``scrfd_10g_bnkps`` first for GHOST, buffalo_l's ``det_10g`` first for inswapper: both SCRFD-10GF)."""
