"""The TensorRT engine cache: one engine per (ONNX content, TensorRT version, GPU, precision, batch profile).

Pure logic with no TensorRT import, so it is tested everywhere. Each engine file has a JSON sidecar with the
fields of its key; an engine whose sidecar is missing, different or unreadable, or whose file is empty, is
rebuilt. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ghostlive.errors import BackendUnavailableError
from ghostlive.media.paths import atomic_write_bytes, sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineKey:
    onnx_sha256: str
    trt_version: str
    gpu_name: str
    compute_capability: str
    precision: str
    batch: tuple[int, int, int]
    """min, opt, max batch of the optimisation profile."""

    @property
    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def filename(self, model_name: str) -> str:
        return f"{model_name}.{self.precision}.{self.digest}.engine"


onnx_digest = sha256_file
"""The engine cache key's model digest: the SHA-256 of the ONNX file."""


class EngineCache:
    """Engines on disk, looked up by key; ``get_or_build`` builds (with the given builder) when needed."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def paths(self, name: str, key: EngineKey) -> tuple[Path, Path]:
        engine = self.root / key.filename(name)
        return engine, engine.with_suffix(".json")

    def valid(self, name: str, key: EngineKey) -> bool:
        engine, meta = self.paths(name, key)
        if not engine.is_file() or engine.stat().st_size == 0 or not meta.is_file():
            return False
        try:
            stored = json.loads(meta.read_text())
        except ValueError:
            return False
        stored["batch"] = tuple(stored.get("batch", ()))
        return stored == asdict(key)

    def stale(self, name: str) -> list[Path]:
        """Engines of ``name`` made for another ONNX file, TensorRT, GPU or profile."""
        return sorted(self.root.glob(f"{name}.*.engine"))

    def get_or_build(self, name: str, key: EngineKey, build: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The serialized engine and whether it was built now. Older engines of ``name`` are removed."""
        engine, meta = self.paths(name, key)
        if self.valid(name, key):
            return engine.read_bytes(), False
        for old in self.stale(name):
            if old != engine:
                log.info("removing outdated engine %s", old.name)
                old.unlink(missing_ok=True)
                old.with_suffix(".json").unlink(missing_ok=True)
        data = build()
        if not data:
            raise BackendUnavailableError(f"TensorRT produced no engine for {name}")
        atomic_write_bytes(engine, data)
        atomic_write_bytes(meta, json.dumps(asdict(key), indent=1).encode())
        return data, True

    def invalidate(self, name: str, key: EngineKey) -> None:
        """Forget an engine that failed to load (for example one built for another GPU)."""
        for p in self.paths(name, key):
            p.unlink(missing_ok=True)
