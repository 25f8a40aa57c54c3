"""The AdaptiveWingLoss landmark network (FAN: 4 stacked hourglasses with CoordConv, WFLW 98 points), written
from its public architecture (Wang et al., "Adaptive Wing Loss", ICCV 2019), so GHOST's own eye loss can use
``WFLW_4HG.pth``. Module names follow the public definition, so its state_dict keys are the checkpoint's.

GHOST builds it as ``FAN(4, "False", "False", 98)``: the string "False" is truthy, so the ReLU at the end of each
heatmap head is on; this definition does the same. Input: N×3×256×256 RGB in [0, 1]; output: the heatmaps of each
hourglass, N×99×64×64 (98 landmarks + a boundary map). GHOST's eye loss uses the last stack's pupil channels
96 and 97.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ghostlive.errors import ModelError

PUPILS = (96, 97)


def _coords(n: int, size: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two coordinate channels in the public definition's order: the first varies down the rows, the second
    along the columns (both −1 … 1)."""
    r = torch.linspace(-1.0, 1.0, size, dtype=like.dtype, device=like.device)
    rows, cols = torch.meshgrid(r, r, indexing="ij")
    return rows.expand(n, 1, size, size), cols.expand(n, 1, size, size)


class CoordConvTh(nn.Module):
    """Conv over the input plus x, y and radius channels (and, after the first hourglass, x/y masked by the
    previous stack's boundary heatmap > 0.05)."""

    def __init__(self, size: int, cin: int, cout: int, *, boundary: bool, first: bool, **kw: int) -> None:
        super().__init__()
        self.size, self.boundary = size, boundary and not first
        self.conv = nn.Conv2d(cin + 3 + (2 if self.boundary else 0), cout, **kw)

    def forward(self, x: torch.Tensor, heatmap: torch.Tensor | None = None) -> torch.Tensor:
        xx, yy = _coords(x.shape[0], self.size, x)
        rr = torch.sqrt(xx**2 + yy**2)
        parts = [x, xx, yy, rr / rr.max()]
        if self.boundary and heatmap is not None:
            edge = heatmap[:, -1:].clamp(0.0, 1.0) > 0.05
            parts += [torch.where(edge, xx, 0.0), torch.where(edge, yy, 0.0)]
        return self.conv(torch.cat(parts, 1))


class ConvBlock(nn.Module):
    """Pre-activation block of three 3×3 convs (c/2, c/4, c/4) concatenated, plus a (projected) residual."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout // 2, 3, 1, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout // 2), nn.Conv2d(cout // 2, cout // 4, 3, 1, 1, bias=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(cout // 4), nn.Conv2d(cout // 4, cout // 4, 3, 1, 1, bias=False)
        self.downsample = (
            nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(True), nn.Conv2d(cin, cout, 1, 1, bias=False))
            if cin != cout
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o1 = self.conv1(F.relu(self.bn1(x)))
        o2 = self.conv2(F.relu(self.bn2(o1)))
        o3 = self.conv3(F.relu(self.bn3(o2)))
        out = torch.cat((o1, o2, o3), 1)
        return out + (self.downsample(x) if self.downsample is not None else x)


class HourGlass(nn.Module):
    def __init__(self, depth: int, features: int, first: bool) -> None:
        super().__init__()
        self.depth = depth
        self.coordconv = CoordConvTh(64, features, features, boundary=True, first=first, kernel_size=1)
        for level in range(depth, 0, -1):
            self.add_module(f"b1_{level}", ConvBlock(features, features))
            self.add_module(f"b2_{level}", ConvBlock(features, features))
            if level == 1:
                self.add_module(f"b2_plus_{level}", ConvBlock(features, features))
            self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _forward(self, level: int, x: torch.Tensor) -> torch.Tensor:
        up1 = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.avg_pool2d(x, 2, stride=2))
        low = self._forward(level - 1, low) if level > 1 else self._modules[f"b2_plus_{level}"](low)
        low = self._modules[f"b3_{level}"](low)
        return up1 + F.interpolate(low, scale_factor=2, mode="nearest")

    def forward(self, x: torch.Tensor, heatmap: torch.Tensor | None) -> torch.Tensor:
        return self._forward(self.depth, self.coordconv(x, heatmap))


class FAN(nn.Module):
    """``forward(N×3×256×256 RGB [0, 1]) → list of N×(landmarks+1)×64×64 heatmaps, one per hourglass``."""

    def __init__(self, num_modules: int = 4, num_landmarks: int = 98, end_relu: bool = True) -> None:
        super().__init__()
        self.num_modules, self.end_relu = num_modules, end_relu
        self.conv1 = CoordConvTh(256, 3, 64, boundary=False, first=True, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2, self.conv3, self.conv4 = ConvBlock(64, 128), ConvBlock(128, 128), ConvBlock(128, 256)
        for i in range(num_modules):
            self.add_module(f"m{i}", HourGlass(4, 256, first=i == 0))
            self.add_module(f"top_m_{i}", ConvBlock(256, 256))
            self.add_module(f"conv_last{i}", nn.Conv2d(256, 256, 1))
            self.add_module(f"bn_end{i}", nn.BatchNorm2d(256))
            self.add_module(f"l{i}", nn.Conv2d(256, num_landmarks + 1, 1))
            if i < num_modules - 1:
                self.add_module(f"bl{i}", nn.Conv2d(256, 256, 1))
                self.add_module(f"al{i}", nn.Conv2d(num_landmarks + 1, 256, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.conv4(self.conv3(F.avg_pool2d(self.conv2(x), 2, stride=2)))
        previous, heat, outputs = x, None, []
        for i in range(self.num_modules):
            ll = self._modules[f"top_m_{i}"](self._modules[f"m{i}"](previous, heat))
            ll = F.relu(self._modules[f"bn_end{i}"](self._modules[f"conv_last{i}"](ll)))
            heat = self._modules[f"l{i}"](ll)
            if self.end_relu:
                heat = F.relu(heat)
            outputs.append(heat)
            if i < self.num_modules - 1:
                previous = previous + self._modules[f"bl{i}"](ll) + self._modules[f"al{i}"](heat)
        return outputs


def load_fan(path: str | Path) -> FAN:
    """FAN with ``WFLW_4HG.pth`` loaded safely (weights_only; a ``state_dict`` wrapper and ``module.`` prefixes
    are unwrapped) and strictly, frozen in eval mode."""
    from ghostlive.export.checkpoint import load_into

    model = load_into(FAN(), path)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class FanEyeLoss(nn.Module):
    """GHOST's eye loss: MSE between the pupil heatmaps (channels 96, 97 of the last stack) of target and output."""

    def __init__(self, fan: FAN) -> None:
        super().__init__()
        self.fan = fan

    def forward(self, xt: torch.Tensor, y: torch.Tensor, corners: object = None) -> torch.Tensor:
        with torch.no_grad():
            ht = self.fan(xt.float() * 0.5 + 0.5)[-1]
        hy = self.fan(y.float() * 0.5 + 0.5)[-1]
        return sum((F.mse_loss(hy[:, c], ht[:, c]) for c in PUPILS), hy.new_zeros(()))


def check_layout(model: FAN) -> None:
    """Raise ModelError unless ``model`` has the 4-stack WFLW layout (used by tests and ``train`` sanity checks)."""
    sd = model.state_dict()
    if sd["l3.weight"].shape != (99, 256, 1, 1) or sd["m1.coordconv.conv.weight"].shape[1] != 261:
        raise ModelError("FAN layout differs from WFLW_4HG (4 hourglasses, 98 landmarks)")
