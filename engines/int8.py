"""int8 decisions: whether this machine runs a model's static int8 copy instead of the fp32 one on ONNX Runtime's
CPU backend. ``ghostlive models optimise`` measures (identity kept, pixel error bounded, faster here) and
stores the verdict; opening the model later only reads it.

One decision per model and folder: ``<stem>.int8.json`` (an :class:`Int8Decision`) and, when int8 passed the
identity gate, ``<stem>.int8.onnx``, in the engines folder beside the model. A decision counts only for the
fp32 file it was measured on (SHA-256; an unchanged size and mtime skip rehashing), the same ONNX Runtime
version and the same CPU (:func:`ghostlive.engines.cache.machine_id`); otherwise it is ignored and fp32 runs.
Files are written atomically (the model first, then the record that points at it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ghostlive.engines.cache import machine_id, onnx_digest
from ghostlive.errors import BackendUnavailableError
from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "int8")
"""``--cpu-precision``: auto (int8 where a stored decision says it keeps identity and is faster here), fp32
always, int8 whenever its identity gate passed (even if it measured slower)."""
SPEEDUP_MARGIN = 0.9
"""int8 counts as faster when its median time per face is at most this fraction of fp32's (measured
alternately in one run): a margin so that noise on a busy machine does not decide."""


def ort_version() -> str:
    """The installed ONNX Runtime's version (part of every decision's key)."""
    import onnxruntime

    return str(onnxruntime.__version__)


@dataclass(frozen=True)
class Int8Decision:
    """One measured verdict for one fp32 model on one machine and ONNX Runtime version."""

    model_sha256: str
    ort_version: str
    machine: str
    source_size: int
    source_mtime_ns: int
    int8_sha256: str
    """SHA-256 of the stored int8 model ("" when none is kept: the identity gate failed)."""
    ops: str
    """Which operators were quantised ("all", or a list)."""
    faces: int
    min_cosine: float
    """Smallest ArcFace cosine of an int8 swap to the fp32 swap of the same real face."""
    cosine_bound: float
    max_error: float
    """Largest mean absolute difference (grey levels 0–255) of an int8 swapped crop from the fp32 one."""
    error_bound: float
    fp32_ms: float
    int8_ms: float
    """Median wall ms per face (batch 1), timed alternately; these decide."""
    fp32_cpu_ms: float
    int8_cpu_ms: float
    """Median process CPU ms per face of the same runs (a steadier figure on a busy machine; informative)."""
    arcface: str
    """The identity model that judged (file name and SHA-256 prefix)."""

    @property
    def identity_kept(self) -> bool:
        return self.min_cosine >= self.cosine_bound and self.max_error <= self.error_bound

    @property
    def faster(self) -> bool:
        return self.int8_ms <= SPEEDUP_MARGIN * self.fp32_ms

    @property
    def use_int8(self) -> bool:
        """What ``--cpu-precision auto`` runs: int8 only when it kept identity and measured faster."""
        return self.identity_kept and self.faster

    def summary(self) -> str:
        """One line: the numbers and the verdict."""
        verdict = "int8 used" if self.use_int8 else "fp32 used"
        why = "" if self.use_int8 else (" (int8 not faster here)" if self.identity_kept else " (identity not kept)")
        return (
            f"{verdict}{why}: fp32 {self.fp32_ms:.0f} ms/face, int8 {self.int8_ms:.0f} ms/face "
            f"({self.fp32_ms / max(self.int8_ms, 1e-9):.2f}×; process CPU {self.fp32_cpu_ms:.0f} → "
            f"{self.int8_cpu_ms:.0f} ms); ArcFace cosine min {self.min_cosine:.4f} "
            f"(bound {self.cosine_bound}), mean abs error max {self.max_error:.2f} grey levels "
            f"(bound {self.error_bound}) on {self.faces} real faces"
        )


class Int8Store:
    """The int8 decisions and models in one engines folder (see the module)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def paths(self, model: Path) -> tuple[Path, Path]:
        """The int8 model and the decision record of ``model``."""
        return self.root / f"{model.stem}.int8.onnx", self.root / f"{model.stem}.int8.json"

    def read(self, model: Path) -> Int8Decision | None:
        """The stored record of ``model`` whatever it was measured for (None: none, or unreadable)."""
        meta = self.paths(model)[1]
        try:
            raw = json.loads(meta.read_text())
            return Int8Decision(**{f.name: raw[f.name] for f in fields(Int8Decision)})
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def lookup(self, model: Path, ort_version: str) -> Int8Decision | None:
        """The decision for ``model`` as it is now, on this machine and ONNX Runtime; None when there is none or
        it was made for another file, machine or version (stale), or its int8 model is missing or changed."""
        found = self.read(model)
        if found is None or (found.ort_version, found.machine) != (ort_version, machine_id()):
            return None
        st = model.stat()
        moved = (found.source_size, found.source_mtime_ns) != (st.st_size, st.st_mtime_ns)
        if moved and onnx_digest(model) != found.model_sha256:  # a touched but unchanged file still counts
            return None
        if found.identity_kept:
            int8 = self.paths(model)[0]
            if not int8.is_file() or onnx_digest(int8) != found.int8_sha256:
                log.warning("%s: the stored int8 model is missing or changed; running fp32", model.name)
                return None
        return found

    def save(self, model: Path, decision: Int8Decision, int8: Path | None) -> Int8Decision:
        """Store ``decision`` for ``model``; ``int8`` (a finished file in this folder, or None) becomes its int8
        model (kept only when the identity gate passed). Any earlier decision and int8 model of ``model`` are
        replaced."""
        target, meta = self.paths(model)
        if not decision.identity_kept:
            decision, int8 = replace(decision, int8_sha256=""), None
        self.root.mkdir(parents=True, exist_ok=True)
        meta.unlink(missing_ok=True)  # no moment where an old record points at a new or missing model
        if int8 is not None:
            int8.replace(target)
        else:
            target.unlink(missing_ok=True)
        atomic_write_bytes(meta, json.dumps(asdict(decision), indent=1).encode())
        return decision

    def choose(self, model: Path, ort_version: str, precision: str = "auto") -> Path:
        """The file to open for ``model`` at ``precision`` (see :data:`PRECISIONS`). int8 asked for explicitly is
        refused (BackendUnavailableError) unless a current decision says its identity gate passed."""
        if precision == "fp32":
            return model
        found = self.lookup(model, ort_version)
        if precision == "int8" and (found is None or not found.identity_kept):
            why = "it did not keep identity here: " + found.summary() if found else "it was not measured here"
            raise BackendUnavailableError(
                f"int8 for {model.name} is refused: {why}; run: ghostlive models optimise "
                f"{model.stem.removesuffix('-fp16')} (or use fp32)"
            )
        if found is not None and (found.use_int8 or precision == "int8"):
            log.info("%s: running the int8 model (%s)", model.name, found.summary())
            return self.paths(model)[0]
        return model
