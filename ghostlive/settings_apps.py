"""The settings of the live camera and its outputs, of ``ghostlive bench``, and the desktop app's own, each
declared once; see :mod:`ghostlive.settings`."""

from __future__ import annotations

from ghostlive.cli_args import address
from ghostlive.settings_spec import Setting

L, B, G = "live", "bench", "gui"
RESOLUTIONS = ("640x480", "1280x720", "1920x1080")


def _outputs() -> tuple[str, ...]:
    from ghostlive.media.sinks import SINKS

    return SINKS.names()


LIVE_SETTINGS: tuple[Setting, ...] = (
    Setting("camera", str, "0", "camera index, /dev/videoN, stream URL, or a video file", (L, G),
            suggest=("0", "1", "2")),
    Setting("no_loop", bool, False, "with a video file: stop at its end", (L,)),
    Setting("resolution", str, "", "camera resolution to ask for, e.g. 1280x720", (L, G), flags=("--size",),
            dest="size", metavar="WxH", per={G: {"default": "1280x720", "choices": RESOLUTIONS}}),
    Setting("fps", float, 0.0, "camera frame rate to ask for", (L,), lo=0.0, hi=240.0, unit="fps"),
    Setting("virtual_camera", bool, False, "send the output to a virtual camera", (L, G)),
    Setting("virtual_camera_device", str, None, "e.g. /dev/video10 (v4l2loopback)", (L,), optional=True),
    Setting("stream_address", str, None, "serve MJPEG over HTTP, e.g. 127.0.0.1:8080", (L, G), flags=("--stream",),
            dest="stream", parse=address, metavar="HOST:PORT", optional=True,
            per={G: {"default": "127.0.0.1:8080", "optional": False}}),
    Setting("stream", bool, False, "serve the output as MJPEG over HTTP at the stream address", (G,), flags=()),
    Setting("token", str, None, "access token for --stream (required off loopback)", (L,), optional=True),
    Setting("record", str, "", "record the swapped output", (L,), metavar="OUT.mp4"),
    Setting("outputs", list, [], "also send the output to NAME, a registered output (repeatable; the flags above "
            "give the built-in ones their options)", (L,), flags=("--output",), dest="output", choices=_outputs,
            action="append", metavar="NAME"),
    Setting("duration", float, 0.0, "stop after this many seconds (0 = Ctrl-C)", (L,), lo=0.0, unit="s"),
)

BENCH_SETTINGS: tuple[Setting, ...] = (
    Setting("frames", int, 50, "timed frames per size (default 50)", (B,), lo=1),
    Setting("sizes", str, "640x480,1280x720", "comma-separated WxH frame sizes", (B,)),
    Setting("threads", int, 0, "model session threads (0 = the thread plan)", (B,), lo=0),
    Setting("bench_live", bool, False, "also measure the threaded live loop", (B,), flags=("--live",), dest="live"),
    Setting("live_seconds", float, 8.0, "seconds per size for --live", (B,), lo=0.0, lo_open=True, unit="s"),
    Setting("save", str, None, "with --live: write the live results as JSON", (B,), metavar="FILE", optional=True),
    Setting("compare", str, None, "with --live: ratios against a run saved with --save", (B,), metavar="FILE",
            optional=True),
    Setting("int8", bool, False, "with --generator: also time a static int8 copy, calibrated on real faces", (B,)),
    Setting("video", str, None, "also time offline video of these lengths, e.g. 150,600", (B,), metavar="N,N",
            optional=True),
    Setting("generator", str, None, "also time a GHOST generator (ghost-1/2/3)", (B,), metavar="NAME",
            optional=True),
    Setting("batches", str, "1,8", "generator batch sizes (default 1,8)", (B,)),
    Setting("runs", int, 3, "timed generator runs per batch size (default 3)", (B,), lo=1),
)

GUI_SETTINGS: tuple[Setting, ...] = (
    Setting("source_photos", list, [], "photos of the source faces", (G,), flags=()),
    Setting("output_folder", str, "", "where file jobs write", (G,), flags=()),
    Setting("pause_live_during_jobs", bool, True, "pause the live preview while a file job runs", (G,), flags=(),
            label="Pause the live preview while the job runs"),
)
