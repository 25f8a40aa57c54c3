"""``ghostlive doctor``: what this machine can run, and how to fix what it cannot."""

from __future__ import annotations

import glob
import importlib
import importlib.util
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ghostlive.engines.registry import ort_providers, torch_cuda
from ghostlive.xp import cuda_runtime


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    """'ok', 'warn' (works, but slower or without a feature) or 'fail' (a requested feature cannot work)."""
    detail: str
    fix: str = ""


def _version(module: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - a broken install is a finding, not a crash
        return f"broken ({type(exc).__name__}: {exc})"
    return str(getattr(mod, "__version__", "installed"))


def gpu_check() -> Check:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return Check(
            "NVIDIA GPU",
            "warn",
            "no nvidia-smi: no NVIDIA driver found; ghostlive runs on the CPU",
            "for GPU speed install the NVIDIA driver (535 or newer) for your card",
        )
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,driver_version,compute_cap,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return Check("NVIDIA GPU", "fail", f"nvidia-smi failed ({exc})", "reinstall the NVIDIA driver and reboot")
    return Check("NVIDIA GPU", "ok", out.stdout.strip().replace("\n", "; "))


def cupy_check() -> Check:
    version = _version("cupy")
    if version is None:
        return Check(
            "CuPy (GPU warping)",
            "warn",
            "not installed: warping and blending run on the CPU",
            "pip install cupy-cuda12x   (or cupy-cuda13x, matching your CUDA driver)",
        )
    try:
        runtime = cuda_runtime()
    except Exception as exc:  # noqa: BLE001
        return Check(
            "CuPy (GPU warping)",
            "fail",
            f"{version}, but no usable GPU ({type(exc).__name__}: {exc})",
            "match the cupy package to your driver's CUDA version (nvidia-smi shows it)",
        )
    return Check("CuPy (GPU warping)", "ok", f"{version}, CUDA runtime {runtime}")


def ort_check() -> Check:
    version = _version("onnxruntime")
    if version is None:
        return Check("ONNX Runtime", "fail", "not installed", "pip install onnxruntime (CPU) or onnxruntime-gpu")
    providers = ort_providers()
    detail = f"{version}; providers: {', '.join(providers)}"
    if shutil.which("nvidia-smi") and "CUDAExecutionProvider" not in providers:
        return Check("ONNX Runtime", "warn", detail, "pip uninstall onnxruntime && pip install onnxruntime-gpu")
    return Check("ONNX Runtime", "ok", detail)


def cudnn_check() -> Check:
    import ctypes.util

    found = ctypes.util.find_library("cudnn") or glob.glob("/usr/lib/x86_64-linux-gnu/libcudnn.so*")
    pip_cudnn = importlib.util.find_spec("nvidia.cudnn") is not None if importlib.util.find_spec("nvidia") else False
    if found or pip_cudnn:
        return Check("cuDNN", "ok", "found" + (" (pip nvidia-cudnn)" if pip_cudnn else ""))
    return Check("cuDNN", "warn", "not found (needed by ONNX Runtime's CUDA provider)", "pip install nvidia-cudnn-cu12")


def tensorrt_check() -> Check:
    version = _version("tensorrt")
    if version is None:
        return Check(
            "TensorRT",
            "warn",
            "not installed: the fastest backend is unavailable",
            "pip install tensorrt-cu12 (from NVIDIA's package index), then: ghostlive engines build",
        )
    if (
        version.split(".")[0].isdigit()
        and int(version.split(".")[0]) >= 11
        and _version("onnxconverter_common") is None
    ):
        return Check(
            "TensorRT",
            "warn",
            f"{version}: fp16 engines need an fp16 graph (TensorRT 11 has no FP16 flag); they fall back to fp32",
            "pip install onnxconverter-common (included in 'ghostlive[gpu]')",
        )
    return Check("TensorRT", "ok", version)


def torch_check() -> Check:
    version = _version("torch")
    if version is None:
        return Check(
            "PyTorch",
            "warn",
            "not installed: .pth export and the torch backend are unavailable",
            "pip install 'ghostlive[torch]'",
        )
    return Check("PyTorch", "ok", f"{version}, CUDA {'available' if torch_cuda() else 'not available'}")


def virtual_camera_check() -> Check:
    if platform.system() != "Linux":
        return Check(
            "virtual camera",
            "ok" if _version("pyvirtualcam") else "warn",
            "pyvirtualcam " + (_version("pyvirtualcam") or "not installed") + "; needs OBS Virtual Camera",
            "install OBS Studio and start its virtual camera once; pip install pyvirtualcam",
        )
    loaded = Path("/sys/module/v4l2loopback").exists()
    names = []
    for dev in sorted(glob.glob("/sys/class/video4linux/video*")):
        label = Path(dev, "name").read_text().strip() if Path(dev, "name").exists() else "?"
        names.append(f"/dev/{Path(dev).name} ({label})")
    fix = (
        'sudo modprobe v4l2loopback devices=1 video_nr=10 card_label="ghostlive" exclusive_caps=1 '
        "(package v4l2loopback-dkms)"
    )
    if not loaded:
        return Check(
            "virtual camera", "warn", "v4l2loopback is not loaded; devices: " + (", ".join(names) or "none"), fix
        )
    return Check("virtual camera", "ok", "v4l2loopback loaded; devices: " + (", ".join(names) or "none"))


def optional(name: str, module: str, fix: str) -> Check:
    version = _version(module)
    return Check(name, "ok", version) if version else Check(name, "warn", "not installed", fix)


def run_checks() -> list[Check]:
    return [
        Check("Python", "ok", f"{sys.version.split()[0]} on {platform.platform()}"),
        gpu_check(),
        cupy_check(),
        ort_check(),
        cudnn_check(),
        tensorrt_check(),
        torch_check(),
        optional("PyAV (video files)", "av", "pip install 'ghostlive[video]'"),
        optional("PySide6 (GUI)", "PySide6", "pip install 'ghostlive[gui]'"),
        virtual_camera_check(),
    ]


def report(checks: list[Check]) -> str:
    mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
    lines = []
    for c in checks:
        lines.append(f"[{mark[c.status]}] {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            lines.append(f"       fix: {c.fix}")
    return "\n".join(lines)
