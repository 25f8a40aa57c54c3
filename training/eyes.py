"""The built-in, download-free eye loss: ghostlive's bundled face-mesh and iris models run in torch.

Both ONNX graphs are converted with onnx2torch (their fixed batch size of 1 in ``Reshape`` is made dynamic
first), so they run batched and are differentiable. The mesh (no gradient) finds the eye corners of each target
crop; the same 64×64 eye windows (MediaPipe's iris ROI: 2.3× the corner distance, corners level, left eye
mirrored) are cut from the target and from the generated face by ``grid_sample``; the iris model gives each
pupil, which is drawn as a Gaussian heatmap (σ = 2 px); the loss is the MSE between the target's and the
output's heatmaps, summed over both eyes, as GHOST does with the pupil heatmaps of its 98-point FAN. Gradients
reach the generated image only through the eye windows.
"""

from __future__ import annotations

import sys
import types
from importlib import resources

import numpy as np
import onnx
import torch
import torch.nn.functional as F  # noqa: N812
from onnx import numpy_helper
from torch import nn

from ghostlive.errors import ConfigError
from ghostlive.export.prelu import relu_as_prelu
from ghostlive.models.facemesh import INPUT_SIZE as MESH_SIZE
from ghostlive.models.facemesh import roi_affine, roi_from_landmarks
from ghostlive.models.iris import EYE_CORNERS, eye_roi
from ghostlive.models.iris import INPUT_SIZE as IRIS_SIZE

SIGMA = 2.0


def _onnx2torch() -> types.ModuleType:
    """onnx2torch, imported without torchvision: it imports torchvision only for its NMS and RoIAlign converters,
    which these face models do not use; where torchvision is absent (or a CPU torch cannot load its CUDA build)
    an empty placeholder stands in for the duration of the import."""
    try:
        import onnx2torch
    except (ImportError, RuntimeError) as exc:
        if getattr(exc, "name", "") == "onnx2torch":
            raise ConfigError("the eye loss needs onnx2torch; run: pip install 'ghostlive[train]'") from None
        saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "torchvision" or k.startswith("torchvision.")}
        placeholder, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
        placeholder.ops, ops.roi_align = ops, None  # type: ignore[attr-defined]
        sys.modules.update({"torchvision": placeholder, "torchvision.ops": ops})
        try:
            for k in [k for k in sys.modules if k.startswith("onnx2torch")]:
                del sys.modules[k]
            import onnx2torch
        finally:
            del sys.modules["torchvision"], sys.modules["torchvision.ops"]
            sys.modules.update(saved)
    return onnx2torch


def batched_graph(path: str) -> onnx.ModelProto:
    """The ONNX graph at ``path`` with every constant ``Reshape`` target that pins the batch to 1 set to 0
    ("keep the input's batch"), so it runs on any batch size, and PRelu slopes of shape 1×C×1×1 stored as C×1×1
    (the same broadcast; onnx2torch then uses torch's own prelu instead of a slow masked copy)."""
    model = relu_as_prelu(onnx.load(path))  # the built-in assets ship PRelu rewritten for ONNX Runtime
    shapes = {n.input[1] for n in model.graph.node if n.op_type == "Reshape"}
    slopes = {n.input[1] for n in model.graph.node if n.op_type == "PRelu"}
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init).copy()
        if init.name in shapes and arr.ndim == 1 and len(arr) > 1 and arr[0] == 1:
            arr[0] = 0
        elif init.name in slopes and arr.ndim == 4 and arr.shape[0] == 1:
            arr = arr[0]
        else:
            continue
        init.CopyFrom(numpy_helper.from_array(arr, init.name))
    return model


def torch_model(asset: str) -> nn.Module:
    """A bundled ONNX model as a frozen torch module (NHWC RGB [0, 1] in, as the ONNX model)."""
    path = str(resources.files("ghostlive.assets").joinpath(asset))
    module = _onnx2torch().convert(batched_graph(path)).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def sample_rois(images: torch.Tensor, crop_to_frame: np.ndarray, size: int) -> torch.Tensor:
    """``size``×``size`` NHWC crops of N×3×H×W ``images``: crop pixel (u, v) reads frame pixel
    ``crop_to_frame[n] @ (u, v, 1)`` (pixel centres at integers, as cv2.warpAffine), bilinear, edge replicated."""
    n, _, h, w = images.shape
    m = torch.as_tensor(crop_to_frame, dtype=images.dtype, device=images.device)
    r = torch.arange(size, dtype=images.dtype, device=images.device)
    v, u = torch.meshgrid(r, r, indexing="ij")
    uv1 = torch.stack([u, v, torch.ones_like(u)], -1).reshape(1, -1, 3)
    xy = uv1 @ m.transpose(1, 2)  # N × size² × 2 frame pixels
    grid = torch.stack([(2 * xy[..., 0] + 1) / w - 1, (2 * xy[..., 1] + 1) / h - 1], -1).reshape(n, size, size, 2)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.permute(0, 2, 3, 1)


