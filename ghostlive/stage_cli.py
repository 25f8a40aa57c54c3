"""Command-line options of the stages around the swap (extra masks, face enhancer), shared by swap and live."""

from __future__ import annotations

import argparse
from typing import Any

from ghostlive.enhance import add_enhance_options, enhance_options
from ghostlive.masking.options import add_mask_options, mask_options


def add_stage_options(p: argparse.ArgumentParser) -> None:
    """The mask and enhancer option groups."""
    add_mask_options(p)
    add_enhance_options(p)


def stage_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``masks`` and ``enhance`` fields of :class:`ghostlive.jobs.SwapSettings` from parsed ``args``."""
    return {"masks": mask_options(args), "enhance": enhance_options(args)}
