"""Every row of issue 16's performance table in one run, as absolutes and as the ratios the goals are set in.

    .venv/bin/python scripts/bench_table.py [--skip ROW ...] [--photos N] [--data DIR] [--batch N]
        [--tile N] [--fp32-model FILE] [--int8-model FILE]

Rows (``--skip`` drops the slow ones; ``--only`` keeps some):
  tiled     ``enlighten-desktop bench --size 2048x1536``, tiled (the CLI's automatic tile, or --tile) against
            whole image (--tile 0): ms/MP each and their ratio. The whole-image ms/MP is the model's own cost,
            which the end-to-end rows are divided by.
  one       a 24 MP synthetic JPEG through ``enlighten-desktop enhance`` to a JPEG, wall time of the command
            (start-up, model load, decode, model, encode) against the model's own time for 24 MP; its peak
            RSS is the 24 MP memory row.
  batch     --batch such JPEGs in one ``enhance`` command: wall time per photo against the model's own time.
  memory96  peak RSS of ``enhance`` on a 96 MP synthetic JPEG.
  int8      the fp32 and int8 models through the app's engine (read_image, enhance with the default tile) on
            the real photos of --data (dev_real, dev_eval/low, dev_eval/ref): PSNR of int8 against fp32 on
            8-bit outputs (median, worst), largest difference in levels, and fp32 time / int8 time.
  ui        scripts/ui_stall.py on a 24 MP synthetic photo: first result on screen, longest event-loop stall.

Every command runs as a fresh process from this checkout, as a user would run it; peak RSS is that process's
high-water mark (os.wait4), from a parent that stays small (the photos are made in processes of their own).
Synthetic photos are enlighten_desktop.bench's dark test pattern, written to a temporary folder. Photos of
--data are read where they are, never copied. On a shared machine read the ratios of one run, not the
absolute times.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.bench import synthetic_photo  # noqa: E402 - after the path is set
from enlighten_desktop.engine.imageio import read_image  # noqa: E402
from enlighten_desktop.engine.model import EnhancerModel, default_model_path  # noqa: E402
from enlighten_desktop.engine.pipeline import enhance, run_to_end  # noqa: E402
from training.enhancers import to_uint8  # noqa: E402
from training.evaluate import list_images  # noqa: E402
from training.metrics import psnr  # noqa: E402

ROWS = ("tiled", "one", "batch", "memory96", "int8", "ui")
DATA = ROOT.parent / "shared" / "data"
PHOTO_SETS = ("dev_real", "dev_eval/low", "dev_eval/ref")
TILED_SIZE = (2048, 1536)
BIG = (6000, 4000)  # 24 MP
HUGE = (12000, 8000)  # 96 MP
GIB = 2**30


@dataclass(frozen=True)
class Run:
    """A finished command: wall seconds, peak RSS in bytes, what it printed (stdout and stderr)."""

    seconds: float
    peak_rss: int
    output: str


def run_command(args: list[str]) -> Run:
    """Run ``args`` from the checkout's root; raise with its output when it fails."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}:\n{output}")
    return Run(seconds=seconds, peak_rss=usage.ru_maxrss * 1024, output=output)  # Linux: KiB


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "enlighten_desktop", *args]


