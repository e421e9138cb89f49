"""Longest event-loop stall of the main window while it opens, previews and fully enhances one big photo.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/ui_stall.py [PHOTO] [--size 6000x4000] [--model FILE]
        [--profile] [--stacks]

A 5 ms timer on the GUI thread records the gaps between its ticks from the moment the photo is queued until
the full-resolution result is on screen; the longest gap is the longest time the window could not react.
The time until the first result (the preview) is on screen is reported too. Without PHOTO a synthetic dark
photo of ``--size`` is written to a temporary folder. The model defaults to
the shipped one, else the test suite's small contract model (so the number measures the UI, not the model).
Settings are the defaults of a fresh install (preview side, tile), kept in a temporary folder.
``--profile`` also prints where the GUI thread spent its time (cProfile on that thread only). Python's
garbage collections are timed too (a full one holds the GIL, so no thread runs Python meanwhile): the
report says how many full collections ran, the longest, and whether the longest stall overlapped one.

The machine's own floor is measured alongside: a separate process (no GIL shared with the app) ticking every
5 ms reports its longest gap, the share of a stall that comes from the operating system's scheduling and
other programs rather than from the app. ``--stacks`` prints, for the longest stalls, where the app's other
threads were when the GUI thread ran again: a thread that held the GIL (or the CPU) through the stall has
usually just let go of it there.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import logging
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from scripts.screenshots import model_path, wait_until  # noqa: E402 - after the path is set

log = logging.getLogger("ui_stall")
TICK_MS = 5
STACK_GAP_MS = 30  # --stacks: gaps at least this long have the other threads' stacks recorded


def floor_probe() -> int:
    """The separate process's side of the floor measurement: tick every TICK_MS until stdin closes, then
    print the longest gap in ms."""
    import threading

    closed = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    longest, last = 0.0, time.perf_counter()
    while not closed.is_set():
        time.sleep(TICK_MS / 1000)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    sys.stdout.write(f"{longest * 1000:.1f}\n")
    return 0


def other_threads_stacks() -> list[str]:
    """The innermost three frames of every thread but the caller's, one line each."""
    me = threading.get_ident()
    return [" <- ".join(f"{f.name}:{f.lineno} ({Path(f.filename).name})" for f in reversed(frames))
            for ident, frame in sys._current_frames().items() if ident != me
            for frames in [traceback.extract_stack(frame)[-3:]]]


def write_synthetic(path: Path, width: int, height: int) -> Path:
    """The benchmark's dark synthetic photo (enlighten_desktop.bench) as a JPEG."""
    from enlighten_desktop.bench import synthetic_photo
    from enlighten_desktop.ui.imaging import to_uint8

    Image.fromarray(to_uint8(synthetic_photo(width, height))).save(path, quality=92)
    return path


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", type=Path, default=None, help="photo (default: synthetic)")
    parser.add_argument("--size", default="6000x4000", help="WxH of the synthetic photo")
    parser.add_argument("--model", type=Path, default=None, help="fp32 .onnx model (default: shipped)")
    parser.add_argument("--profile", action="store_true", help="print the GUI thread's busiest functions")
    parser.add_argument("--stacks", action="store_true",
                        help="print where the other threads were after each of the longest stalls")
    parser.add_argument("--floor-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse()
    if args.floor_probe:
        return floor_probe()
    from PySide6.QtCore import QSettings, QTimer

    from enlighten_desktop.ui.app import make_application, start_main_window
    from enlighten_desktop.ui.settings import AppSettings

    _app = make_application()  # held for the whole run: Qt needs the application object alive
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        photo = args.photo
        if photo is None:
            width, height = (int(v) for v in args.size.lower().split("x"))
            photo = write_synthetic(work / f"synthetic_{width}x{height}.jpg", width, height)
        settings = AppSettings(store=QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        settings.queue_state_path = work / "queue.json"
        # As the app starts it (start_main_window: what it does after the window is built is measured too).
        window = start_main_window([], app=_app, settings=settings, model_path=model_path(args.model, work))
        window.resize(1400, 900)
        wait_until(lambda: window.isVisible())

        gaps: list[tuple[float, float, str]] = []  # (gap ms, seconds since start, stage)
        stage = ["queued"]
        window.session.stage_changed.connect(lambda s: stage.__setitem__(0, s))
        shown: list[float] = []  # seconds since start at each result put on screen (preview, then full)
        window.session.result_ready.connect(lambda _images: shown.append(time.perf_counter() - start))

        stacks: list[tuple[float, float, list[str]]] = []  # (gap ms, seconds since start, other threads)

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            gap_ms = (now - last) * 1000
            gaps.append((gap_ms, now - start, stage[0]))
            if args.stacks and gap_ms >= STACK_GAP_MS:
                stacks.append((gap_ms, now - start, other_threads_stacks()))
            last = now

        collections: list[tuple[int, float, float]] = []  # (generation, start, end) in seconds since start
        collecting: list[float] = []

        def on_collection(phase: str, info: dict[str, int]) -> None:
            now = time.perf_counter() - start
            if phase == "start":
                collecting[:] = [now]
            elif collecting:
                collections.append((info["generation"], collecting[0], now))

        timer = QTimer(interval=TICK_MS)
        timer.timeout.connect(tick)
        profiler = cProfile.Profile() if args.profile else None
        timer.start()
        if profiler is not None:
            profiler.enable()
        floor = subprocess.Popen([sys.executable, __file__, "--floor-probe"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        start = last = time.perf_counter()
        gc.callbacks.append(on_collection)
        window.add_paths([photo])
        wait_until(lambda: window.session.result_is_full and window.session.idle, timeout_s=600)
        if profiler is not None:
            profiler.disable()
        timer.stop()
        floor_ms = float(floor.communicate()[0])
        gc.callbacks.remove(on_collection)
        total = time.perf_counter() - start
        shape = window.session.result.enhanced.shape
        window.close()

    worst = sorted(gaps, reverse=True)[:8]
    log.info("photo %s (%d x %d), preview side %d, tile %s, %.1f s to the full result, %d ticks",
             photo.name, shape[1], shape[0], settings.preview_side, settings.tile or "automatic", total,
             len(gaps))
    log.info("first result on screen: %.1f s", shown[0])
    log.info("max event-loop stall: %.1f ms", worst[0][0])
    log.info("the machine's floor: a separate process ticking every %d ms saw gaps up to %.1f ms", TICK_MS,
             floor_ms)
    log.info("longest gaps (ms @ s, stage): %s",
             ", ".join(f"{ms:.0f} @ {at:.1f} {st}" for ms, at, st in worst))
    full = [(end - begin) * 1000 for generation, begin, end in collections if generation == 2]
    gap_ms, gap_end, _ = worst[0]
    overlapping = any(begin < gap_end and end > gap_end - gap_ms / 1000 for _, begin, end in collections)
    log.info("garbage collections: %d, %d full (longest %.1f ms); the longest stall %s one",
             len(collections), len(full), max(full, default=0.0),
             "overlapped" if overlapping else "did not overlap")
    for gap_ms, at, lines in sorted(stacks, reverse=True)[:5]:
        log.info("after the %.0f ms stall at %.1f s the other threads were at:", gap_ms, at)
        for text in lines:
            log.info("    %s", text)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
