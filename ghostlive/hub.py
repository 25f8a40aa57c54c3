"""The model manager: a folder of model files with their SHA-256 recorded, downloads that resume and verify,
imports, and a check on every load.

Files live in ``$GHOSTLIVE_HOME/models`` (default: the user data folder). Reading (listing, verifying, loading)
needs no write, so it works in a read-only folder; every write first checks that it can (``writable``).
``manifest.json`` records each file's SHA-256 and size when it is first installed (or the published hash, where
one exists); every later load hashes the file again and refuses it if it changed. Downloads go to
``.downloads/NAME.part`` and resume from there; a file enters the folder only complete and verified, by an
atomic rename.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ghostlive.errors import ConfigError, ModelError, OutputError
from ghostlive.media.paths import atomic_write_bytes, publish, require_file, sha256_file
from ghostlive.models.registry import BY_FILENAME, BY_NAME, ModelSpec, expected_kind

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
CHUNK = 1 << 20


def default_home() -> Path:
    env = os.environ.get("GHOSTLIVE_HOME")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ghostlive"))


def has_models_folder(home: Path | None = None) -> bool:
    """Whether the model folder exists (checked before opening a :class:`ModelStore`, which creates it)."""
    return ((home or default_home()) / "models").is_dir()


@dataclass(frozen=True)
class Installed:
    filename: str
    sha256: str
    size: int
    source: str


class ModelStore:
    """The installed models (see the module docstring)."""

    def __init__(self, home: Path | None = None) -> None:
        self.root = (home or default_home()) / "models"
        self._manifest_path = self.root / "manifest.json"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError:  # read-only, or GHOSTLIVE_HOME is a file: reading still works; writes say why (writable)
            log.debug("cannot create %s", self.root, exc_info=True)

    # the folder -------------------------------------------------------------------------------------------
    def _check_folder(self) -> None:
        """ConfigError naming the first existing part of the model folder's path that is not a folder (a
        GHOSTLIVE_HOME that names a file)."""
        for p in (self.root, *self.root.parents):
            if p.exists() or p.is_symlink():
                if not p.is_dir():
                    hint = " (check GHOSTLIVE_HOME)" if os.environ.get("GHOSTLIVE_HOME") else ""
                    raise ConfigError(f"not a folder, so it cannot hold the model folder {self.root}{hint}", p)
                return

    def writable(self) -> Path:
        """The model folder, created if needed and checked writable (one temporary file); OutputError
        ``…/models: cannot write in the model folder (REASON)`` otherwise."""
        self._check_folder()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".write-check.")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(f"cannot write in the model folder ({exc.strerror or exc})", self.root) from None
        return self.root

    @property
    def staging(self) -> Path:
        """``.downloads`` in the model folder, where files are prepared; using it is a write (see writable)."""
        folder = self.writable() / ".downloads"
        folder.mkdir(exist_ok=True)
        return folder

    def write_json(self, filename: str, data: object) -> None:
        """Replace ``filename`` in the model folder with ``data`` as JSON, atomically."""
        text = json.dumps(data, indent=1, sort_keys=True)
        atomic_write_bytes(self.writable() / filename, text.encode())

    # manifest ---------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Installed]:
        self._check_folder()
        if not self._manifest_path.exists():
            return {}
        try:
            raw = json.loads(self._manifest_path.read_text())
            return {k: Installed(**v) for k, v in raw.items()}
        except (ValueError, TypeError) as exc:
            raise ModelError(
                f"the model manifest is damaged ({exc}); delete it and re-import the models", self._manifest_path
            ) from None

    def _record(self, entry: Installed) -> None:
        data = {k: vars(v) for k, v in self.manifest().items()}
        data[entry.filename] = vars(entry)
        self.write_json(self._manifest_path.name, data)

    def _install(self, staged: Path, filename: str, source: str, expected: str = "") -> Path:
        """Hash ``staged``, check it against ``expected`` (if any), move it into place and record it."""
        digest = sha256_file(staged)
        if expected and digest != expected:
            staged.unlink(missing_ok=True)
            raise ModelError(
                f"SHA-256 mismatch for {filename}: got {digest}, expected {expected}; "
                "the file was corrupted or replaced and has been deleted"
            )
        dest = self.root / filename
        publish(staged, dest)
        self._record(Installed(filename, digest, dest.stat().st_size, source))
        log.info("installed %s (sha256 %s)", dest, digest)
        return dest

    # queries ----------------------------------------------------------------------------------------------
    def has(self, filename: str) -> bool:
        return filename in self.manifest() and (self.root / filename).is_file()

    def path(self, filename: str) -> Path:
        """The verified path of an installed file; ModelError if it is missing or changed since install."""
        entry = self.manifest().get(filename)
        p = self.root / filename
        if entry is None or not p.is_file():
            known = expected_kind(filename)  # a registry file, or the ONNX export of one (made by its download)
            spec = BY_NAME[known[0]] if known else None
            hint = f"ghostlive models download {spec.name}" if spec and spec.url else "ghostlive models import FILE"
            raise ModelError(f"model {filename} is not installed; run: {hint}")
        digest = sha256_file(p)
        if digest != entry.sha256:
            raise ModelError(
                f"{filename} changed since it was installed (sha256 {digest[:12]}… != recorded "
                f"{entry.sha256[:12]}…); it is refused. Re-install it.",
                p,
            )
        return p

    def state(self, filename: str, manifest: dict[str, Installed] | None = None) -> str:
        """A cheap look for listings, without hashing: 'ok', 'missing' (recorded, the file is gone), 'changed'
        (its size differs from the recorded one; ``verify`` also finds same-size changes) or '' (not
        recorded). ``manifest``: one already read."""
        entry = (self.manifest() if manifest is None else manifest).get(filename)
        if entry is None:
            return ""
        p = self.root / filename
        if not p.is_file():
            return "missing"
        return "ok" if p.stat().st_size == entry.size else "changed"

    def verify(self) -> dict[str, str]:
        """filename → 'ok' | 'changed' | 'missing' for every recorded file."""
        out = {}
        for name, entry in self.manifest().items():
            p = self.root / name
            out[name] = "missing" if not p.is_file() else ("ok" if sha256_file(p) == entry.sha256 else "changed")
        return out

    def remove(self, filenames: list[str]) -> list[str]:
        """Forget and delete ``filenames`` (plain names in the model folder); returns those that were recorded
        or present. The manifest drops them first, in one atomic rewrite, so an interruption leaves at worst an
        unrecorded file (shown as not installed), never a recorded one that is gone."""
        for name in filenames:
            if not name or Path(name).name != name or name.startswith("."):
                raise ModelError(f"{name!r} is not a model file name")
        self.writable()
        manifest = self.manifest()
        found = [n for n in filenames if n in manifest or (self.root / n).is_file()]
        if any(n in manifest for n in filenames):
            self.write_json(self._manifest_path.name, {k: vars(v) for k, v in manifest.items() if k not in filenames})
        for name in found:
            if (self.root / name).is_file():
                (self.root / name).unlink()
            log.info("removed %s", self.root / name)
        return found

    # adding files -----------------------------------------------------------------------------------------
    def import_file(self, source: str | Path, filename: str | None = None) -> Path:
        """Copy a local model file into the store (the original is left untouched). The copy must be a usable
        model of its name (see :mod:`ghostlive.models.validate`); otherwise nothing is stored."""
        from ghostlive.models.validate import check_model_file

        src = require_file(source, "model file")
        name = filename or src.name
        spec = BY_FILENAME.get(name)
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix=f"{name}.", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            checked = check_model_file(Path(tmp), name, src)
            log.info("%s: %s", src, checked)
            return self._install(Path(tmp), name, f"import:{src.resolve()}", spec.sha256 if spec else "")
        finally:
            Path(tmp).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only when empty: a download may be resuming there
                Path(tmp).parent.rmdir()

    def add_file(self, staged: Path, filename: str, source: str) -> Path:
        """Install a file this process made (an ONNX export) and record its hash."""
        return self._install(staged, filename, source)

    def download(
        self, spec: ModelSpec, url: str | None = None, progress: Progress | None = None, timeout: float = 60.0
    ) -> Path:
        """Fetch ``spec`` (resuming a partial download), verify, install; zip archives are unpacked."""
        url = url or spec.url
        if not url:
            raise ModelError(
                f"{spec.name} has no download location; get {spec.filename} yourself and run: "
                f"ghostlive models import PATH"
            )
        part = self.staging / (Path(url.split("?")[0]).name + ".part")
        fetch(url, part, progress=progress, timeout=timeout)
        if spec.archive_member:
            return self._unpack(part, spec, url)
        return self._install(part, spec.filename, url, spec.sha256)

    def _unpack(self, archive: Path, spec: ModelSpec, url: str) -> Path:
        try:
            with zipfile.ZipFile(archive) as zf:
                members = {Path(n).name: n for n in zf.namelist()}
                home = BY_NAME[spec.name].url if spec.name in BY_NAME else url  # siblings in the same pack
                siblings = [m for m in BY_NAME.values() if m.url == home and m.archive_member] or [spec]
                wanted = [m for m in siblings if m.archive_member in members]
                for m in wanted:
                    fd, tmp = tempfile.mkstemp(dir=self.staging, prefix=f"{m.filename}.", suffix=".part")
                    with os.fdopen(fd, "wb") as out, zf.open(members[m.archive_member]) as src:
                        shutil.copyfileobj(src, out, CHUNK)
                    self._install(Path(tmp), m.filename, f"{url}#{m.archive_member}", m.sha256)
        except zipfile.BadZipFile:
            archive.unlink(missing_ok=True)
            raise ModelError(f"the download from {url} is not a valid zip archive; it has been deleted") from None
        archive.unlink(missing_ok=True)
        if not self.has(spec.filename):
            raise ModelError(f"{spec.archive_member} is not in the archive from {url}")
        return self.root / spec.filename


def fetch(url: str, part: Path, *, progress: Progress | None = None, timeout: float = 60.0) -> None:
    """Download ``url`` into ``part``, continuing from its current size with an HTTP Range request.

    An incomplete transfer raises ModelError and keeps ``part`` so the same command resumes it.
    """
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(
        url, headers={"User-Agent": "ghostlive", **({"Range": f"bytes={have}-"} if have else {})}
    )
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            return
        raise ModelError(f"download failed: HTTP {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(f"download failed: cannot reach {url} ({getattr(exc, 'reason', exc)})") from None
    with response:
        resumed = response.status == 206
        if not resumed:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        last = 0.0
        with open(part, "ab" if resumed else "wb") as f:
            try:
                while block := response.read(CHUNK):
                    f.write(block)
                    done += len(block)
                    if progress and time.monotonic() - last > 0.2:
                        progress(done, total)
                        last = time.monotonic()
            except (OSError, TimeoutError, http.client.HTTPException) as exc:
                raise ModelError(
                    f"download interrupted after {done:,} bytes ({exc}); run the same command again to resume"
                ) from None
        if progress:
            progress(done, total)
    if total is not None and done < total:
        raise ModelError(
            f"download incomplete: got {done:,} of {total:,} bytes from {url}; run the same command again to resume"
        )
