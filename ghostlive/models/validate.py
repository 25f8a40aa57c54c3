"""Is a model file what its name says? Checked before a file enters the model folder.

ONNX files must load in ONNX Runtime and have the inputs and outputs (names, ranks, fixed sizes) that their
registry entry lists; ``.pth`` checkpoints must load with ``torch.load(weights_only=True)`` and have exactly
the state_dict keys and shapes of the network they are named after. A file the registry does not know must
still be a loadable ONNX model or tensors-only checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from ghostlive.errors import ModelError
from ghostlive.models.registry import SIGNATURES, TensorSig, expected_kind

MODEL_SUFFIXES = (".onnx", ".pth")


def check_model_file(path: Path, filename: str, shown: str | Path | None = None) -> str:
    """Refuse ``path`` (to be stored as ``filename``) unless it is a usable model of that name; returns what was
    checked, for the log. Errors name ``shown`` (default: ``filename``) and say what is wrong in one line."""
    label = str(shown or filename)
    suffix = Path(filename).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelError(f"not a model file name ({filename}): use a {' or '.join(MODEL_SUFFIXES)} file", label)
    known = expected_kind(filename)
    if suffix == ".pth":
        return _check_checkpoint(path, label, filename, known[0] if known else None)
    return _check_onnx(path, label, filename, known)


def _imported_as(label: str, filename: str) -> str:
    return "" if Path(label).name == filename else f" (imported as {filename})"


def _check_onnx(path: Path, label: str, filename: str, known: tuple[str, str] | None) -> str:
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
            raise ModelError(f"not the {name} model{_imported_as(label, filename)}: its {role}s: {problem}", label)
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


def _check_checkpoint(path: Path, label: str, filename: str, name: str | None) -> str:
    try:
        from ghostlive.export.checkpoint import read_state_dict
        from ghostlive.export.onnx import expected_network
    except ImportError as exc:
        raise ModelError(
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
        what = f"not the {name} checkpoint{_imported_as(label, filename)}"
        raise ModelError(f"{what}: " + "; ".join(problems), label)
    return f"{name} state_dict"