def find(pattern: str, text: str) -> float:
    """The first number ``pattern``'s group captures in ``text``; an error naming the pattern if absent."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"no {pattern!r} in:\n{text}")
    return float(match.group(1))


def write_jpeg(path: Path, size: tuple[int, int], seed: int) -> Path:
    """The synthetic photo of ``size`` as a JPEG, made in a process of its own: a process's peak RSS includes
    the high-water mark of the process that started it (Linux records it at exec), so this one stays small
    and the peaks of the commands it runs are theirs."""
    run_command([sys.executable, __file__, "--write-jpeg", str(path), f"{size[0]}x{size[1]}", str(seed)])
    return path


def make_jpeg(path: str, size: str, seed: str) -> None:
    width, height = (int(side) for side in size.split("x"))
    Image.fromarray(to_uint8(synthetic_photo(width, height, seed=int(seed)))).save(path, quality=92)


def bench_ms_per_mp(tile: int | None) -> tuple[float, str]:
    """``bench --size 2048x1536``'s ms/MP with ``tile`` (None: the CLI's automatic tile), and the tiles it
    ran as bench reports them ("2 tile(s) of 1408")."""
    width, height = TILED_SIZE
    args = ["bench", "--size", f"{width}x{height}", "--runs", "3"]
    args += [] if tile is None else ["--tile", str(tile)]
    output = run_command(cli(*args)).output
    tiles = re.search(r"\((\d+ tile\(s\) of [^)]+)\)", output)
    return find(r"(\d+) ms/MP", output), tiles.group(1) if tiles else "?"


def enhance_files(paths: list[Path], out: Path) -> Run:
    return run_command(cli("enhance", *map(str, paths), "-o", str(out), "--format", "jpeg", "--overwrite"))


def line(what: str, measured: str, goal: str) -> None:
    sys.stdout.write(f"| {what} | {measured} | {goal} |\n")
    sys.stdout.flush()


def real_photos(data: Path, count: int | None) -> list[Path]:
    """The photos of PHOTO_SETS under ``data``; ``count`` of them evenly spread when given."""
    photos = [p for name in PHOTO_SETS for p in list_images(data / name)]
    if count is not None and count < len(photos):
        photos = [photos[i] for i in np.linspace(0, len(photos) - 1, count).round().astype(int)]
    return photos


def timed_enhance(model: EnhancerModel, rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """8-bit result of the default-tile enhancement of ``rgb`` and the seconds it took."""
    start = time.perf_counter()
    enhanced = run_to_end(enhance(model, rgb)).enhanced
    return to_uint8(enhanced), time.perf_counter() - start


def cached_enhance(
    model: EnhancerModel, rgb: np.ndarray, cache: Path | None, path: Path
) -> tuple[np.ndarray, float]:
    """timed_enhance, kept in ``cache`` (when given) under the model's checksum and the photo's folder and
    name, so int8 candidates can be compared with one fp32 run (its times are then those of that run)."""
    if cache is None:
        return timed_enhance(model, rgb)
    entry = cache / f"{model.sha256[:16]}_{path.parent.name}_{path.name}.npz"
    if not entry.is_file():
        result, seconds = timed_enhance(model, rgb)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(entry, result=result, seconds=seconds)
    with np.load(entry) as stored:
        return stored["result"], float(stored["seconds"])


def int8_row(photos: list[Path], fp32_path: Path, int8_path: Path, cache: Path | None) -> None:
    fp32, int8 = EnhancerModel.load(fp32_path), EnhancerModel.load(int8_path)
    scores, biggest, fp32_s, int8_s = [], 0, 0.0, 0.0
    for path in photos:
        rgb = read_image(path).rgb
        reference, seconds = cached_enhance(fp32, rgb, cache, path)
        fp32_s += seconds
        result, seconds = timed_enhance(int8, rgb)
        int8_s += seconds
        scores.append((psnr(result, reference), path.name))
        biggest = max(biggest, int(np.abs(result.astype(np.int16) - reference).max()))
    (worst, name), median = min(scores), statistics.median(s for s, _ in scores)
    line(f"int8 vs fp32 output, {len(photos)} real photos ({int8_path.name})",
         f"PSNR median {median:.1f} dB, worst {worst:.1f} dB ({name}), max difference {biggest} levels; "
         f"{fp32_s / int8_s:.2f}x faster ({int8_s:.1f} s vs {fp32_s:.1f} s)",
         "worst >= 35 dB, >= 2x faster")


def ui_row(size: tuple[int, int]) -> None:
    script = str(ROOT / "scripts" / "ui_stall.py")
    output = run_command([sys.executable, script, "--size", f"{size[0]}x{size[1]}"]).output
    first = find(r"first result on screen: ([\d.]+) s", output)
    stall = find(r"max event-loop stall: ([\d.]+) ms", output)
    full = find(r"([\d.]+) s to the full result", output)
    floor = find(r"saw gaps up to ([\d.]+) ms", output)
    line(f"first preview of a {size[0] * size[1] / 1e6:.0f} MP JPEG in the app",
         f"{first:.1f} s (full result {full:.0f} s)", "<= 2 s")
    line("longest UI stall while enhancing it",
         f"{stall:.1f} ms (a separate process on the machine meanwhile: {floor:.1f} ms)", "<= 50 ms")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", nargs="+", choices=ROWS, default=[], help="rows to leave out")
    parser.add_argument("--only", nargs="+", choices=ROWS, help="only these rows")
    parser.add_argument("--data", type=Path, default=DATA, help="shared data")
    parser.add_argument("--photos", type=int, help="int8 row: this many photos, evenly spread (default all)")
    parser.add_argument("--batch", type=int, default=3, help="photos in the batch row")
    parser.add_argument("--tile", type=int, help="tiled row: tile size (default: the CLI's automatic one)")
    parser.add_argument("--fp32-model", type=Path, default=None, help="default: the shipped fp32 model")
    parser.add_argument("--int8-model", type=Path, default=None, help="default: the shipped int8 model")
    parser.add_argument("--fp32-cache", type=Path, default=None,
                        help="int8 row: keep fp32 results and times here, to compare several int8 candidates")
    parser.add_argument("--write-jpeg", nargs=3, metavar=("PATH", "WxH", "SEED"), help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse()
    if args.write_jpeg:
        make_jpeg(*args.write_jpeg)
        return 0
    rows = [r for r in (args.only or ROWS) if r not in args.skip]
    sys.stdout.write("| what | measured | goal |\n|---|---|---|\n")
    whole = None
    if {"tiled", "one", "batch"} & set(rows):
        whole, _ = bench_ms_per_mp(0)
    if "tiled" in rows:
        tiled, tiles = bench_ms_per_mp(args.tile)
        line(f"{tiles} vs whole image, {TILED_SIZE[0]}x{TILED_SIZE[1]}",
             f"{tiled:.0f} vs {whole:.0f} ms/MP: {tiled / whole:.2f}x", "<= 1.15x")
    megapixels = BIG[0] * BIG[1] / 1e6
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        if "one" in rows:
            one = enhance_files([write_jpeg(work / "one.jpg", BIG, seed=1)], work / "out")
            model_s = whole * megapixels / 1000
            line(f"{megapixels:.0f} MP JPEG -> JPEG, end to end", f"{one.seconds:.1f} s vs the model's "
                 f"{model_s:.1f} s: {one.seconds / model_s:.2f}x", "<= 1.5x")
            line(f"peak memory, {megapixels:.0f} MP", f"{one.peak_rss / GIB:.2f} GiB", "<= 1.5 GiB")
        if "batch" in rows:
            photos = [write_jpeg(work / f"batch_{i}.jpg", BIG, seed=10 + i) for i in range(args.batch)]
            batch = enhance_files(photos, work / "out")
            per_photo, model_s = batch.seconds / len(photos), whole * megapixels / 1000
            line(f"{megapixels:.0f} MP JPEG -> JPEG, per photo in a batch of {len(photos)}",
                 f"{per_photo:.1f} s vs the model's {model_s:.1f} s: {per_photo / model_s:.2f}x", "<= 1.25x")
            for photo in photos:
                photo.unlink()
        if "memory96" in rows:
            huge = enhance_files([write_jpeg(work / "huge.jpg", HUGE, seed=2)], work / "out")
            line(f"peak memory, {HUGE[0] * HUGE[1] / 1e6:.0f} MP", f"{huge.peak_rss / GIB:.2f} GiB "
                 f"({huge.seconds:.0f} s)", "<= 3 GiB")
    if "int8" in rows:
        int8_row(real_photos(args.data, args.photos), args.fp32_model or default_model_path("fp32"),
                 args.int8_model or default_model_path("int8"), args.fp32_cache)
    if "ui" in rows:
        ui_row(BIG)
    return 0


if __name__ == "__main__":
    sys.exit(main())
