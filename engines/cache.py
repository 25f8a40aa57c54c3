"""The TensorRT engine cache: one engine per (ONNX content, TensorRT version, GPU, precision, batch profile); and
the ONNX Runtime graph cache: one optimised graph per (ONNX content, ONNX Runtime version, CPU).

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


def _first_cpu() -> dict[str, str] | None:
    """The fields of the first processor in /proc/cpuinfo (Linux); None where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read().split("\n\n")[0]
    except OSError:
        return None
    return {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in info.splitlines() if ":" in ln)}


def _flags(fields: dict[str, str]) -> list[str]:
    return fields.get("flags", fields.get("Features", "")).split()


def cpu_info() -> tuple[str, set[str]]:
    """The CPU model name and its feature flags (Linux /proc/cpuinfo; the platform's name and none elsewhere)."""
    import platform

    fields = _first_cpu() or {}
    return fields.get("model name") or platform.processor() or platform.machine(), set(_flags(fields))


def machine_id() -> str:
    """This CPU, for caches whose contents only run where they were made: architecture, model name and
    instruction-set flags (Linux /proc/cpuinfo; the processor string elsewhere), hashed."""
    import platform

    text = f"{platform.machine()} {platform.processor()}"
    fields = _first_cpu()
    if fields is not None:
        text += f" {fields.get('model name', '')} {' '.join(sorted(_flags(fields)))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class GraphKey:
    """What an ONNX Runtime graph optimised with every level (hardware-specific layouts included) depends on."""

    onnx_sha256: str
    ort_version: str
    machine: str
    source_size: int
    source_mtime_ns: int
    """The source file as it was when optimised: a changed file is rehashed, an unchanged one is not."""


class GraphCache:
    """Optimised ONNX Runtime graphs on disk, one per model and machine: ``<stem>.ort-<key>.onnx`` with a JSON
    sidecar of its :class:`GraphKey`. Lookups compare the source's size and mtime with the sidecar's; only a
    changed source is hashed again. Written atomically (a failed optimisation leaves nothing)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, model: Path, ort_version: str) -> Path:
        tag = hashlib.sha256(f"{model.resolve()} {ort_version} {machine_id()}".encode()).hexdigest()[:16]
        return self.root / f"{model.stem}.ort-{tag}.onnx"

    def lookup(self, model: Path, ort_version: str) -> Path | None:
        """The optimised graph of ``model`` for this ONNX Runtime and machine, if cached and current."""
        graph = self.path(model, ort_version)
        meta = graph.with_suffix(".json")
        if not graph.is_file() or graph.stat().st_size == 0 or not meta.is_file():
            return None
        try:
            stored = GraphKey(**json.loads(meta.read_text()))
        except (ValueError, TypeError):
            return None
        st = model.stat()
        if (stored.ort_version, stored.machine) != (ort_version, machine_id()):
            return None
        if (stored.source_size, stored.source_mtime_ns) != (st.st_size, st.st_mtime_ns):
            return None
        return graph

    def invalidate(self, model: Path, ort_version: str) -> None:
        """Forget ``model``'s cached graph (one that failed to load)."""
        graph = self.path(model, ort_version)
        graph.with_suffix(".json").unlink(missing_ok=True)
        graph.unlink(missing_ok=True)

    def store(self, model: Path, ort_version: str, optimised: Path) -> Path:
        """Publish ``optimised`` (a graph just written by ONNX Runtime) as ``model``'s cached graph."""
        graph = self.path(model, ort_version)
        st = model.stat()
        key = GraphKey(onnx_digest(model), ort_version, machine_id(), st.st_size, st.st_mtime_ns)
        for old in self.root.glob(f"{model.stem}.ort-*.onnx"):  # another ORT version, machine or source
            if old != graph:
                old.unlink(missing_ok=True)
                old.with_suffix(".json").unlink(missing_ok=True)
        optimised.replace(graph)
        atomic_write_bytes(graph.with_suffix(".json"), json.dumps(asdict(key), indent=1).encode())
        return graph
