"""Static int8 quantisation of an ONNX model with ONNX Runtime's tools (weights per channel, activations
calibrated on real inputs), for CPUs with fast integer dot products (AVX-512 VNNI, AVX-VNNI, ARM dot product).

On an x86 CPU without VNNI, ONNX Runtime multiplies uint8 activations by int8 weights with AVX2's ``vpmaddubsw``,
which adds each pair of products into a saturating 16-bit integer: two products near 255 × 127 overflow it. ONNX
Runtime's quantisation guide recommends weights in 7 bits there (``reduce_range``), which cannot overflow;
:func:`reduced_range` makes that choice for this machine (the int8 decision is kept per CPU anyway)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ghostlive.errors import ModelError

log = logging.getLogger(__name__)

VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx512vnni", "avxvnni"})
"""/proc/cpuinfo flags of the x86 integer dot-product instructions (Linux spells them with an underscore)."""
X86 = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})


def reduced_range(arch: str | None = None, flags: set[str] | None = None) -> bool:
    """Whether int8 weights should be quantised to 7 bits on this CPU (``arch``, ``flags``: another's, for
    tests): an x86 CPU without VNNI, including one whose flags cannot be read (Windows, macOS). ARM CPUs
    multiply without the 16-bit saturation and keep 8 bits."""
    import platform

    from ghostlive.engines.cache import cpu_info

    if (arch or platform.machine()).lower() not in X86:
        return False
    return not (cpu_info()[1] if flags is None else flags) & VNNI_FLAGS


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
    reduce_range: bool | None = None,
) -> Path:
    """Write ``model`` quantised to int8 (QDQ format) to ``output``, activation ranges calibrated on ``samples``
    (input name → array, one dict per run) at the 0.001th and 99.999th percentiles of each tensor's values rather
    than their extremes, so that a few outliers do not coarsen every other value's steps (on untrained GHOST-2,
    three initialisations: smallest ArcFace cosine to fp32 0.944/0.969/0.982 → 0.971/0.973/0.984, largest error
    2.04/1.23/1.16 → 1.39/1.05/1.00 grey levels, same speed); where ONNX Runtime's percentile calibration fails
    (1.19 does on some tensors), on their minimum and maximum. ``op_types``: only these operators (None: every one
    ONNX Runtime can quantise); ``reduce_range``: weights in 7 bits (None: :func:`reduced_range` for this CPU).
    Its stride-2 transposed convolutions are first rewritten as convolutions (:mod:`ghostlive.engines.subpixel`)
    so that they are quantised too. Written atomically: a failure leaves no file."""
    try:
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    except ImportError as exc:
        raise ModelError(f"ONNX Runtime's quantisation tools are missing ({exc})", model) from None
    out = Path(output)
    tmp = out.with_name(f".{out.name}.partial")
    prepared = out.with_name(f".{out.name}.float.onnx")
    quiet = logging.root.manager.disable  # the quantiser's advisory warnings go to the root logger, every run
    logging.disable(logging.WARNING)
    chatter = io.StringIO()  # the percentile calibration prints its progress to standard output
    samples = list(samples)  # read twice where the percentile calibration fails
    fell_back = ""
    seven_bits = reduced_range() if reduce_range is None else reduce_range
    try:
        source = _prepare(Path(model), prepared)
        for method in (CalibrationMethod.Percentile, CalibrationMethod.MinMax):
            try:
                with contextlib.redirect_stdout(chatter):
                    quantize_static(
                        str(source),
                        str(tmp),
                        _Samples(samples),
                        quant_format=QuantFormat.QDQ,
                        per_channel=True,
                        activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(op_types) if op_types else None,
                        reduce_range=seven_bits,
                        calibrate_method=method,
                    )
                break
            except ValueError as exc:  # older ONNX Runtime: a percentile range of [nan, nan] on some tensors
                if method != CalibrationMethod.Percentile or "finite" not in str(exc):
                    raise
                fell_back = str(exc)
        os.replace(tmp, out)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"int8 quantisation failed: {exc}", model) from exc
    finally:
        logging.disable(quiet)
        prepared.unlink(missing_ok=True)
        log.debug("ONNX Runtime's quantiser said: %s", chatter.getvalue().strip())
        if fell_back:
            log.info("%s: percentile calibration failed (%s); calibrated on min and max", Path(model).name, fell_back)
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
