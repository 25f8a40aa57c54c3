"""GHOST's face enhancer (release ``super-res``, ``10_net_G.pth``): a SPADE generator whose encoder pools with
LIP (local importance-based pooling), netG ``lipspade`` with ngf 48, 256→256, the image being its own
segmentation input. Written from the architecture of GHOST's ``models/networks`` (NVIDIA SPADE code,
CC BY-NC-SA 4.0), with the same module names so that the released state_dict loads strictly.

GHOST runs this network in train mode (``model.netG.train()``): every normalisation uses the statistics of the
batch it sees, and every spectral-normalised convolution does one power iteration per call.
:func:`freeze` turns a loaded network into that behaviour on its first call, as a plain network (one power
iteration from the checkpoint's ``u``, then fixed weights), which is what the ONNX export holds; the
batch-statistics normalisation (:class:`BatchStatNorm`) stays batch-dependent, as in GHOST.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.nn.utils import spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm

NGF = 48
SIZE = 256
UP_LAYERS = 5
"""``num_upsampling_layers='normal'``: the encoder halves 5 times (256 → 8) and the decoder doubles back."""
EPS = 1e-5


class BatchStatNorm(nn.Module):
    """A parameter-free batch norm that always normalises with the statistics of the batch (train mode), with
    the running-statistics buffers of the SynchronizedBatchNorm2d it replaces (kept for the state_dict)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = (x - mean).pow(2).mean(dim=(0, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(var + EPS)


class SPADE(nn.Module):
    """Batch-statistics normalisation modulated per pixel by γ, β predicted from the segmentation map."""

    def __init__(self, channels: int, label_nc: int = 3) -> None:
        super().__init__()
        hidden = 128 if channels > 128 else channels
        self.param_free_norm = BatchStatNorm(channels)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)
        self.mlp_beta = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        seg = F.interpolate(seg, size=(int(x.shape[2]), int(x.shape[3])), mode="nearest")
        actv = self.mlp_shared(seg)
        return self.param_free_norm(x) * self.mlp_gamma(actv) + self.mlp_beta(actv)


class SPADEResnetBlock(nn.Module):
    """SPADE → leaky ReLU → conv, twice, plus a (learned when the width changes) shortcut."""

    def __init__(self, fin: int, fout: int) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        middle = min(fin, fout)
        self.conv_0 = spectral_norm(nn.Conv2d(fin, middle, 3, padding=1))
        self.conv_1 = spectral_norm(nn.Conv2d(middle, fout, 3, padding=1))
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, 1, bias=False))
            self.norm_s = SPADE(fin)
        self.norm_0 = SPADE(fin)
        self.norm_1 = SPADE(middle)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return shortcut + dx


class SoftGate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * 12.0


class SimplifiedLIP(nn.Module):
    """2× downsampling by a 3×3 average weighted with exp(logit), the logit predicted from the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.logit = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            SoftGate(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.logit(x).exp()
        return F.avg_pool2d(x * weight, 3, 2, 1) / F.avg_pool2d(weight, 3, 2, 1)


def lip_encoder_layers(ngf: int, label_nc: int = 3, downs: int = UP_LAYERS) -> list[nn.Module]:
    """GHOST's LIPEncoder body: conv-IN-ReLU, then ``downs`` × (LIP, conv, IN, ReLU but the last)."""
    layers: list[nn.Module] = [nn.Conv2d(label_nc, ngf, 3, padding=1, bias=False), nn.InstanceNorm2d(ngf), nn.ReLU()]
    ratio = 1
    for i in range(downs):
        nxt = min(ratio * 2, 16)
        layers += [
            SimplifiedLIP(ngf * ratio),
            nn.Conv2d(ngf * ratio, ngf * nxt, 3, padding=1),
            nn.InstanceNorm2d(ngf * nxt),
        ]
        ratio = nxt
        if i < downs - 1:
            layers.append(nn.ReLU())
    return layers


class LIPEncoder(nn.Module):
    def __init__(self, ngf: int) -> None:
        super().__init__()
        self.model = nn.Sequential(*lip_encoder_layers(ngf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LIPSPADEGenerator(nn.Module):
    """GHOST's super-resolution generator: N×3×256×256 RGB in [0, 1] → N×3×256×256 tanh output."""

    def __init__(self, ngf: int = NGF) -> None:
        super().__init__()
        nf = ngf
        self.fc = nn.Conv2d(3, 16 * nf, 3, padding=1)  # built by SPADEGenerator, unused by the LIP variant
        self.head_0 = SPADEResnetBlock(16 * nf, 16 * nf)
        self.G_middle_0 = SPADEResnetBlock(16 * nf, 16 * nf)
        self.G_middle_1 = SPADEResnetBlock(16 * nf, 16 * nf)
        widths = (16 * nf, 8 * nf, 4 * nf, 2 * nf, nf)
        self.ups = nn.ModuleList(SPADEResnetBlock(a, b) for a, b in itertools.pairwise(widths))
        self.to_rgbs = nn.ModuleList(nn.Conv2d(w, 3, 3, padding=1) for w in widths[1:])
        self.lip_encoder = LIPEncoder(nf)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        seg = image  # the image is its own segmentation input
        x = self.head_0(self.lip_encoder(image), seg)
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.G_middle_1(self.G_middle_0(x, seg), seg)
        for block in self.ups:
            x = block(F.interpolate(x, scale_factor=2.0, mode="nearest"), seg)
        return torch.tanh(self.to_rgbs[-1](F.leaky_relu(x, 0.2)))


def freeze(model: nn.Module) -> nn.Module:
    """Fix every spectral-normalised weight as GHOST's first train-mode call computes it (one power
    iteration from the stored ``u``, then weight/σ) and drop the spectral-norm hooks; returns ``model``."""
    for module in model.modules():
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, SpectralNorm):
                with torch.no_grad():
                    hook.compute_weight(module, do_power_iteration=True)  # updates u and v in place
                    weight = hook.compute_weight(module, do_power_iteration=False)
                del module._forward_pre_hooks[key]
                delattr(module, hook.name)
                del module._parameters[hook.name + "_orig"]
                delattr(module, hook.name + "_u")
                delattr(module, hook.name + "_v")
                module.register_parameter(hook.name, nn.Parameter(weight.detach()))
    return model
