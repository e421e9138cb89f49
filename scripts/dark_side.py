"""The dark side at 100%: colour speckle and luma detail of real night photos, and crops to look at.

NIQE scores luma only and reads grain as texture, so it cannot tell a clean lift from one that turns sensor
noise into coloured blotches. This script measures what it misses, on the large frames of a folder of real
night photos (``shared/data/dev_real``: frames of at least --min-megapixels), through each model given:

- **chroma detail**: the mean absolute difference, in 8-bit levels, between the output's chroma (RGB minus
  Rec. 601 luma) and its 7x7 box mean, on a 640 px centre crop: colour speckle and blotches. Lower is cleaner.
- **luma detail**: the same for luma: grain and texture, which a lift should keep.

It also writes a sheet of 256 px crops at 100% from the darkest scenes and two mid ones, one frame each
(input | each model): the pictures the numbers stand for. Models run through
``training.enhancers.OnnxEnhancer`` (exposure gate included, no tiles, no JPEG deblocking: PNG frames).

    python scripts/dark_side.py resources/models/enlightengan.onnx RUN.onnx --folder ../shared/data/dev_real \
        --out /tmp/dark_side
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

from training.contact_sheet import contact_sheet
from training.enhancers import OnnxEnhancer
from training.evaluate import list_images, load_rgb, markdown_table
from training.metrics import mean_luma

LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)
DETAIL_CROP = 640
SHEET_CROP = 256
SPECKLE_BOX = 7


def centre(rgb: np.ndarray, side: int) -> np.ndarray:
    """The ``side`` x ``side`` centre of ``rgb`` (all of it along an axis shorter than ``side``)."""
    h, w = rgb.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return rgb[top : top + side, left : left + side]


def detail(rgb: np.ndarray) -> tuple[float, float]:
    """(chroma detail, luma detail) of uint8 RGB in 8-bit levels: each plane's mean absolute difference from
    its ``SPECKLE_BOX`` box mean."""
    x = rgb.astype(np.float32)
    luma = x @ LUMA_601
    chroma = x - luma[..., None]
    chroma_mean = np.stack([uniform_filter(chroma[..., c], SPECKLE_BOX) for c in range(3)], axis=-1)
    luma_mean = uniform_filter(luma, SPECKLE_BOX)
    return float(np.abs(chroma - chroma_mean).mean()), float(np.abs(luma - luma_mean).mean())


def large_frames(folder: Path, min_pixels: float) -> list[Path]:
    """The images of ``folder`` with at least ``min_pixels`` pixels (header read only)."""
    frames = []
    for path in list_images(folder):
        with Image.open(path) as image:
            if image.size[0] * image.size[1] >= min_pixels:
                frames.append(path)
    return frames


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="exported .onnx files")
    parser.add_argument("--folder", type=Path, default=Path("../shared/data/dev_real"))
    parser.add_argument("--min-megapixels", type=float, default=1.5)
    parser.add_argument("--sheet-scenes", type=int, default=3, help="darkest scenes on the sheet (+ two mid)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    models = {path.stem: OnnxEnhancer(path=path, threads=args.threads) for path in args.models}
    if len(models) != len(args.models):
        parser.error("give models whose file names differ: they name the table's rows")
    frames = large_frames(args.folder, args.min_megapixels * 1e6)
    if not frames:
        parser.error(f"no frame of at least {args.min_megapixels} MP in {args.folder}")
    sums = {name: np.zeros(2) for name in ["input", *models]}
    brightness = []
    for path in frames:
        crop = centre(load_rgb(path), DETAIL_CROP)
        brightness.append(mean_luma(crop))
        sums["input"] += detail(crop)
        for name, model in models.items():
            sums[name] += detail(model(crop))
    rows = [{"method": name, "chroma detail (levels)": f"{total[0] / len(frames):.3f}",
             "luma detail (levels)": f"{total[1] / len(frames):.3f}"} for name, total in sums.items()]
    header = f"{len(frames)} frames of at least {args.min_megapixels} MP from {args.folder}\n\n"
    table = header + markdown_table(rows)
    (args.out / "dark_side.md").write_text(table)
    sys.stdout.write(table)
    # One frame per scene (dev_real names a scene by the file name up to its first "_"), darkest first.
    by_scene: dict[str, int] = {}
    for index in np.argsort(brightness).tolist():
        by_scene.setdefault(frames[index].name.split("_")[0], index)
    scenes = list(by_scene.values())
    shown = scenes[: args.sheet_scenes] + scenes[len(scenes) // 2 : len(scenes) // 2 + 2]
    sheet = []
    for index in shown:
        # The model sees 1.5x the crop, so the crop's edges are not the network's image edges.
        context = centre(load_rgb(frames[index]), SHEET_CROP * 3 // 2)
        outputs = [context, *(model(context) for model in models.values())]
        sheet.append([centre(each, SHEET_CROP) for each in outputs])
    contact_sheet(["input (100%)", *models], sheet).save(args.out / "dark_side_crops.jpg", quality=92)
    names = ", ".join(frames[i].name for i in shown)
    sys.stdout.write(f"crops: {args.out / 'dark_side_crops.jpg'} ({names})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
