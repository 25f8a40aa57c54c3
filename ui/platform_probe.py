"""Can Qt open a window here? Asked in a subprocess, because a Qt platform plugin that cannot load aborts the
whole process (a core dump, not an exception).

``python -m ghostlive.ui.platform_probe`` starts a QGuiApplication and prints the platform's name. Everything
else in this module is Qt-free: it runs that probe, and when it fails finds out why (the system libraries the
plugin lacks, mapped to Debian/Ubuntu package names, or no display) in one line.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NO_PROBE = ("offscreen", "minimal")
"""Platforms that need no display and no system libraries: nothing to probe."""
PROBE_TIMEOUT = 30.0
PACKAGES = {"libglib-2.0.so.0": "libglib2.0-0", "libfreetype.so.6": "libfreetype6", "libz.so.1": "zlib1g"}
"""Debian package names that the usual rule (see :func:`debian_package`) does not give."""
DLOPENED = {"xcb": ("libxcb-cursor.so.0",)}
"""Libraries a plugin opens at run time (so ldd does not list them)."""


NO_DISPLAY_FIX = "use a desktop session, ssh -X or xvfb-run"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    platform: str
    """What Qt started (when ok) or was asked for."""
    output: str


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``: libxcb-cursor.so.0 → libxcb-cursor0,
    libxkbcommon-x11.so.0 → libxkbcommon-x11-0 (a dash when the name ends in a digit)."""
    if soname in PACKAGES:
        return PACKAGES[soname]
    m = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\..*)?", soname)
    if not m:
        return soname
    base, major = m.group(1).lower(), m.group(2)
    return f"{base}{'-' if base[-1].isdigit() else ''}{major}"


def install_command(missing: list[str]) -> str:
    """The apt command that installs the packages shipping the ``missing`` libraries."""
    return "sudo apt install " + " ".join(dict.fromkeys(debian_package(s) for s in missing))


def requested_platform(env: dict[str, str]) -> str:
    """The platform plugin Qt will try first under ``env``."""
    name = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if name:
        return name
    if sys.platform.startswith("linux"):
        return "wayland" if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY") else "xcb"
    return "cocoa" if sys.platform == "darwin" else "windows"


def plugin_path(platform: str) -> Path | None:
    """The Qt platform plugin library shipped with PySide6 (None when absent)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
    return path if path.is_file() else None


def missing_libraries(platform: str) -> list[str]:
    """Shared libraries the platform plugin needs and the system lacks (ldd, plus those it opens at run time)."""
    plugin = plugin_path(platform)
    ldd = shutil.which("ldd")
    missing: list[str] = []
    if plugin is not None and ldd is not None:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False).stdout
        missing = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.M)
    for soname in DLOPENED.get(platform, ()):
        if ctypes.util.find_library(soname.removeprefix("lib").split(".so")[0]) is None:
            missing.append(soname)
    return sorted(set(missing))


def run_probe(env: dict[str, str] | None = None, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Start Qt in a subprocess under ``env`` (default: this process's environment)."""
    env = dict(os.environ if env is None else env)
    cmd = [sys.executable, "-m", "ghostlive.ui.platform_probe"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, requested_platform(env), f"Qt did not start within {timeout:.0f} s")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return ProbeResult(True, lines[-1], proc.stderr)
    return ProbeResult(False, requested_platform(env), proc.stderr.strip())


def explain(result: ProbeResult, env: dict[str, str]) -> str:
    """One line: why Qt could not start, and what fixes it."""
    platform = result.platform
    reasons = []
    missing = missing_libraries(platform)
    if missing:
        reasons.append(f"it lacks the system libraries {', '.join(missing)} (install: {install_command(missing)})")
    if platform in ("xcb", "wayland") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        reasons.append(f"there is no display (DISPLAY and WAYLAND_DISPLAY are unset: {NO_DISPLAY_FIX})")
    if not reasons:
        last = [ln for ln in result.output.splitlines() if ln.strip()]
        reasons.append(last[-1] if last else "Qt aborted while starting")
    return f'the desktop app cannot open a window: Qt platform plugin "{platform}": ' + "; and ".join(reasons)


def gui_problem(env: dict[str, str] | None = None) -> str | None:
    """None when Qt can start a GUI under ``env`` (offscreen/minimal always can), else the one-line reason."""
    env = dict(os.environ if env is None else env)
    if requested_platform(env) in NO_PROBE:
        return None
    result = run_probe(env)
    return None if result.ok else explain(result, env)


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    sys.stdout.write(app.platformName() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
