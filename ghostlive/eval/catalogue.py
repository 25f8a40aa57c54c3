"""Every metric of ``ghostlive eval``: unit, judge, pass limit and definition (the README's table says the same)."""

from __future__ import annotations

from dataclasses import dataclass

from ghostlive.eval.artefacts import LIMITS as ARTEFACT_LIMITS
from ghostlive.eval.temporal import LIMITS as TEMPORAL_LIMITS


@dataclass(frozen=True)
class Metric:
    """How one number is judged: lower is better unless ``higher_better``; it passes when on the good side of
    ``limit``."""

    key: str
    unit: str
    judge: str
    limit: float
    definition: str
    higher_better: bool = False

    def passes(self, value: float) -> bool:
        return value >= self.limit if self.higher_better else value <= self.limit


_A = ARTEFACT_LIMITS
METRICS: tuple[Metric, ...] = (
    Metric("id_dlib_source", "dist", "dlib", 0.6, "dlib descriptor distance of the output to the source"),
    Metric("id_dlib_target", "dist", "dlib", 0.6, "dlib descriptor distance of the output to the target", True),
    Metric("id_arcface_source", "1−cos", "arcface", 0.6, "ArcFace cosine distance of the output to the source"),
    Metric("id_arcface_target", "1−cos", "arcface", 0.6, "ArcFace cosine distance to the target", True),
    Metric("yaw", "°", "mesh", 5.0, "yaw difference target vs output (face frame from the mesh's mirror pairs)"),
    Metric("pitch", "°", "mesh", 5.0, "pitch difference target vs output"),
    Metric("roll", "°", "mesh", 5.0, "roll difference target vs output"),
    Metric("pose", "°", "mesh", 6.0, "angle of the rotation between target and output face frames"),
    Metric("expression", "% IOD", "mesh", 5.0, "RMS of 468 mesh points after a similarity fit, % inter-ocular"),
    Metric("openings", "pp", "mesh", 10.0, "largest mouth/eye opening-ratio difference (percentage points)"),
    Metric("eyes", "% IOD", "mesh+iris", 4.0, "mean distance of iris centres and lids, % inter-ocular"),
    Metric("expression_dlib68", "% IOD", "dlib68", 5.0, "RMS of dlib's 68 points after a similarity fit"),
    Metric("openings_dlib68", "pp", "dlib68", 10.0, "largest opening-ratio difference from dlib's 68 points"),
    Metric("eyes_dlib68", "% IOD", "dlib68", 4.0, "mean distance of dlib's 12 eye points, % inter-ocular"),
    *(Metric(k, v.unit, "pixels", v.limit, v.definition) for k, v in _A.items()),
    Metric("jitter", "px", "mesh", TEMPORAL_LIMITS["jitter"], "RMS frame-to-frame wobble of the pasted face"),
    Metric("flicker", "levels", "pixels", TEMPORAL_LIMITS["flicker"], "frame-to-frame face change beyond the target's"),
    Metric("show_through", "share", "pixels", TEMPORAL_LIMITS["show_through"], "frames where the real face shows"),
)
BY_KEY = {m.key: m for m in METRICS}
RETRIEVAL = {
    "retrieval_dlib": "top-1 ID retrieval among the run's sources (dlib)",
    "retrieval_dlib_all": "top-1 ID retrieval among sources and targets (dlib)",
    "retrieval_arcface": "top-1 ID retrieval among the run's sources (ArcFace)",
    "retrieval_arcface_all": "top-1 ID retrieval among sources and targets (ArcFace)",
}
PAPER = {
    "note": (
        "GHOST paper (Groshev et al. 2022): a separate identity model for retrieval, eye-landmark error in pixels, "
        "other pairs (likely FaceForensics++ frames). Judges, units and faces differ from this run's, so the numbers "
        "compare only in direction."
    ),
    "rows": [
        {"method": "GHOST (paper)", "id_retrieval": 90.61, "eye_ldmks": 2.02},
        {"method": "FaceSwap 2017 (paper)", "id_retrieval": 58.82, "eye_ldmks": 4.22},
    ],
}
