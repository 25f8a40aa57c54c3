"""Training pairs from a prepared dataset, in GHOST's format, reproducible step by step.

Each sample: the source at 224 (for ArcFace), the source at 256, the target at 256, and a same-person flag.
With probability ``same_person`` the target is a photo of the source's identity (possibly the same one), else
any photo of the dataset, as GHOST's ``FaceEmbedVGG2``. Each of the three copies gets its own
ColorJitter(brightness, contrast, saturation, hue) in a random order, as torchvision's. Everything random
comes from a seed derived from (run seed, global sample number), so the batch of step *k* is the same whether
the run started at 0 or resumed, and the same for one process with batch 2B as for two processes with B each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ghostlive.media.image import read_image
from ghostlive.training.prepare import read_manifest

log = logging.getLogger(__name__)

Jitter = tuple[float, float, float, float]


def color_jitter(rgb: np.ndarray, jitter: Jitter, rng: np.random.Generator) -> np.ndarray:
    """torchvision's ColorJitter on an H×W×3 float32 RGB image in [0, 1]."""
    b, c, s, h = jitter
    gray = np.array([0.299, 0.587, 0.114], np.float32)
    out = rgb
    for op in rng.permutation(4):
        if op == 0 and b > 0:
            out = np.clip(out * rng.uniform(1 - b, 1 + b), 0, 1)
        elif op == 1 and c > 0:
            f = rng.uniform(1 - c, 1 + c)
            out = np.clip(out * f + float((out @ gray).mean()) * (1 - f), 0, 1)
        elif op == 2 and s > 0:
            f = rng.uniform(1 - s, 1 + s)
            out = np.clip(out * f + (out @ gray)[..., None] * (1 - f), 0, 1)
        elif op == 3 and h > 0:
            hsv = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0] + 360.0 * rng.uniform(-h, h)) % 360.0
            out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return out.astype(np.float32)


def to_tensor(rgb01: np.ndarray, size: int) -> torch.Tensor:
    """H×W×3 RGB [0, 1] → 3×size×size in [−1, 1] (bilinear resize)."""
    if rgb01.shape[0] != size:
        rgb01 = cv2.resize(rgb01, (size, size), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(np.ascontiguousarray(rgb01.transpose(2, 0, 1))) * 2.0 - 1.0


class PairDataset(Dataset):
    """Samples of a prepared dataset; indexed by ``(image index, seed)`` from :class:`StepSampler`."""

    def __init__(
        self, root: str | Path, *, same_person: float = 0.2, jitter: Jitter = (0.2, 0.2, 0.2, 0.01),
        sources: tuple[str, ...] = (), held_out: int = 0,
    ) -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        self.images = sorted(manifest["images"])
        self.identity = [k.split("/")[0] for k in self.images]
        n = len(self.images)
        if held_out and n < 2 * held_out:
            log.warning("validation off: %d images are too few to hold out %d", n, held_out)
            held_out = 0
        self.held_out = sorted({round(x) for x in np.linspace(0, n - 1, held_out)}) if held_out else []
        """Validation images (evenly spread over the sorted list), never used for training; none when the dataset
        has fewer than twice ``held_out`` images."""
        kept = set(self.held_out)
        self.allowed = [i for i in range(n) if i not in kept]
        self.by_identity: dict[str, list[int]] = {}
        for i in self.allowed:
            self.by_identity.setdefault(self.identity[i], []).append(i)
        self.sources = [i for i in self.allowed if not sources or self.identity[i] in sources]
        """Images that may be the source (all, or only the given identities: per-person fine-tuning)."""
        self.same_person, self.jitter = same_person, jitter

    def __len__(self) -> int:
        return len(self.sources)

    def bgr(self, i: int) -> np.ndarray:
        """Image ``i`` as stored (BGR uint8, 256×256)."""
        return read_image(self.root / self.images[i]).bgr

    def _rgb(self, i: int) -> np.ndarray:
        return read_image(self.root / self.images[i]).bgr[..., ::-1].astype(np.float32) / 255.0

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        index, seed = key
        rng = np.random.default_rng(seed)
        s = self.sources[index % len(self.sources)]
        same = rng.random() < self.same_person
        if same:
            t = int(rng.choice(self.by_identity[self.identity[s]]))
        else:
            t = self.allowed[int(rng.integers(len(self.allowed)))]
        xs, xt = self._rgb(s), self._rgb(t)
        return {
            "xs_id": to_tensor(color_jitter(xs, self.jitter, rng), 224),
            "xs": to_tensor(color_jitter(xs, self.jitter, rng), 256),
            "xt": to_tensor(color_jitter(xt, self.jitter, rng), 256),
            "same": torch.tensor(float(same)),
        }


class StepSampler(Sampler):
    """Endless ``(index, seed)`` keys: global step *k* covers samples ``k·B·W … (k+1)·B·W − 1`` of a fresh
    permutation per epoch; rank *r* of *W* takes its ``B`` consecutive ones."""

    def __init__(self, n: int, batch: int, seed: int, start_step: int = 0, rank: int = 0, world: int = 1) -> None:
        self.n, self.batch, self.seed, self.start = n, batch, seed, start_step
        self.rank, self.world = rank, world
        self._perm: tuple[int, np.ndarray] | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n))
        return self._perm[1]

    def keys(self, step: int) -> list[tuple[int, int]]:
        """The keys of this rank's share of global ``step``."""
        out = []
        for pos in range(self.rank * self.batch, (self.rank + 1) * self.batch):
            g = step * self.batch * self.world + pos
            epoch, k = divmod(g, self.n)
            seed = int(np.random.SeedSequence([self.seed, g]).generate_state(1)[0])
            out.append((int(self._permutation(epoch)[k]), seed))
        return out

    def __iter__(self) -> Iterator[tuple[int, int]]:
        step = self.start
        while True:
            yield from self.keys(step)
            step += 1
