"""Is a model file what its name says? Checked before a file enters the model folder.

ONNX files must load in ONNX Runtime and have the inputs and outputs (names, ranks, fixed sizes) that their
registry entry lists; ``.pth`` checkpoints must load with ``torch.load(weights_only=True)`` and have exactly
the state_dict keys and shapes of the network they are named after. A file the registry does not know must
still be a loadable ONNX model or tensors-only checkpoint. Its name must be a plain, visible file name
(:func:`name_problem`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ghostlive.errors import ModelError
from ghostlive.media.paths import sha256_file
from ghostlive.models.registry import SIGNATURES, TensorSig, expected_kind

log = logging.getLogger(__name__)
MODEL_SUFFIXES = (".onnx", ".pth")


class CannotCheckError(ModelError):
    """This install cannot check the file (a ``.pth`` checkpoint needs PyTorch): nothing is wrong with it."""


def require_checker(filename: str) -> None:
    """CannotCheckError, with the install command, when a file named ``filename`` cannot be checked here: asked before
    a download starts, so that hundreds of MB are not fetched to be refused."""
    import importlib.util

    if filename.lower().endswith(".pth") and importlib.util.find_spec("torch") is None:
        raise CannotCheckError(
            f"{filename} is a PyTorch checkpoint: checking it (and exporting it to ONNX) needs PyTorch; run: "
            "pip install 'ghostlive[torch]'"
        )


def name_problem(name: str) -> str:
    """Why ``name`` cannot name a file in the model folder ('' when it can): it must be a plain file name (no
    folder part, on any system) and not hidden (a leading '.': the folder's own files are hidden)."""
    if not name:
        return "a file name is needed"
    if name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return "not a plain file name (it names a folder too)"
    if name.startswith("."):
        return "a hidden file name (it starts with '.')"
    return ""


def vet(staged: Path, filename: str, shown: str, action: str, expected: str = "") -> str:
    """The SHA-256 of ``staged`` once it is checked: against ``expected`` (if any), and to be a usable model
    of the name ``filename`` (:func:`check_model_file`; errors name ``shown``). A refused file is deleted; one
    that could not be checked (no PyTorch, Ctrl-C, a read error) is kept (a download resumes from it)."""
    try:
        digest = sha256_file(staged)
        if expected and digest != expected:
            raise ModelError(
                f"SHA-256 mismatch for {filename}: got {digest}, expected {expected}; "
                "the file was corrupted or replaced and has been deleted"
            )
        log.info("%s: %s", shown, check_model_file(staged, filename, shown, action))
    except CannotCheckError:
        raise
    except ModelError:
        staged.unlink(missing_ok=True)
        raise
    return digest


def check_model_file(path: Path, filename: str, shown: str | Path | None = None, action: str = "imported") -> str:
    """Refuse ``path`` (to be stored as ``filename``) unless it is a usable model of that name; returns what was
    checked, for the log. Errors name ``shown`` (default: ``filename``) and say what is wrong in one line;
    ``action`` (imported, downloaded) says how it came when ``shown`` has another name."""
    label = str(shown or filename)
    suffix = Path(filename).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelError(f"not a model file name ({filename}): use a {' or '.join(MODEL_SUFFIXES)} file", label)
    known = expected_kind(filename)
    stored = "" if Path(label).name == filename else f" ({action} as {filename})"
    if suffix == ".pth":
        return _check_checkpoint(path, label, stored, known[0] if known else None)
    return _check_onnx(path, label, stored, known)


def _check_onnx(path: Path, label: str, stored: str, known: tuple[str, str] | None) -> str:
    from ghostlive.engines.ort import OrtRunner

    try:
        info = OrtRunner(path, name=label).info
    except ModelError:
        raise ModelError("not a loadable ONNX model (ONNX Runtime cannot read it)", label) from None
    if known is None or known[1] not in SIGNATURES:
        return "loads in ONNX Runtime"
    name, kind = known
    inputs, outputs = SIGNATURES[kind]
    for role, want, got in (("input", inputs, info.inputs), ("output", outputs, info.outputs)):
        problem = _compare(want, [(t.name, t.shape) for t in got])
        if problem:
            raise ModelError(f"not the {name} model{stored}: its {role}s: {problem}", label)
    return f"{kind} signature"


def _compare(want: tuple[TensorSig, ...], got: list[tuple[str, tuple[object, ...]]]) -> str:
    if len(got) != len(want):
        return f"expected {len(want)}, found {len(got)} ({', '.join(n for n, _ in got) or 'none'})"
    by_name = dict(got)
    for i, sig in enumerate(want):
        name, shape = (sig.name, by_name.get(sig.name)) if sig.name is not None else got[i]
        if shape is None:
            return f"no tensor named {sig.name!r} (found {', '.join(n for n, _ in got)})"
        if not _shape_fits(sig.shape, tuple(shape)):
            return f"{name} has shape {_show(shape)}, expected {_show(sig.shape)}"
    return ""


def _shape_fits(want: tuple[object, ...], got: tuple[object, ...]) -> bool:
    if want and want[0] is Ellipsis:
        want = want[1:]
        got = got[len(got) - len(want) :] if len(got) >= len(want) else got
    if len(want) != len(got):
        return False
    return all(w is None or not isinstance(g, int) or g == w for w, g in zip(want, got, strict=True))


def _show(shape: tuple[object, ...]) -> str:
    return "×".join("…" if d is Ellipsis else "N" if d is None or not isinstance(d, int) else str(d) for d in shape)


def _check_checkpoint(path: Path, label: str, stored: str, name: str | None) -> str:
    try:
        from ghostlive.export.checkpoint import read_state_dict
        from ghostlive.export.onnx import expected_network
    except ImportError as exc:
        raise CannotCheckError(
            f"checking a .pth checkpoint needs PyTorch ({exc}); run: pip install 'ghostlive[torch]'"
        ) from None
    from ghostlive.errors import GhostliveError

    try:
        state = read_state_dict(path)
    except GhostliveError as exc:
        reason = str(exc).removeprefix(f"{exc.path}: ")
        raise ModelError(reason, label) from None
    if name is None:
        return "tensors-only checkpoint"
    problems = expected_network(name, state)
    if problems:
        what = f"not the {name} checkpoint{stored}"
        raise ModelError(f"{what}: " + "; ".join(problems), label)
    return f"{name} state_dict"
