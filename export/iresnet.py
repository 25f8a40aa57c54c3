"""ArcFace iresnet100 (insightface layout), as loaded by GHOST from ``backbone.pth``."""

from __future__ import annotations

import torch
from torch import nn

BN_EPS = 1e-5


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=BN_EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class IResNet(nn.Module):
    """``forward(N×3×112×112 in [−1, 1]) → N×512`` raw (not normalised) identity embedding."""

    def __init__(
        self,
        layers: tuple[int, ...] = (3, 13, 30, 3),
        num_features: int = 512,
        widths: tuple[int, int, int, int] = (64, 128, 256, 512),
    ) -> None:
        """``widths`` other than the default only make small stand-ins (training smoke runs and tests)."""
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0], eps=BN_EPS)
        self.prelu = nn.PReLU(widths[0])
        cin = widths[0]
        for i, (n, width) in enumerate(zip(layers, widths, strict=True)):
            down = nn.Sequential(nn.Conv2d(cin, width, 1, 2, bias=False), nn.BatchNorm2d(width, eps=BN_EPS))
            blocks = [IBasicBlock(cin, width, 2, down)] + [IBasicBlock(width, width, 1, None) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = width
        self.bn2 = nn.BatchNorm2d(widths[3], eps=BN_EPS)
        self.dropout = nn.Dropout(p=0.0)
        self.fc = nn.Linear(widths[3] * 7 * 7, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))


def iresnet100() -> IResNet:
    return IResNet((3, 13, 30, 3))
