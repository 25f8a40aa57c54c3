"""Static int8 quantisation of an ONNX model with ONNX Runtime's tools (weights per channel, activations
calibrated on real inputs), for CPUs with fast integer dot products (AVX-512 VNNI, AVX-VNNI, ARM dot product)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ghostlive.errors import ModelError


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
    can quantise). Written atomically: a failure leaves no file."""
    try:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    except ImportError as exc:
        raise ModelError(f"ONNX Runtime's quantisation tools are missing ({exc})", model) from None
    out = Path(output)
    tmp = out.with_name(f".{out.name}.partial")
    quiet = logging.root.manager.disable  # the quantiser's advisory warnings go to the root logger, every run
    logging.disable(logging.WARNING)
    try:
        quantize_static(
            str(model),
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
    return out
