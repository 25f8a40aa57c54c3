"""fp16 copies of ONNX graphs (half-precision weights and arithmetic, float32 inputs and outputs).

TensorRT 11 removed the FP16 builder flag: an engine's precision now comes from the graph it is built from
(strong typing), so fp16 engines are built from such a copy. The conversion uses onnxconverter-common (the
``gpu`` extra), imported only when needed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ghostlive.errors import BackendUnavailableError, ModelError
from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)


def fp16_graph(source: str | Path, target: str | Path) -> Path:
    """Write an fp16 copy of the ONNX model ``source`` to ``target`` (kept when it is newer than the source);
    inputs and outputs stay float32 so callers feed the same arrays."""
    src, dst = Path(source), Path(target)
    if dst.is_file() and dst.stat().st_mtime >= src.stat().st_mtime:
        return dst
    try:
        import onnx
        from onnxconverter_common import float16  # type: ignore[import-untyped]
    except ImportError as exc:
        raise BackendUnavailableError(
            f"fp16 engines need an fp16 graph and onnxconverter-common to make one ({exc}): "
            "pip install 'ghostlive[gpu]', or use precision fp32"
        ) from None
    try:
        model = onnx.load(str(src))
        half = float16.convert_float_to_float16(model, keep_io_types=True)
    except Exception as exc:
        raise ModelError(f"cannot make an fp16 copy of this model: {exc}", src) from exc
    atomic_write_bytes(dst, half.SerializeToString())
    log.info("wrote fp16 graph %s", dst)
    return dst
