"""Layering rules: import-linter's contracts in pyproject.toml (core ← models/ops ← stages ← pipeline ← session ←
cli/ui; Qt only in ghostlive.ui, torch only in engines/export/training, ONNX Runtime and TensorRT only in
engines, cupy only in xp and engines), run by .ci/lint_imports.py on the installed layout; and, checked on the
source, no print() in the library and no reads of the shared folder outside the repository."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ghostlive", "engines", "export", "ui", "training")


def modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


def _lint_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_imports", ROOT / ".ci" / "lint_imports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lint_imports", module)
    spec.loader.exec_module(module)
    return module


def test_layer_contracts_are_kept(tmp_path: Path) -> None:
    lint = _lint_module()
    lint.stage(tmp_path)
    proc = lint.lint(tmp_path, capture=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout and "5 kept" in proc.stdout


@pytest.mark.parametrize(
    ("where", "code", "contract"),
    [
        ("ghostlive/models/slip.py", "import PySide6\n", "Qt only in ghostlive.ui"),
        ("ghostlive/pipeline/slip.py", "import torch\n", "torch only in ghostlive.engines, .export, .training"),
        ("ghostlive/faces_slip.py", "import onnxruntime\n", "ONNX Runtime, TensorRT only in ghostlive.engines"),
        ("ghostlive/ops/slip.py", "import cupy\n", "cupy only in ghostlive.xp and .engines"),
        ("", "", "core ← models/ops ← stages ← pipeline ← session ← cli/ui"),
    ],
)
def test_contracts_catch_a_slip(tmp_path: Path, where: str, code: str, contract: str) -> None:
    """Each contract fails when a module breaks it (a lower layer importing an upper one: errors → jobs)."""
    lint = _lint_module()
    lint.stage(tmp_path)
    if not code:  # the core layer importing the pipeline layer
        errors = tmp_path / "ghostlive" / "errors.py"
        errors.write_text(errors.read_text() + "\nfrom ghostlive import jobs  # noqa\n")
    else:
        (tmp_path / where).write_text(code)
    proc = lint.lint(tmp_path, capture=True)
    assert proc.returncode == 1, proc.stdout
    assert f"{contract} BROKEN" in proc.stdout
    assert "1 broken" in proc.stdout


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


ENTRY_POINTS = frozenset(
    (
        "cli.py",
        "bench.py",
        "bench_live.py",
        "bench_int8.py",
        "bench_video.py",
        "models_cli.py",
        "live_cli.py",
        "train_cli.py",
    )
)
"""Modules that print their tables and messages (the command line's own); the library logs instead."""


def test_library_does_not_print_or_read_shared() -> None:
    for p in modules():
        if p.name in ENTRY_POINTS:
            continue
        tree = ast.parse(p.read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
        assert not calls, f"print() in {p}"
    needle = "../" + "shared"
    for p in [*modules(), *(ROOT / "tests").rglob("*.py")]:
        assert needle not in p.read_text(), p
