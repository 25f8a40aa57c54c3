"""Static int8 quantisation of an ONNX model with ONNX Runtime's tools (weights per channel, activations
calibrated on real inputs), for CPUs with fast integer dot products (AVX-512 VNNI, AVX-VNNI, ARM dot product)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ghostlive.errors import ModelError

log = logging.getLogger(__name__)


class _Samples:
    """ONNX Runtime's calibration reader protocol over an iterable of input dicts."""

    def __init__(self, samples: Iterable[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:  # some ONNX Runtime versions call it; a single pass is enough here
        return None


def quantize_int8(
    model: str | Path,
    output: str | Path,
    samples: Iterable[dict[str, np.ndarray]],
    op_types: Sequence[str] | None = None,
) -> Path:
    """Write ``model`` quantised to int8 (QDQ format) to ``output``, activation ranges calibrated on ``samples``
    (input name → array, one dict per run); ``op_types``: only these operators (None: every one ONNX Runtime
    can quantise). Its stride-2 transposed convolutions are first rewritten as convolutions
    (:mod:`ghostlive.engines.subpixel`) so that they are quantised too. Written atomically: a failure leaves no
    file."""
    try:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    except ImportError as exc:
        raise ModelError(f"ONNX Runtime's quantisation tools are missing ({exc})", model) from None
    out = Path(output)
    tmp = out.with_name(f".{out.name}.partial")
    prepared = out.with_name(f".{out.name}.float.onnx")
    quiet = logging.root.manager.disable  # the quantiser's advisory warnings go to the root logger, every run
    logging.disable(logging.WARNING)
    try:
        quantize_static(
            str(_prepare(Path(model), prepared)),
            str(tmp),
            _Samples(samples),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(op_types) if op_types else None,
        )
        os.replace(tmp, out)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"int8 quantisation failed: {exc}", model) from exc
    finally:
        logging.disable(quiet)
        prepared.unlink(missing_ok=True)
    return out


def _prepare(model: Path, scratch: Path) -> Path:
    """``model`` with its transposed convolutions rewritten, written to ``scratch``; ``model`` itself where
    there is nothing to rewrite (or it is too large for one protobuf file)."""
    import onnx

    from ghostlive.engines.subpixel import subpixel_deconvolutions

    proto = onnx.load(str(model))
    if not subpixel_deconvolutions(proto) or proto.ByteSize() >= 2**31 - 1:
        return model
    onnx.save(proto, str(scratch))
    log.info("%s: transposed convolutions rewritten as sub-pixel convolutions before quantising", model.name)
    return scratch
