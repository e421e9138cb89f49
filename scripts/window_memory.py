"""Memory and time of one model run by window size, with ONNX Runtime's memory arena on and off.

    .venv/bin/python scripts/window_memory.py [--sides 512 1024 1536 2048] [--model FILE] [--photos N]

Each (side, arena) runs in a fresh process, as the engine loads a model (``EnhancerModel.load`` with
``SessionSettings``): one warm-up run of a side x side window, then one timed run. Memory is the growth of
the process's peak RSS over what it held before the first run (inputs already allocated), per window pixel:
the figure ``pipeline.auto_tile`` turns a memory budget into a tile size with. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.engine.imageio import read_image  # noqa: E402 - after the path
from enlighten_desktop.engine.model import EnhancerModel, default_model_path  # noqa: E402
from enlighten_desktop.engine.providers import SessionSettings  # noqa: E402


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def measure(model_path: Path, side: int, arena: bool) -> dict[str, float]:
    """One window of ``side`` px through the model in this process: bytes per pixel and ms per MP."""
    model = EnhancerModel.load(model_path, provider="cpu", settings=SessionSettings(memory_arena=arena))
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (1, 3, side, side)).astype(np.float32)
    attention = rng.uniform(0, 1, (1, 1, side, side)).astype(np.float32)
    before = peak_rss()
    model.run(image, attention)
    start = time.perf_counter()
    model.run(image, attention)
    seconds = time.perf_counter() - start
    pixels = side * side
    return {"bytes_per_pixel": (peak_rss() - before) / pixels, "ms_per_mp": seconds * 1e3 / (pixels / 1e6)}


def photos_seconds(model_path: Path, count: int, arena: bool) -> dict[str, float]:
    """Seconds for ``count`` of bench_table's real photos through the engine (default tile), one session: the
    photos differ in size, so each is a shape the session has not run before, as in a user's batch."""
    from scripts.bench_table import DATA, real_photos, timed_enhance

    model = EnhancerModel.load(model_path, provider="cpu", settings=SessionSettings(memory_arena=arena))
    rgbs = [read_image(path).rgb for path in real_photos(DATA, count)]
    return {"seconds": sum(timed_enhance(model, rgb)[1] for rgb in rgbs)}


def in_child(model: Path, *what: str) -> dict[str, float]:
    child = subprocess.run([sys.executable, __file__, "--model", str(model), *what],
                           check=True, capture_output=True, text=True)
    found: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[512, 1024, 1536, 2048])
    parser.add_argument("--model", type=Path, default=default_model_path("fp32"))
    parser.add_argument("--photos", type=int, default=0,
                        help="also time this many real photos (bench_table's set) with the arena off and on")
    parser.add_argument("--one", nargs=2, metavar=("SIDE", "ARENA"), help=argparse.SUPPRESS)
    parser.add_argument("--one-photos", nargs=2, metavar=("COUNT", "ARENA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one or args.one_photos:
        count, arena = args.one or args.one_photos
        measured = (measure if args.one else photos_seconds)(args.model, int(count), arena == "on")
        sys.stdout.write(json.dumps(measured) + "\n")
        return 0
    sys.stdout.write("| window | arena | bytes per pixel | ms/MP |\n|---|---|---|---|\n")
    for side in args.sides:
        for arena in ("off", "on"):
            found = in_child(args.model, "--one", str(side), arena)
            sys.stdout.write(f"| {side} x {side} | {arena} | {found['bytes_per_pixel']:.0f} | "
                             f"{found['ms_per_mp']:.0f} |\n")
            sys.stdout.flush()
    if args.photos:
        for arena in ("off", "on"):
            found = in_child(args.model, "--one-photos", str(args.photos), arena)
            sys.stdout.write(f"{args.photos} real photos, arena {arena}: {found['seconds']:.1f} s\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
