"""What a file that should be a PyTorch checkpoint holds, told from its first bytes without unpickling anything.

:func:`checkpoint_kind` lets :func:`ghostlive.export.checkpoint.read_state_dict` tell a file that is not a
checkpoint at all (a photo, an ONNX model, a text file named ``.pth``) from a real pickle that the safe loader
refuses because it carries code, so that each gets its own message.
"""

from __future__ import annotations

import codecs
import pickletools
import zipfile
from pathlib import Path

_HEAD = 4096
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras .h5?)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
)
_ONNX_SECOND_FIELDS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42}
"""ModelProto fields that follow ``ir_version`` (field 1): producer name/version, domain, model version, doc,
graph, opset import."""


def _zip_kind(path: Path) -> str | None:
    """None for torch.save's zip layout (``…/data.pkl``) or a zip too damaged to list (the loader reports it)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        return "a TorchScript model (torch.jit.save), not a state_dict"
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return None
    return "a ZIP archive that torch.save did not write"


def _is_pickle(data: bytes) -> bool:
    """Whether ``data`` decodes as pickle opcodes up to STOP (protocols 0 and 1 have no header); decoding only,
    nothing is built or run."""
    try:
        for op, _, _ in pickletools.genops(data):
            if op.name == "STOP":
                return True
    except (ValueError, UnicodeDecodeError):
        return False
    return False


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut multi-byte character is fine
    except UnicodeDecodeError:
        return False
    return True


def checkpoint_kind(path: str | Path, max_text: int = 16 << 20) -> str | None:
    """None when ``path`` looks like what ``torch.save`` writes (its zip layout, or a pickle: the legacy format,
    or a plain pickle, which the safe loader then judges); otherwise what it is instead, worded to follow
    "it is": "a PNG image", "an ONNX model", "a text file", or "neither … " when nothing is recognised."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(_HEAD)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(p)
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle's PROTO opcode (protocol 2 and up)
        return None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI ", b"WAVE"):
        return {b"WEBP": "a WebP image", b"AVI ": "an AVI video", b"WAVE": "a WAV sound file"}[head[8:12]]
    if head[4:8] == b"ftyp":
        return "an MP4/MOV video or HEIF image"
    if len(head) > 2 and head[0] == 0x08 and 0 < head[1] < 0x80 and head[2] in _ONNX_SECOND_FIELDS:
        return "an ONNX model"
    if len(head) > 9 and head[8:10] == b'{"' and int.from_bytes(head[:8], "little") < p.stat().st_size:
        return "a safetensors file"
    size = p.stat().st_size
    if _is_text(head):
        if size <= max_text and _is_pickle(p.read_bytes()):  # protocol 0 is text too
            return None
        return "a text file"
    if _is_pickle(head if size > _HEAD else p.read_bytes()):
        return None
    return "neither a zip archive nor a pickle, the two layouts torch.save writes"
