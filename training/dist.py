"""One command on one CPU, one GPU or many (``torchrun``): process group, device and data-parallel wrapping.

Under ``torchrun`` (``WORLD_SIZE`` > 1) each process joins the group (NCCL on GPUs, gloo on CPUs), takes
``cuda:LOCAL_RANK`` or the CPU, and the trained networks are wrapped in DistributedDataParallel. BatchNorm
layers (the generator's encoder) then normalise over the whole global batch, so N processes with batch B
compute the same update as one process with batch N·B.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")  # noqa: RUF009 - immutable

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str = "auto") -> Context:
    """Join the process group when started by torchrun; pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    dev = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Context(int(os.environ.get("RANK", "0")), world, dev)


@contextmanager
def joined(device: str = "auto") -> Iterator[Context]:
    """:func:`setup` for the duration of a run. After a run that ended well every process waits for the others
    (the main one saves last) before the group is destroyed, so none leaves while another still talks to it. After
    a failure the group is left to the process's exit: torchrun stops the other processes, and destroying a group
    while another process waits in a collective can deadlock."""
    ctx = setup(device)
    yield ctx
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the batch of every process (differentiable all-reduce;
    works with gloo on CPUs, where ``nn.SyncBatchNorm`` does not). Same parameters and buffers as BatchNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        count = torch.tensor([x.numel() / x.shape[1]], dtype=torch.float32, device=x.device)
        xf = x.float()
        c = x.shape[1]
        packed = dist_fn.all_reduce(torch.cat([xf.sum((0, 2, 3)), count]))
        n = packed[-1]
        mean = packed[:c] / n
        # two passes (mean, then squared deviations) as BatchNorm itself: no cancellation in E[x²] − E[x]²
        var = dist_fn.all_reduce(((xf - mean.view(1, c, 1, 1)) ** 2).sum((0, 2, 3))) / n
        with torch.no_grad():
            m = self.momentum if self.momentum is not None else 0.1
            self.running_mean.mul_(1 - m).add_(m * mean.detach())
            self.running_var.mul_(1 - m).add_(m * var.detach() * n / (n - 1))
            self.num_batches_tracked.add_(1)
        shape = (1, c, 1, 1)
        out = (xf - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return (out * self.weight.view(shape) + self.bias.view(shape)).to(x.dtype)


def global_batchnorm(module: nn.Module) -> nn.Module:
    """Swap every BatchNorm2d of ``module`` for :class:`GlobalBatchNorm2d`, keeping its tensors."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine)
            new.load_state_dict(child.state_dict())
            setattr(module, name, new.to(child.weight.device))
        else:
            global_batchnorm(child)
    return module


def wrap(module: nn.Module, ctx: Context) -> nn.Module:
    """DistributedDataParallel around ``module`` under torchrun; ``module`` itself otherwise."""
    if ctx.world == 1:
        return module
    global_batchnorm(module)
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def mean_over_processes(values: torch.Tensor, ctx: Context) -> torch.Tensor:
    """The average of ``values`` over all processes (for logs and the discriminator gate)."""
    if ctx.world == 1:
        return values
    out = values.detach().clone()
    dist.all_reduce(out)
    return out / ctx.world


def sum_over_processes(value: torch.Tensor, ctx: Context) -> torch.Tensor:
    if ctx.world == 1:
        return value
    out = value.detach().clone()
    dist.all_reduce(out)
    return out
