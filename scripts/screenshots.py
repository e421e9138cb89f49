"""Screenshots of the real window: the compare view with the attention overlay, and the batch queue mid-run.

    xvfb-run -a .venv/bin/python scripts/screenshots.py [PHOTO] [--model FILE] [--out docs/screenshots]

Without a display it re-runs itself under ``xvfb-run`` when that is installed (apt-get install xvfb), else
it renders offscreen. PHOTO defaults to resources/samples/coffee_candlelight.jpg (or the first sample).
The model defaults to the shipped one; when that is not installed yet, the test suite's small contract
model is built in a temporary folder (its output is only a stand-in, and the script says so). Settings
and the queue file live in a temporary folder: the user's own are never touched.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (1440, 900)
log = logging.getLogger("screenshots")


def parse() -> argparse.Namespace:
    samples = sorted((ROOT / "resources" / "samples").glob("*.jp*g")) + sorted(
        (ROOT / "resources" / "samples").glob("*.tif"))
    preferred = ROOT / "resources" / "samples" / "coffee_candlelight.jpg"
    default = preferred if preferred.is_file() else (samples[0] if samples else None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", type=Path, default=default, help="photo for the compare view")
    parser.add_argument("--model", type=Path, default=None, help="fp32 .onnx model (default: shipped)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if args.photo is None or not args.photo.is_file():
        parser.error(f"no photo: {args.photo} (pass one, or add resources/samples/)")
    return args


def relaunch_under_xvfb() -> None:
    """No display: run again inside a virtual X server so the real platform plugin draws the window."""
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") or os.environ.get("ENLIGHTEN_SHOTS"):
        return
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    env = {**os.environ, "ENLIGHTEN_SHOTS": "1"}
    os.execve(xvfb, [xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv], env)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Run the event loop until ``predicate`` holds (polled by a timer, the loop itself does the work)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
    timer.start()
    loop.exec()
    timer.stop()
    if not predicate():
        raise TimeoutError("the window did not reach the expected state in time")


def settle(ms: int = 300) -> None:
    """Let the event loop run briefly, so pending layouts and paints are done before a grab."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def model_path(given: Path | None, work: Path) -> Path:
    from enlighten_desktop.engine.model import default_model_path

    if given is not None:
        return given
    shipped = default_model_path("fp32")
    if shipped.is_file():
        return shipped
    from tests.model_factory import write_contract_model

    log.warning("%s is not installed: using the test suite's contract model (a stand-in result).", shipped)
    return write_contract_model(work / "contract-model.onnx")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse()
    relaunch_under_xvfb()
    from PySide6.QtCore import QPointF, QSettings

    from enlighten_desktop.ui.application import make_application
    from enlighten_desktop.ui.main_window import MainWindow
    from enlighten_desktop.ui.settings import AppSettings

    _app = make_application()  # held for the whole run: Qt needs the application object alive
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        settings = AppSettings(store=QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        settings.queue_state_path = work / "queue.json"
        settings.tile = 128
        window = MainWindow(settings=settings, model_path=model_path(args.model, work))
        window.resize(*SIZE)
        window.show()

        # 1. The compare view: split, attention heat-map at 45 %, and one brush stroke.
        photo = work / "photos" / args.photo.name
        photo.parent.mkdir()
        shutil.copy2(args.photo, photo)
        window.add_paths([photo])
        wait_until(lambda: window.session.result_is_full and window.session.idle)
        window.adjust.opacity.setValue(45)
        window.adjust.show_overlay.setChecked(True)
        width = window.session.photo.width
        session = window.session
        session.begin_stroke(QPointF(width * 0.62, width * 0.10))
        session.continue_stroke(QPointF(width * 0.85, width * 0.16))
        session.end_stroke()
        wait_until(lambda: window.session.result_is_full and window.session.idle)
        window.adjust.brush.setChecked(True)
        settle()
        window.grab().save(str(args.out / "compare_overlay.png"))

        # 2. Side by side at 200 %, overlay off.
        window.adjust.brush.setChecked(False)
        window.adjust.show_overlay.setChecked(False)
        window.compare.set_mode(window.compare.mode.SIDE_BY_SIDE)
        wait_until(lambda: window.compare.secondary.isVisible())
        window.compare.zoom_to(200)
        settle()
        window.grab().save(str(args.out / "side_by_side_200.png"))
        window.compare.set_mode(window.compare.mode.SPLIT)
        window.compare.fit()

        # 3. The batch queue mid-run: every sample (copies), small tiles so progress is visible.
        batch = work / "batch"
        batch.mkdir()
        for sample in sorted((ROOT / "resources" / "samples").glob("*.*")):
            if sample.suffix.lower() in (".jpg", ".jpeg", ".tif", ".tiff", ".png"):
                for copy in range(2):
                    shutil.copy2(sample, batch / f"{sample.stem}_{copy + 1}{sample.suffix}")
        (batch / "broken.jpg").write_bytes(b"not a photo at all")
        window.queue_panel.options.folder.setText(str(work / "out"))
        window.add_paths([batch])
        window.settings.tile = 32
        window.queue_panel.export.click()
        items = window.queue.items

        def mid_run() -> bool:
            states = [item.status for item in items()]
            running = [item for item in items() if item.status == "running"]
            return states.count("done") >= 3 and "failed" in states and bool(running) and \
                0.3 < running[0].progress < 0.8

        wait_until(mid_run, timeout_s=300)
        window.grab().save(str(args.out / "batch_queue.png"))
        window.runner.cancel_all()
        window.close()
    log.info("saved %s in %s", ", ".join(sorted(p.name for p in args.out.glob("*.png"))), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
