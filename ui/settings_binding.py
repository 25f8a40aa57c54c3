"""The window's controls ↔ :class:`~ghostlive.config.GuiSettings` (what the app remembers, with the unit
conversions of the sliders) ↔ the :class:`~ghostlive.jobs.SwapSettings` the session runs with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ghostlive.config import GuiSettings
from ghostlive.jobs import SwapSettings
from ghostlive.swappers.classic import ClassicOptions
from ghostlive.tracking import TrackerOptions


def restore_settings(w: Any, c: GuiSettings) -> None:
    """Set the window's controls from ``c``, and add the remembered source photos that still exist."""
    w.swapper_combo.setCurrentText(c.swapper)
    w.backend_combo.setCurrentText(c.backend)
    w.device_combo.setCurrentText(c.device)
    w.faces_combo.setCurrentText(c.faces)
    w.similarity.setValue(round(c.similarity * 100))
    w.camera.setCurrentText(c.camera)
    w.resolution.setCurrentText(c.resolution)
    w.blend.setValue(round(c.blend * 100))
    w.feather.setValue(round(c.feather * 1000))
    w.color.setCurrentText(c.color)
    w.smoothing.setValue(round(c.smoothing * 10))
    for k, box in w.keep.items():
        box.setChecked(getattr(c, f"keep_{k}"))
    w.vcam_check.setChecked(c.virtual_camera)
    w.stream_check.setChecked(c.stream)
    w.stream_address.setText(c.stream_address)
    w.pause_live.setChecked(c.pause_live_during_jobs)
    w.targets.set_references(c.reference_photos)
    existing = [p for p in c.source_photos if Path(p).is_file()]
    if existing:
        w.add_source_photos(existing)


def read_settings(w: Any, c: GuiSettings) -> GuiSettings:
    """``c`` updated from the window's controls and its session's sources and references."""
    return replace(
        c,
        source_photos=sorted({s.path for s in w.session.sources}),
        reference_photos=list(w.session.references),
        swapper=w.swapper_combo.currentText(),
        backend=w.backend_combo.currentText(),
        device=w.device_combo.currentText(),
        faces=w.faces_combo.currentText(),
        similarity=w.similarity.value() / 100,
        camera=w.camera.currentText(),
        resolution=w.resolution.currentText(),
        blend=w.blend.value() / 100,
        feather=w.feather.value() / 1000,
        color=w.color.currentText(),
        keep_mouth=w.keep["mouth"].isChecked(),
        keep_eyes=w.keep["eyes"].isChecked(),
        keep_brows=w.keep["brows"].isChecked(),
        smoothing=w.smoothing.value() / 10,
        virtual_camera=w.vcam_check.isChecked(),
        stream=w.stream_check.isChecked(),
        stream_address=w.stream_address.text(),
        pause_live_during_jobs=w.pause_live.isChecked(),
    )


def to_swap_settings(c: GuiSettings, stages: dict[str, Any]) -> SwapSettings:
    """What the session runs with: the window's settings plus the enhancer and masks (``stages``)."""
    keep = tuple(k for k in ("mouth", "eyes", "brows") if getattr(c, f"keep_{k}"))
    classic = ClassicOptions(blend=c.blend, feather=max(c.feather, 0.005), color=c.color, keep=keep)  # type: ignore[arg-type]
    tracker = TrackerOptions(detect_every=2, smoothing=c.smoothing > 0, min_cutoff=max(c.smoothing, 0.1))
    mode = c.faces if c.faces != "reference" or c.reference_photos else "all"
    return SwapSettings(
        swapper=c.swapper,
        backend=c.backend,
        device=c.device,
        classic=classic,
        tiles=0,
        faces=mode,  # type: ignore[arg-type]
        similarity=c.similarity,
        tracker=tracker,
        **stages,
    )
