"""How long the app's heavy steps keep other Python threads waiting: each step runs while a thread ticks every
2 ms, and the longest gap between its ticks is printed.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/gil_holds.py [--size 6000x4000] [--model FILE]

A gap much longer than the tick means the step held the GIL (or the CPU) that long in one piece: the GUI
thread could not have run meanwhile either. Steps: reading a JPEG of ``--size`` (decode, deblocking), one
model run of a 1536 px window, colour noise reduction and shadow smoothing of that window, and the display
pyramid of the whole photo. Run it beside ``ui_stall.py``'s floor: on a loaded machine every gap grows.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

log = logging.getLogger("gil_holds")
TICK_S = 0.002
WINDOW = 1536


def longest_gap(step: Callable[[], object]) -> tuple[float, float]:
    """(seconds ``step`` took, the longest gap in seconds between a ticking thread's ticks meanwhile)."""
    gaps: list[float] = []
    done = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(TICK_S)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    start = time.perf_counter()
    step()
    took = time.perf_counter() - start
    time.sleep(0.02)
    done.set()
    ticker.join()
    return took, max(gaps)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="6000x4000", help="WxH of the synthetic JPEG")
    parser.add_argument("--model", type=Path, default=ROOT / "resources" / "models" / "enlightengan.onnx")
    args = parser.parse_args()
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from enlighten_desktop.bench import synthetic_photo
    from enlighten_desktop.engine.attention import default_attention
    from enlighten_desktop.engine.imageio import read_image
    from enlighten_desktop.engine.model import EnhancerModel
    from enlighten_desktop.engine.noise import reduce_colour_noise
    from enlighten_desktop.engine.smoothing import smooth_shadows
    from enlighten_desktop.ui.imaging import display_pyramid, to_uint8
    from enlighten_desktop.ui.models import UI_SESSION

    _app = QApplication([])  # held for the run: QImages need it
    width, height = (int(v) for v in args.size.lower().split("x"))
    model = EnhancerModel.load(args.model, provider="cpu", settings=UI_SESSION)
    with tempfile.TemporaryDirectory() as temp:
        photo = Path(temp) / "synthetic.jpg"
        Image.fromarray(to_uint8(synthetic_photo(width, height))).save(photo, quality=92)
        rgb = read_image(photo).rgb
        window = np.ascontiguousarray(rgb[:WINDOW, :WINDOW])
        attention = default_attention(window, 1.0)
        image = (window.transpose(2, 0, 1)[None] * 2.0 - 1.0).astype(np.float32)
        steps: dict[str, Callable[[], object]] = {
            f"read_image, {width}x{height} JPEG": lambda: read_image(photo),
            f"model run, {WINDOW} px window ({UI_SESSION.intra_op_threads} thread(s), the app's)":
                lambda: model.run(image, attention[None, None]),
            f"colour noise reduction, {WINDOW} px": lambda: reduce_colour_noise(window, attention),
            f"shadow smoothing 1 level, {WINDOW} px": lambda: smooth_shadows(window, attention, 1.0),
            f"display pyramid, {width}x{height}": lambda: display_pyramid(rgb, smallest_side=1280),
        }
        sys.stdout.write("| step | time | longest gap of a 2 ms ticker |\n|---|---|---|\n")
        for name, step in steps.items():
            took, gap = longest_gap(step)
            sys.stdout.write(f"| {name} | {took * 1000:.0f} ms | {gap * 1000:.1f} ms |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
