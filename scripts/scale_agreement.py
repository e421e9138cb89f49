"""Scale agreement: does the app give the same picture whether it enhances a photo at full size or at ~1 MP?

For each large frame of a folder (per scene, the frames at that scene's largest size; a scene is the file name
up to the first ``_``, as in shared/data/dev_real), through the app's own engine path (imageio.read_image,
EnhancerModel.load, pipeline.enhance with the CLI's default tile and filters, as ``enlighten-desktop enhance``
runs it; ``--smooth-shadows 0 --colour-noise 0`` for the model alone):

    A = downscale(enhance(full-size photo))         the photo enhanced as the user's file, looked at small
    B = enhance(downscale(full-size photo))         the same photo given to the app at ~1 MP

Both downscales go to the same size (about --megapixels) with the same filter (box = area average, or
Lanczos), and the downscaled input is rounded to 8 bits as a saved 1 MP file would be. The score is the PSNR
of A against B in dB on 8-bit RGB; issue 13's bar is at least 30 dB. Writes scale_agreement.csv and .md
(per-frame rows, median and worst, PASS/FAIL) and, per frame, a picture A | B | |A - B| x 4 into --out.

    python scripts/scale_agreement.py /work/shared/data/dev_real --out /tmp/scale_agreement
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from enlighten_desktop import arguments
from enlighten_desktop.engine.filters import Filters
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from training.contact_sheet import contact_sheet
from training.enhancers import to_uint8
from training.evaluate import list_images, markdown_table, write_csv
from training.metrics import mean_luma, psnr

log = logging.getLogger("scale_agreement")
BAR_DB = 30.0
FILTERS = {"box": Image.Resampling.BOX, "lanczos": Image.Resampling.LANCZOS}
DIFF_GAIN = 4
"""|A - B| is shown four times brighter: a difference of 16 levels (about 30 dB if everywhere) reads as 64."""


def scene_of(path: Path) -> str:
    """``512_3_.png`` -> ``512``: the frames of one scene share the part before the first underscore."""
    return path.stem.split("_", 1)[0]


def large_frames(folder: Path, min_megapixels: float) -> list[Path]:
    """Per scene, the frames at the scene's largest size, if that size is at least ``min_megapixels``."""
    sizes = {}
    for path in list_images(folder):
        with Image.open(path) as image:
            sizes[path] = image.width * image.height
    largest: dict[str, int] = {}
    for path, pixels in sizes.items():
        largest[scene_of(path)] = max(largest.get(scene_of(path), 0), pixels)
    return [p for p, n in sizes.items() if n == largest[scene_of(p)] and n >= min_megapixels * 1e6]


def working_size(height: int, width: int, megapixels: float) -> tuple[int, int]:
    """(height, width) with the aspect ratio of the photo and about ``megapixels`` pixels."""
    scale = math.sqrt(megapixels * 1e6 / (height * width))
    return round(height * scale), round(width * scale)


def downscale(rgb: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """H x W x 3 float32 [0, 1] -> size[0] x size[1] x 3 float32, each channel resized in float (no 8-bit
    rounding on the way, so the filter is the only difference between the two paths)."""
    channels = [Image.fromarray(np.ascontiguousarray(rgb[..., c]), mode="F") for c in range(3)]
    resized = [np.asarray(ch.resize((size[1], size[0]), resample)) for ch in channels]
    return np.clip(np.stack(resized, axis=2), 0.0, 1.0).astype(np.float32)


def agreement(model: EnhancerModel, path: Path, *, megapixels: float, resample: Image.Resampling,
              tile: int | None, filters: Filters) -> tuple[dict[str, str], list[np.ndarray]]:
    """Score one frame; returns its row and [A, B, |A - B| x DIFF_GAIN] (working-size uint8 RGB)."""
    rgb = read_image(path).rgb
    size = working_size(rgb.shape[0], rgb.shape[1], megapixels)
    full = run_to_end(enhance(model, rgb, filters=filters, tile=tile)).enhanced
    a = to_uint8(downscale(full, size, resample))
    del full
    small_input = to_uint8(downscale(rgb, size, resample)).astype(np.float32) / 255.0
    b = to_uint8(run_to_end(enhance(model, small_input, filters=filters, tile=tile)).enhanced)
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))
    row = {
        "file": path.name,
        "size": f"{rgb.shape[1]}x{rgb.shape[0]}",
        "working size": f"{size[1]}x{size[0]}",
        "PSNR": f"{psnr(a, b):.2f}",
        "luma A": f"{mean_luma(a):.3f}",
        "luma B": f"{mean_luma(b):.3f}",
        "mean |A-B|": f"{difference.mean():.2f}",
        "p99 |A-B|": f"{np.percentile(difference.max(axis=2), 99):.0f}",
    }
    return row, [a, b, np.clip(difference * DIFF_GAIN, 0, 255).astype(np.uint8)]


def write_tables(out: Path, rows: list[dict[str, str]]) -> str:
    """scale_agreement.csv and .md (rows, then median and worst PSNR, the verdict); returns the Markdown."""
    write_csv(out / "scale_agreement.csv", rows)
    scores = [float(r["PSNR"]) for r in rows]
    median, worst = float(np.median(scores)), min(scores)
    passed = sum(s >= BAR_DB for s in scores)
    markdown = markdown_table(rows) + (
        f"\nmedian PSNR {median:.2f} dB, worst {worst:.2f} dB ({rows[scores.index(worst)]['file']}); "
        f"{passed}/{len(scores)} frames at or above {BAR_DB:.0f} dB\n"
        f"bar: every frame >= {BAR_DB:.0f} dB: {'PASS' if worst >= BAR_DB else 'FAIL'}\n"
    )
    (out / "scale_agreement.md").write_text(markdown)
    return markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="photos, e.g. shared/data/dev_real")
    parser.add_argument("--model", type=Path, default=default_model_path(), help="default: the shipped fp32")
    parser.add_argument("--out", type=Path, default=Path("scale_agreement"), help="output folder")
    parser.add_argument("--megapixels", type=float, default=1.0, help="working size (default: %(default)s)")
    parser.add_argument("--min-megapixels", type=float, default=1.5,
                        help="only scenes whose largest frames have this many or more (default: %(default)s)")
    parser.add_argument("--filter", choices=sorted(FILTERS), default="box", help="downscaling filter")
    parser.add_argument("--tile", type=arguments.tile_size, default=None,
                        help="engine tile (0: whole image; default: the engine's automatic tile)")
    parser.add_argument("--provider", default="auto", help="auto, cpu, cuda, dml, coreml")
    arguments.add_filter_args(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = EnhancerModel.load(args.model, provider=args.provider)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, sheet = [], []
    for path in large_frames(args.folder, args.min_megapixels):
        row, pictures = agreement(model, path, megapixels=args.megapixels, resample=FILTERS[args.filter],
                                  tile=args.tile, filters=arguments.filters(args))
        Image.fromarray(np.concatenate(pictures, axis=1)).save(args.out / f"{path.stem}_AB.jpg", quality=92)
        sheet.append(pictures)
        rows.append(row)
        log.info("%s: %s dB", path.name, row["PSNR"])
    if not rows:
        parser.error(f"no frames of at least {args.min_megapixels} MP in {args.folder}")
    columns = ["A: full size, then down", "B: down, then enhanced", f"|A-B| x{DIFF_GAIN}"]
    contact_sheet(columns, sheet).save(args.out / "scale_agreement_contact.jpg", quality=90)
    sys.stdout.write(write_tables(args.out, rows))


if __name__ == "__main__":
    main()
