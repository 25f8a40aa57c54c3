"""Screenshots of the main window's states for the README:
``python -m ghostlive.ui.screenshots OUT_DIR CLIP [WxH]`` (window size, default 1400x860).

Run it under a real X server (``xvfb-run``); it loads the bundled portrait as the source face and uses the
given video file as the camera.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ghostlive.faces import asset_path
from ghostlive.hub import ModelStore
from ghostlive.ui.main_window import MainWindow


def _settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main(out_dir: str, clip: str, size: str = "1400x860") -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        w = MainWindow(settings_path=Path(tmp) / "s.toml", store=ModelStore(Path(tmp)))
        w.cfg.output_folder = tmp
        w.resize(*(int(v) for v in size.split("x")))
        w.show()
        w.add_source_photos([asset_path("samples/grace_hopper.jpg"), asset_path("samples/astronaut.png")])
        w.source_list.setCurrentRow(0)
        w.camera.setCurrentText(clip)
        _settle(app, 0.5)
        w.grab().save(str(out / "gui-start.png"))
        w.start_live()
        _settle(app, 4.0)
        w.grab().save(str(out / "gui-live.png"))
        w.stop_live()
        w.tabs.setCurrentIndex(1)
        w.job_input.setText(clip)
        w.job_output.setText(str(Path(tmp) / "swapped.mp4"))
        task = w.run_job()
        while task is not None and not task.isFinished():
            _settle(app, 0.2)
        _settle(app, 0.3)
        w.grab().save(str(out / "gui-files.png"))
        w.swapper_combo.setCurrentText("ghost-2")
        w.tabs.setCurrentIndex(0)
        w.start_live()
        _settle(app, 0.3)
        w.grab().save(str(out / "gui-missing-model.png"))
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
