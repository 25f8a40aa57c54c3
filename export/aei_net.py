"""AEI-Net (GHOST's generator) in PyTorch, with state_dict keys equal to the released checkpoints.

Multi-level attribute encoder (U-Net) + AAD generator; identity size 512; 1, 2 or 3 AAD blocks per ResBlk
(``G_unet_1block`` / ``2blocks`` / ``3blocks``). See the GHOST reference in the repository docs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

C_ID = 512
ENCODER_CHANNELS = (32, 64, 128, 256, 512, 1024, 1024)
# (cin, cout, c_attr) for AADBlk1..8
GENERATOR_BLOCKS = (
    (1024, 1024, 1024),
    (1024, 1024, 2048),
    (1024, 1024, 1024),
    (1024, 512, 512),
    (512, 256, 256),
    (256, 128, 128),
    (128, 64, 64),
    (64, 3, 64),
)


def scaled(c: int, width: float) -> int:
    """A channel count scaled by ``width`` (1.0 = the released size; the RGB output keeps its 3 channels)."""
    return c if c == 3 or width == 1.0 else max(4, round(c * width))


def _up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)


def _conv_down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True)
    )


class _Deconv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.lrelu = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.lrelu(self.bn(self.deconv(x))), skip), dim=1)


class AttributeEncoder(nn.Module):
    """U-Net encoder producing the eight attribute maps z1 (1024@2) … z8 (64@256)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        enc = [scaled(c, width) for c in ENCODER_CHANNELS]
        chans = (3, *enc)
        for i in range(7):
            setattr(self, f"conv{i + 1}", _conv_down(chans[i], chans[i + 1]))
        ins = [enc[6]] + [2 * enc[6 - i] for i in range(1, 6)]
        outs = [enc[5 - i] for i in range(6)]
        for i, (a, b) in enumerate(zip(ins, outs, strict=True)):
            setattr(self, f"deconv{i + 1}", _Deconv(a, b))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i in range(6):
            x = getattr(self, f"conv{i + 1}")(x)
            feats.append(x)
        z = [self.conv7(x)]
        for i in range(6):
            z.append(getattr(self, f"deconv{i + 1}")(z[-1], feats[5 - i]))
        z.append(_up2(z[-1]))
        return z


class AADLayer(nn.Module):
    """Adaptive attentional denormalisation: mixes attribute (A) and identity (I) modulations by a learned mask."""

    def __init__(self, c_x: int, c_attr: int, c_id: int = C_ID) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_attr, c_x, 1)
        self.conv2 = nn.Conv2d(c_attr, c_x, 1)
        self.fc1 = nn.Linear(c_id, c_x)
        self.fc2 = nn.Linear(c_id, c_x)
        self.norm = nn.InstanceNorm2d(c_x, affine=False, eps=1e-5)
        self.conv_h = nn.Conv2d(c_x, 1, 1)

    def forward(self, h: torch.Tensor, z_attr: torch.Tensor, z_id: torch.Tensor) -> torch.Tensor:
        h = self.norm(h)
        a = self.conv1(z_attr) * h + self.conv2(z_attr)
        n, c = h.shape[:2]
        i = self.fc1(z_id).reshape(n, c, 1, 1) * h + self.fc2(z_id).reshape(n, c, 1, 1)
        m = torch.sigmoid(self.conv_h(h))
        return (1 - m) * a + m * i


def _triple(cin: int, cout: int, c_attr: int) -> list[nn.Module]:
    return [AADLayer(cin, c_attr), nn.ReLU(inplace=True), nn.Conv2d(cin, cout, 3, 1, 1, bias=False)]


class AADResBlk(nn.Module):
    """``num_blocks`` [AAD, ReLU, Conv3×3] triples plus a residual (itself an AAD triple when cin ≠ cout)."""

    def __init__(self, cin: int, cout: int, c_attr: int, num_blocks: int) -> None:
        super().__init__()
        self.cin, self.cout, self.num_blocks = cin, cout, num_blocks
        layers: list[nn.Module] = []
        for i in range(num_blocks):
            layers += _triple(cin, cout if i == num_blocks - 1 else cin, c_attr)
        self.add_blocks = nn.ModuleList(layers)
        if cin != cout:
            self.last_add_block = nn.ModuleList(_triple(cin, cout, c_attr))

    @staticmethod
    def _run(layers: nn.ModuleList, x: torch.Tensor, z_attr: torch.Tensor, z_id: torch.Tensor) -> torch.Tensor:
        for i in range(0, len(layers), 3):
            x = layers[i + 2](layers[i + 1](layers[i](x, z_attr, z_id)))
        return x

    def forward(self, h: torch.Tensor, z_attr: torch.Tensor, z_id: torch.Tensor) -> torch.Tensor:
        x = self._run(self.add_blocks, h, z_attr, z_id)
        skip = self._run(self.last_add_block, h, z_attr, z_id) if self.cin != self.cout else h
        return x + skip


class AADGenerator(nn.Module):
    def __init__(self, num_blocks: int, c_id: int = C_ID, width: float = 1.0) -> None:
        super().__init__()
        self.up1 = nn.ConvTranspose2d(c_id, scaled(1024, width), kernel_size=2, stride=1, padding=0)
        enc = [scaled(c, width) for c in ENCODER_CHANNELS]
        attrs = [enc[6], *(2 * enc[5 - i] for i in range(6)), 2 * enc[0]]
        for k, (cin, cout, _) in enumerate(GENERATOR_BLOCKS):
            blk = AADResBlk(scaled(cin, width), scaled(cout, width), attrs[k], num_blocks)
            setattr(self, f"AADBlk{k + 1}", blk)

    def forward(self, z_attr: list[torch.Tensor], z_id: torch.Tensor) -> torch.Tensor:
        m = self.up1(z_id.reshape(z_id.shape[0], -1, 1, 1))
        for k in range(7):
            m = _up2(getattr(self, f"AADBlk{k + 1}")(m, z_attr[k], z_id))
        return torch.tanh(self.AADBlk8(m, z_attr[7], z_id))


class AEINet(nn.Module):
    """GHOST's generator: ``forward(target N×3×256×256 in [−1, 1], z_id N×512) → N×3×256×256 in [−1, 1]``.

    ``width`` < 1 scales every channel count (same keys, smaller tensors) for quick training tests and smoke runs;
    the released checkpoints are ``width=1``."""

    def __init__(self, num_blocks: int = 2, c_id: int = C_ID, width: float = 1.0) -> None:
        super().__init__()
        if num_blocks not in (1, 2, 3):
            raise ValueError(f"num_blocks must be 1, 2 or 3, got {num_blocks}")
        self.num_blocks = num_blocks
        self.encoder = AttributeEncoder(width)
        self.generator = AADGenerator(num_blocks, c_id, width)

    def forward(self, target: torch.Tensor, z_id: torch.Tensor) -> torch.Tensor:
        return self.generator(self.encoder(target), z_id)

    def attributes(self, target: torch.Tensor) -> list[torch.Tensor]:
        """The eight attribute maps of the encoder (used by the attribute loss and tests)."""
        return self.encoder(target)
