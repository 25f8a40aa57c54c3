"""Layering rules, checked on the source: Qt only in ui/, inference runtimes only in engines/ (and export/ for
torch), cupy only in ghostlive/xp.py (and engines/, for device buffers), no print() in the library, no reads of
the shared folder outside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ghostlive", "engines", "export", "ui", "training")


def modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


RULES = {
    "PySide6": ("ui",),
    "PyQt6": (),
    "onnxruntime": ("engines",),
    "tensorrt": ("engines",),
    "torch": ("engines", "export", "training"),  # training: the ghostlive.training package (train extra)
    "cupy": ("ghostlive/xp.py", "engines"),  # engines share device buffers with CuPy
    "cupyx": ("ghostlive/xp.py",),
}


@pytest.mark.parametrize("module", sorted(RULES))
def test_only_allowed_layers_import(module: str) -> None:
    allowed = RULES[module]
    offenders = [
        str(p.relative_to(ROOT))
        for p in modules()
        if module in imported(p) and not str(p.relative_to(ROOT)).startswith(allowed or ("\0",))
    ]
    assert offenders == []


def test_core_imports_without_qt_or_runtimes() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ghostlive.cli, ghostlive.pipeline, ghostlive.faces;"
        "bad=[m for m in ('PySide6','torch','cupy','tensorrt') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_library_does_not_print_or_read_shared() -> None:
    for p in modules():
        if p.name in ("cli.py", "bench.py", "bench_live.py", "bench_int8.py", "models_cli.py", "live_cli.py") or (
            p.name == "train_cli.py"
        ):
            continue
        tree = ast.parse(p.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
        assert not calls, f"print() in {p}"
    needle = "../" + "shared"
    for p in [*modules(), *(ROOT / "tests").rglob("*.py")]:
        assert needle not in p.read_text(), p