def gaussian_heatmaps(points: torch.Tensor, size: int, sigma: float = SIGMA) -> torch.Tensor:
    """N×K×2 points (crop pixels) → N×K×size×size Gaussian heatmaps (peak 1), differentiable in the points."""
    r = torch.arange(size, dtype=points.dtype, device=points.device)
    dx = (r.view(1, 1, 1, -1) - points[..., 0, None, None]) ** 2
    dy = (r.view(1, 1, -1, 1) - points[..., 1, None, None]) ** 2
    return torch.exp(-(dx + dy) / (2 * sigma**2))


class MeshEyeLoss(nn.Module):
    """``forward(xt, y)`` (N×3×256×256 in [−1, 1]) → the pupil-heatmap MSE (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.mesh = torch_model("facemesh_468.onnx")
        self.iris = torch_model("iris_landmark.onnx")

    @torch.no_grad()
    def landmarks(self, images01: torch.Tensor, rois: np.ndarray) -> np.ndarray:
        """N×468×2 mesh points (frame pixels) for one ROI per image."""
        out = self.mesh(sample_rois(images01, rois, MESH_SIZE))
        pts = (out[0] if out[0].numel() > out[1].numel() else out[1]).reshape(len(rois), 468, 3)[..., :2]
        pts = pts.double().cpu().numpy()
        return np.einsum("nij,nkj->nki", rois[:, :, :2], pts) + rois[:, None, :, 2]

    @torch.no_grad()
    def locate(self, images01: torch.Tensor) -> np.ndarray:
        """Eye corners (N×4×2, crop pixels; subject's right eye first) of aligned face crops: one mesh pass on a
        ROI covering the crop, a second on the ROI of the first pass's points."""
        n, _, h, _ = images01.shape
        first = np.repeat(roi_affine(np.array([h / 2, h / 2]), float(h), 0.0)[None], n, 0)
        lm = self.landmarks(images01, first)
        lm = self.landmarks(images01, np.stack([roi_from_landmarks(p) for p in lm]))
        return lm[:, [i for side in ("right", "left") for i in EYE_CORNERS[side]]]

    def eye_rois(self, corners: np.ndarray) -> list[np.ndarray]:
        """Per eye (right, left): N×2×3 crop→frame affines of the 64×64 iris windows."""
        out = []
        for k, side in enumerate(("right", "left")):
            landmarks = np.zeros((len(corners), 468, 2))
            a, b = EYE_CORNERS[side]
            landmarks[:, a], landmarks[:, b] = corners[:, 2 * k], corners[:, 2 * k + 1]
            out.append(np.stack([eye_roi(lm, side, mirror=side == "left") for lm in landmarks]))
        return out

    def pupils(self, images01: torch.Tensor, rois: np.ndarray) -> torch.Tensor:
        """N×2 pupil centres in window pixels (differentiable in ``images01``)."""
        a, b = self.iris(sample_rois(images01, rois, IRIS_SIZE))
        iris = a if a.shape[-1] < b.shape[-1] else b
        return iris.reshape(len(rois), 5, 3)[:, 0, :2]

    def forward(self, xt: torch.Tensor, y: torch.Tensor, corners: np.ndarray | None = None) -> torch.Tensor:
        xt01, y01 = xt.float() * 0.5 + 0.5, y.float() * 0.5 + 0.5
        corners = self.locate(xt01) if corners is None else corners
        loss = y01.new_zeros(())
        for rois in self.eye_rois(corners):
            with torch.no_grad():
                target = gaussian_heatmaps(self.pupils(xt01, rois)[:, None], IRIS_SIZE)
            loss = loss + F.mse_loss(gaussian_heatmaps(self.pupils(y01, rois)[:, None], IRIS_SIZE), target)
        return loss
