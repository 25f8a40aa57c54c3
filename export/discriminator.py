"""GHOST's multiscale PatchGAN discriminator (pix2pixHD style), needed only for fine-tuning."""

from __future__ import annotations

import torch
from torch import nn


def _patch_d(n_layers: int = 5, ndf: int = 64, cap: int = 512) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, 2, 2), nn.LeakyReLU(0.2, inplace=True)]
    nf = ndf
    for _ in range(1, n_layers):
        prev, nf = nf, min(nf * 2, cap)
        layers += [nn.Conv2d(prev, nf, 4, 2, 2), nn.InstanceNorm2d(nf), nn.LeakyReLU(0.2, inplace=True)]
    prev, nf = nf, min(nf * 2, cap)
    layers += [nn.Conv2d(prev, nf, 4, 1, 2), nn.InstanceNorm2d(nf), nn.LeakyReLU(0.2, inplace=True)]
    layers += [nn.Conv2d(nf, 1, 4, 1, 2)]
    return nn.Sequential(*layers)


class MultiscaleDiscriminator(nn.Module):
    """Three PatchGANs on the image at 256, 128 and 64 px; ``forward`` returns their logit maps.
    ``width`` < 1 scales the channels (same keys) for quick tests; the released checkpoints are ``width=1``."""

    def __init__(self, num_d: int = 3, n_layers: int = 5, width: float = 1.0) -> None:
        super().__init__()
        self.num_d = num_d
        ndf, cap = max(4, round(64 * width)), max(4, round(512 * width))
        for i in range(num_d):
            setattr(self, f"layer{i}", _patch_d(n_layers, ndf, cap))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i in range(self.num_d):
            out.append(getattr(self, f"layer{self.num_d - 1 - i}")(x))
            if i != self.num_d - 1:
                x = self.downsample(x)
        return out
