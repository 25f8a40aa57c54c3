"""``ghostlive doctor``: what this machine can run, and how to fix what it cannot."""

from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ghostlive.engines.cache import cpu_info
from ghostlive.engines.registry import ort_providers, torch_cuda
from ghostlive.engines.tensorrt import INSTALL_HINT as TENSORRT_INSTALL
from ghostlive.xp import cuda_runtime, resolve_device


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
            f"{TENSORRT_INSTALL}, then: ghostlive engines build",
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


def frame_path_check() -> Check:
    """Run the GPU frame path's ops once on a small synthetic frame and compare with the host: catches what
    import checks miss (kernels that cannot compile, e.g. a missing NVRTC, or a broken driver)."""
    name = "GPU frame path (--device auto)"
    try:
        xp = resolve_device("auto")
    except Exception as exc:  # noqa: BLE001 - a broken install is a finding, not a crash
        return Check(name, "fail", f"{type(exc).__name__}: {exc}", "use --device cpu until CuPy works")
    if xp is np:
        return Check(name, "warn", "frames are processed on the CPU (no usable CuPy)", "pip install 'ghostlive[gpu]'")
    try:
        error = _frame_ops_error(xp)
    except Exception as exc:  # noqa: BLE001
        return Check(
            name,
            "fail",
            f"the GPU ops fail ({type(exc).__name__}: {exc}); ghostlive falls back to the CPU at the first frame",
            "pip install nvidia-cuda-nvrtc-cu12 (CuPy compiles its kernels with NVRTC), or use --device cpu",
        )
    if error > 2.0:
        return Check(name, "fail", f"GPU results differ from the CPU by {error:.1f} grey levels", "use --device cpu")
    return Check(name, "ok", f"warp, blur, resize, raster and blend run on the GPU (max difference {error:.2f})")


def _frame_ops_error(xp: Any) -> float:
    """Largest difference between the device and host results of the frame path's basic ops."""
    from ghostlive.ops.blend import Paste, paste
    from ghostlive.ops.filters import gaussian_blur, resize, warp_affine
    from ghostlive.ops.mask import feathered_mask
    from ghostlive.xp import portable, to_device, to_host

    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8), (0, 0), 2.0)
    m = np.array([[0.9, 0.2, 5.0], [-0.2, 0.9, 8.0]])
    outline = np.array([[30, 20], [90, 25], [100, 70], [60, 90], [25, 65]], np.float32)

    def ops(img: Any) -> list[np.ndarray]:
        warped = warp_affine(img, m, (112, 112))
        soft = feathered_mask((0, 0, 128, 96), outline, feather=3.0, like=img)
        face = gaussian_blur(img.astype(np.float32), 2.0)
        blended = paste(img.copy(), Paste((0, 0, 128, 96), face, soft))
        return [to_host(a).astype(np.float32) for a in (warped, resize(img, (40, 30), interpolation="area"), blended)]

    with portable():
        host = ops(frame)
    device = ops(to_device(frame, xp))
    return max(float(np.abs(h - d).max()) for h, d in zip(host, device, strict=True))


def gui_check() -> Check:
    """PySide6 installed, and Qt's platform plugin really starts (tried in a subprocess: a plugin that cannot load
    aborts its process); missing system libraries are named with the packages that ship them."""
    name = "PySide6 (GUI)"
    version = _version("PySide6")
    if version is None:
        return Check(name, "warn", "not installed", "pip install 'ghostlive[gui]'")
    from ghostlive.ui import platform_probe as probe

    problem = probe.gui_problem()
    if problem is None:
        return Check(name, "ok", f"{version}, Qt starts ({os.environ.get('QT_QPA_PLATFORM') or 'default platform'})")
    missing = probe.missing_libraries(probe.requested_platform(dict(os.environ)))
    if missing:
        return Check(name, "fail", problem, probe.install_command(missing))
    return Check(name, "warn", problem, probe.NO_DISPLAY_FIX)


def optional(name: str, module: str, fix: str) -> Check:
    version = _version(module)
    return Check(name, "ok", version) if version else Check(name, "warn", "not installed", fix)


def threads_check() -> Check:
    """The CPU and the thread budget live and video runs use on it (see :mod:`ghostlive.threads`)."""
    from ghostlive.threads import plan_threads

    live, video = plan_threads("live"), plan_threads("video")
    model, flags = cpu_info()
    simd = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "neon") if f in flags]
    detail = (
        f"{model}, {live.cores} cores ({', '.join(simd) or 'no AVX2'}); "
        f"{live.line()}; {video.line().removeprefix('thread plan ')}"
    )
    return Check("CPU threads", "ok", detail)


def int8_check() -> Check:
    """Whether the installed GHOST generators run int8 on this CPU (see :mod:`ghostlive.optimise`)."""
    from ghostlive.optimise import int8_status

    try:
        status, detail, fix = int8_status()
    except Exception as exc:  # noqa: BLE001 - a damaged model folder is a finding, not a crash
        return Check("GHOST int8 (CPU)", "warn", f"cannot read the decisions ({type(exc).__name__}: {exc})")
    return Check("GHOST int8 (CPU)", status, detail, fix)


def run_checks() -> list[Check]:
    return [
        Check("Python", "ok", f"{sys.version.split()[0]} on {platform.platform()}"),
        threads_check(),
        int8_check(),
        gpu_check(),
        cupy_check(),
        frame_path_check(),
        ort_check(),
        cudnn_check(),
        tensorrt_check(),
        torch_check(),
        optional("PyAV (video files)", "av", "pip install av (a dependency of ghostlive)"),
        gui_check(),
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
