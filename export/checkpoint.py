"""Safe loading of GHOST/ArcFace ``.pth`` checkpoints.

Only ``torch.load(weights_only=True)`` is used, so a pickle that carries code or arbitrary objects is refused
instead of executed. float16 tensors (mixed-precision saves) are cast to the model's dtype, common wrappers
(``{"state_dict": …}``, ``module.`` prefixes from DataParallel) are unwrapped, and key or shape mismatches are
reported as one readable error.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ghostlive.errors import InvalidInputError, ModelError
from ghostlive.export.file_kind import checkpoint_kind
from ghostlive.media.paths import atomic_write_bytes, require_file

log = logging.getLogger(__name__)

_WRAPPERS = ("state_dict", "model", "net", "generator", "G")
_CODE_REFUSED = (
    "refused: the file holds Python objects or code, not just tensors; only plain state_dict checkpoints are "
    "loaded (weights_only)"
)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, loaded without executing any pickled code. A file that is not what
    ``torch.save`` writes (a photo, an ONNX model, a text file) is refused before anything is unpickled, as
    "not a readable PyTorch checkpoint: it is …"; a pickle the safe loader refuses, as holding code."""
    p = require_file(path, "checkpoint")
    try:
        kind = checkpoint_kind(p)
    except OSError as exc:
        raise InvalidInputError(f"cannot be read ({exc.strerror or exc})", p) from None
    if kind is not None:
        raise InvalidInputError(f"not a readable PyTorch checkpoint: it is {kind}", p)
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # the weights-only unpickler met a global, a class or an opcode it refuses
        raise ModelError(_CODE_REFUSED, p) from None
    except Exception as exc:  # noqa: BLE001 - RuntimeError, EOFError, zip errors…: a damaged or cut file
        text = str(exc)
        if "weights_only" in text or "Unsupported global" in text:  # e.g. a TorchScript archive
            raise ModelError(_CODE_REFUSED, p) from None
        detail = f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
        raise InvalidInputError(f"not a readable PyTorch checkpoint: damaged or cut short ({detail})", p) from None
    for key in _WRAPPERS:
        if isinstance(obj, Mapping) and key in obj and isinstance(obj[key], Mapping):
            obj = obj[key]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError("the checkpoint does not contain a state_dict of tensors", p)
    return {k.removeprefix("module."): v for k, v in obj.items()}


def mismatch_report(model: nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Lines describing missing, unexpected and mis-shaped keys (empty when the checkpoint fits)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} != model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    lines = []
    for title, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if items:
            shown = ", ".join(items[:6]) + (f", … ({len(items) - 6} more)" if len(items) > 6 else "")
            lines.append(f"{len(items)} {title} key(s): {shown}")
    return lines


def fit(model: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path) -> nn.Module:
    """Load ``state`` (read from ``path``) into ``model`` (strict: every key and shape must match) and put it in
    eval mode."""
    problems = mismatch_report(model, state)
    if problems:
        raise ModelError(f"checkpoint does not fit {type(model).__name__}: " + "; ".join(problems), path)
    expected = model.state_dict()
    cast = {k: v.to(expected[k].dtype) for k, v in state.items()}
    halves = sum(1 for v in state.values() if v.dtype == torch.float16)
    if halves:
        log.info("%s: cast %d float16 tensors to %s", path, halves, next(iter(expected.values())).dtype)
    model.load_state_dict(cast, strict=True)
    return model.eval()


def load_into(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a checkpoint into ``model`` (strict: every key and shape must match) and put it in eval mode."""
    return fit(model, read_state_dict(path), path)


def save_checkpoint(model: nn.Module, path: str | Path) -> Path:
    """Write ``model``'s state_dict as a plain ``.pth`` (tensors only, loadable with ``weights_only=True``)."""
    out = Path(path)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return out
