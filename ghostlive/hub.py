"""The model manager: a folder of model files with their SHA-256 recorded, downloads that resume and verify,
imports, and a check on every load.

Files live in ``$GHOSTLIVE_HOME/models`` (default: the user data folder). Reading (listing, verifying, loading)
needs no write, so it works in a read-only folder; every write first checks that it can (``writable``).
``manifest.json`` records each file's SHA-256 and size when it is first installed (checked against the
published hash, where the registry has one); every later load hashes the file again and refuses it if it
changed. Downloads go to ``.downloads/NAME.part`` and resume from there; a file, imported or downloaded, enters
the folder only complete and checked to be the model its name says (:mod:`ghostlive.models.validate`), by an
atomic rename. A file replaced by other content takes with it what was made from the old one (its ONNX exports
and the runtimes' caches: :mod:`ghostlive.models.derived`); removing a file removes those caches too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ghostlive.errors import ConfigError, ModelError, OutputError
from ghostlive.media.paths import atomic_write_bytes, publish, reason, require_file, sha256_file, writable_folder
from ghostlive.models.derived import cached_files, install_hint, remake_hint, stale_exports
from ghostlive.models.downloads import Progress, extract_members, fetch
from ghostlive.models.registry import BY_FILENAME, ModelSpec
from ghostlive.models.validate import name_problem, require_checker, vet

log = logging.getLogger(__name__)

Say = Callable[[str], None]
__all__ = ["Installed", "ModelStore", "Progress", "check_models_folder", "default_home", "fetch", "has_models_folder"]


def default_home() -> Path:
    env = os.environ.get("GHOSTLIVE_HOME")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("ghostlive"))


def has_models_folder(home: Path | None = None) -> bool:
    """Whether the model folder exists (checked before opening a :class:`ModelStore`, which creates it)."""
    return ((home or default_home()) / "models").is_dir()


def check_models_folder(home: Path | None = None) -> None:
    """ConfigError naming the first existing part of the model folder's path that is not a folder (a
    GHOSTLIVE_HOME that names a file); creates nothing."""
    root = (home or default_home()) / "models"
    for p in (root, *root.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                hint = " (check GHOSTLIVE_HOME)" if os.environ.get("GHOSTLIVE_HOME") else ""
                raise ConfigError(f"not a folder, so it cannot hold the model folder {root}{hint}", p)
            return


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
        check_models_folder(self.root.parent)

    def writable(self) -> Path:
        """The model folder, created if needed and checked writable (one temporary file); OutputError
        ``…/models: cannot write in the model folder (REASON)`` otherwise."""
        self._check_folder()
        return writable_folder(self.root, "model folder")

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
            if not isinstance(raw, dict):
                raise TypeError(f"a JSON object of files was expected, not {type(raw).__name__}")
            return {k: Installed(**v) for k, v in raw.items()}
        except (ValueError, TypeError) as exc:
            raise ModelError(
                f"the model manifest is damaged ({exc}); delete it and re-import the models", self._manifest_path
            ) from None

    def _record(self, entry: Installed) -> None:
        data = {k: vars(v) for k, v in self.manifest().items()}
        data[entry.filename] = vars(entry)
        self.write_json(self._manifest_path.name, data)

    def _install(self, staged: Path, filename: str, source: str, digest: str = "", say: Say = log.info) -> Path:
        """Move ``staged`` into place as ``filename`` and record it (``digest``: its SHA-256, when known). What
        was made from a file it replaces goes first (see :meth:`_drop_made_from`)."""
        digest = digest or sha256_file(staged)
        manifest = self.manifest()  # a damaged manifest refuses before anything moves
        self._drop_made_from(filename, digest, manifest, say)
        dest = self.root / filename
        publish(staged, dest, follow_links=False)  # a link to a shared copy is replaced, not written
        try:
            self._record(Installed(filename, digest, dest.stat().st_size, source))
        except BaseException:
            if filename not in manifest:  # nothing unrecorded is left
                dest.unlink(missing_ok=True)
            raise
        log.info("installed %s (sha256 %s)", dest, digest)
        return dest

    def _drop_made_from(self, filename: str, digest: str, manifest: dict[str, Installed], say: Say) -> None:
        """Before ``filename`` is replaced by content ``digest`` (unless that is what is recorded): remove the
        ONNX exports made from the old one (:func:`ghostlive.models.derived.stale_exports`) and what the
        runtimes cached for it, and say what went and how to make it again."""
        old = manifest.get(filename)
        if old is not None and old.sha256 == digest:
            return
        sources = {k: v.source for k, v in manifest.items()}
        exports = stale_exports(filename, digest, old is not None, sources, lambda e: (self.root / e).is_file())
        caches = cached_files(self.root, filename)
        if exports:
            self.remove(exports)
            say(f"{filename} is replaced: removed {', '.join(exports)}, exported from the earlier one; make "
                f"{'them' if len(exports) > 1 else 'it'} again: {remake_hint(filename, exports)}")  # fmt: skip
        for path in caches:
            path.unlink(missing_ok=True)
            log.info("removed %s, made from the earlier %s", path, filename)

    # queries ----------------------------------------------------------------------------------------------
    def has(self, filename: str) -> bool:
        return filename in self.manifest() and (self.root / filename).is_file()

    def path(self, filename: str) -> Path:
        """The verified path of an installed file; ModelError if it is missing or changed since install."""
        entry = self.manifest().get(filename)
        p = self.root / filename
        if entry is None or not p.is_file():
            raise ModelError(f"model {filename} is not installed; run: {self.install_hint(filename)}")
        digest = sha256_file(p)
        if digest != entry.sha256:
            raise ModelError(
                f"{filename} changed since it was installed (sha256 {digest[:12]}… != recorded "
                f"{entry.sha256[:12]}…); it is refused. Re-install it.",
                p,
            )
        return p

    def install_hint(self, filename: str) -> str:
        """The command that installs ``filename`` (an export of an installed checkpoint: ``ghostlive export``)."""
        return install_hint(filename, self.has)

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
        """Forget and delete ``filenames`` (plain names in the model folder) and what the runtimes cached for
        them (:func:`ghostlive.models.derived.cached_files`); returns those that were recorded or present. The
        manifest drops them first, in one atomic rewrite, so an interruption leaves at worst an unrecorded file
        (shown as not installed), never a recorded one that is gone."""
        for name in filenames:
            if name_problem(name):
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
        for name in filenames:
            for path in cached_files(self.root, name):
                path.unlink(missing_ok=True)
                log.info("removed %s", path)
        return found

    # adding files -----------------------------------------------------------------------------------------
    def import_file(self, source: str | Path, filename: str | None = None, say: Say = log.info) -> Path:
        """Copy a local model file into the store as ``filename`` (default: its own name; a plain, visible file
        name) and leave the original untouched. The copy must be a usable model of its name (see
        :mod:`ghostlive.models.validate`); otherwise nothing is stored. ``say`` tells what a replaced file took
        with it."""
        src = require_file(source, "model file")
        name = src.name if filename is None else filename
        problem = name_problem(name)
        if problem and filename is not None:
            raise ConfigError(f"--as {name!r}: {problem}; the model folder takes a plain file name")
        if problem:
            raise ConfigError(f"{problem}; store it under another name with --as NAME", src)
        self.manifest()  # a damaged manifest refuses before anything is copied
        spec = BY_FILENAME.get(name)
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix=f"{name}.", suffix=".part")
        os.close(fd)
        try:
            try:
                shutil.copyfile(src, tmp)
            except OSError as exc:  # a full disk, mostly: named as where the model was going
                raise OutputError(f"cannot copy it into the model folder ({reason(exc)})", self.root / name) from None
            digest = vet(Path(tmp), name, str(src), "imported", spec.sha256 if spec else "")
            return self._install(Path(tmp), name, f"import:{src.resolve()}", digest, say)
        finally:
            Path(tmp).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only when empty: a download may be resuming there
                Path(tmp).parent.rmdir()

    def add_file(self, staged: Path, filename: str, source: str, say: Say = log.info) -> Path:
        """Install a file this process made (an ONNX export) and record its hash."""
        return self._install(staged, filename, source, say=say)

    def download(
        self,
        spec: ModelSpec,
        url: str | None = None,
        progress: Progress | None = None,
        timeout: float = 60.0,
        say: Say = log.info,
    ) -> Path:
        """Fetch ``spec`` (resuming a partial download), check it as an import is checked (and against its
        published SHA-256, if any), install; zip archives are unpacked. A refused download is deleted."""
        url = url or spec.url
        if not url:
            raise ModelError(
                f"{spec.name} has no download location; get {spec.filename} yourself and run: "
                f"ghostlive models import PATH"
            )
        self.manifest()  # a damaged manifest refuses before anything is fetched
        require_checker(spec.filename)  # and so does a file this install could not check
        part = self.staging / (Path(url.split("?")[0]).name + ".part")
        fetch(url, part, progress=progress, timeout=timeout)
        if spec.archive_member:
            return self._unpack(part, spec, url, say)
        digest = vet(part, spec.filename, url, "downloaded", spec.sha256)
        return self._install(part, spec.filename, url, digest, say)

    def _unpack(self, archive: Path, spec: ModelSpec, url: str, say: Say) -> Path:
        """Install the members of ``archive`` that the registry names (``spec``'s and its siblings' in the same
        pack), all checked before any is installed."""
        try:
            staged = extract_members(archive, spec, url, self.staging)
        except ModelError:  # not a zip archive: not kept to resume (Ctrl-C or a full disk keep it)
            archive.unlink(missing_ok=True)
            raise
        archive.unlink(missing_ok=True)
        try:
            digests = [vet(t, m.filename, f"{url}#{member}", "downloaded", m.sha256) for m, t, member in staged]
            for (m, tmp, _), digest in zip(staged, digests, strict=True):
                self._install(tmp, m.filename, f"{url}#{m.archive_member}", digest, say)
        finally:
            for _, tmp, _ in staged:
                tmp.unlink(missing_ok=True)
        if not self.has(spec.filename):
            raise ModelError(f"{spec.archive_member} is not in the archive from {url}")
        return self.root / spec.filename
