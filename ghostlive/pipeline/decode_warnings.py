"""What a decoded video did not deliver, said to the user: damaged packets skipped, or a file that ends early."""

from __future__ import annotations

import logging

from ghostlive.media.video import VideoSource

log = logging.getLogger(__name__)


def decode_warnings(src: VideoSource, frames: int) -> list[str]:
    """Warnings (also logged) about frames the source announced but did not deliver: damaged packets skipped,
    or a file that ends early (fewer frames than its frame count, or, without one, than its duration)."""
    info, warnings = src.info, []
    of = f" of {info.frames}" if info.frames else ""
    if src.skipped:
        warnings.append(
            f"{src.path}: {src.skipped} damaged video packet(s) could not be decoded and were skipped "
            f"({frames}{of} frames written)"
        )
    # a file cut short usually ends in a partial packet too: it is truncated when even the skipped packets do
    # not account for the missing frames
    if info.frames and frames + src.skipped < info.frames * 0.98 - 1:
        warnings.append(
            f"{src.path}: decoded {frames} of the {info.frames} frames the file announces; it looks truncated "
            f"(the output ends after {frames} frames)"
        )
    elif not info.frames and info.duration and src.last_time < info.duration - max(1.0, 0.1 * info.duration):
        warnings.append(
            f"{src.path}: frames end at {src.last_time:.1f} s of the {info.duration:.1f} s the file announces; "
            f"it looks truncated ({frames} frames written)"
        )
    for w in warnings:
        log.warning("%s", w)
    return warnings
