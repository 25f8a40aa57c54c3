"""What is made from a file in the model folder, and how a missing file is made.

A registry checkpoint (``.pth``) has ONNX exports (``ghostlive export``: fp32 and fp16). An ONNX model has, in
``engines/`` beside it, what the runtimes keep for it: the int8 variant and decision of ``ghostlive models
optimise`` (:class:`ghostlive.engines.int8.Int8Store`: ``<stem>.int8.onnx``/``.json``), ONNX Runtime's optimised
graph (:class:`ghostlive.engines.cache.GraphCache`: ``<stem>.ort-<tag>.onnx``/``.json``, the int8 variant's too),
and TensorRT engines (:class:`ghostlive.engines.cache.EngineCache`: ``<stem>.<precision>.<key>.engine``/``.json``,
with the fp16 graph TensorRT 11 builds from, ``<stem>.fp16.onnx``). When the file goes or is replaced, these go
with it (:class:`ghostlive.hub.ModelStore` removes them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ghostlive.models.registry import BY_FILENAME, BY_NAME, expected_kind

ENGINES = "engines"
"""The folder beside the models where the runtimes keep what they make from them."""
_CACHED = re.compile(
    r"\.(?:(?:int8\.)?ort-[0-9a-f]{16}\.(?:onnx|json)|int8\.(?:onnx|json)|fp(?:16|32)\.[0-9a-f]{20}\.(?:engine|json)"
    r"|fp16\.onnx)"
)
"""The names after ``<stem>`` of the files kept in :data:`ENGINES` for one ONNX model (see the module)."""


def export_source(filename: str, digest: str) -> str:
    """How the manifest records an export of checkpoint ``filename`` whose content is ``digest``."""
    return f"export:{filename}@{digest}"


def stale_exports(
    filename: str, digest: str, recorded: bool, sources: Mapping[str, str], present: Callable[[str], bool]
) -> list[str]:
    """The ONNX exports of registry checkpoint ``filename`` to remove when content ``digest`` replaces it: all
    that are recorded (``sources``: the manifest's file → source) or ``present`` when the old checkpoint was
    ``recorded`` (with other content); else those recorded as exported from another checkpoint of that name (one
    removed by its file name and now installed again): an export of this very content is kept."""
    spec = BY_FILENAME.get(filename)
    exports = spec.exports if spec else ()
    if recorded:
        return [e for e in exports if e in sources or present(e)]
    made_here = [e for e in exports if sources.get(e, "").partition("@")[0] == f"export:{filename}"]
    return [e for e in made_here if sources[e] != export_source(filename, digest)]


def remake_hint(filename: str, exports: list[str]) -> str:
    """The commands that make ``exports`` of registry checkpoint ``filename`` again."""
    spec = BY_FILENAME[filename]
    return " and ".join(f"ghostlive export {spec.name}" + (" --fp16" if e != spec.exports_to else "") for e in exports)


def cached_files(root: Path, filename: str) -> list[Path]:
    """The files the runtimes keep in ``root/engines`` for the ONNX model ``filename`` (see the module); none
    for other files, or when the folder cannot be read."""
    if not filename.endswith(".onnx"):
        return []
    stem = filename.removesuffix(".onnx")
    try:
        names = os.listdir(root / ENGINES)
    except OSError:
        return []
    return sorted(root / ENGINES / n for n in names if n.startswith(f"{stem}.") and _CACHED.fullmatch(n[len(stem) :]))


def install_hint(filename: str, installed: Callable[[str], bool]) -> str:
    """The command that installs the missing model file ``filename``: the export of an installed checkpoint, the
    download of a registry model, else an import. ``installed(name)``: whether a file is installed."""
    known = expected_kind(filename)
    spec = BY_NAME[known[0]] if known else None
    if spec is None:
        return "ghostlive models import FILE"
    export = f"ghostlive export {spec.name}" + (" --fp16" if filename != spec.exports_to else "")
    if filename in spec.exports and installed(spec.filename):
        return export
    if not spec.url:
        return "ghostlive models import FILE"
    download = f"ghostlive models download {spec.name}"
    return f"{download} && {export}" if filename in spec.exports[1:] else download
