"""Shared pieces of the training tests: a tiny dataset prepared from the repository's real faces and a recipe
of reduced width (same keys as the released networks, ~1/16 of the channels) that trains fast on a CPU."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import DATA, sample


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread (autouse in each module that imports it): tiny networks on a shared 2-core machine run
    ~10× faster than with two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY_TOML = """\
width = 0.0625
batch_size = 2
num_workers = 0
log_every = 1
preview_every = 0
checkpoint_every = 0
[[stages]]
name = "base"
steps = 2
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 0.0 }
[[stages]]
name = "eyes"
steps = 100
scheduler = "step"
step_size = 50
weights = { adv = 1.0, attr = 10.0, id = 20.0, rec = 10.0, eyes = 800.0 }
"""

SOURCES = [str(sample("astronaut.png")), str(sample("grace_hopper.jpg")), str(DATA / "megamind_3s.mp4")]


def prepare(root: Path) -> Path:
    from ghostlive.training.prepare import PrepareOptions, Preparer

    Preparer(root, PrepareOptions(every=15)).run(SOURCES)
    return root


def tiny_config(folder: Path, batch_size: int = 2) -> Path:
    path = folder / "tiny.toml"
    path.write_text(TINY_TOML.replace("batch_size = 2", f"batch_size = {batch_size}"))
    return path


def batch_of(data, keys: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
    items = [data[k] for k in keys]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def run_group(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (torchrun and its workers) in a process group of its own. When it outlives ``timeout`` every
    process of the group prints its Python stacks (faulthandler on SIGABRT), the whole group is killed, so no
    worker outlives the test, and the test fails with those stacks."""
    proc = subprocess.Popen(cmd, env={**env, "PYTHONFAULTHANDLER": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGABRT)
        time.sleep(3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        name = " ".join(cmd[1:4])
        pytest.fail(f"{name} still ran after {timeout} s; its output and stacks:\n{out[-2000:]}\n{err[-8000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
