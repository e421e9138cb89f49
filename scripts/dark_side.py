"""The dark side at 100%: colour speckle and luma detail of real night photos, crops to look at, and NIQE/PSNR
of a scored set, per model, shadow-smoothing level and noise reduction, through the app's own engine.

NIQE scores luma only and reads grain as texture, so it cannot tell a clean lift from one that turns sensor
noise and compression blocks into blotches. On the large frames of a folder of real night photos
(``shared/data/dev_real``: frames of at least --min-megapixels), each method (model x --smoothing level x
--photo-colour x --colour-noise x --luminance-noise amount) is measured on a 640 px centre crop:

- **chroma detail**: the mean absolute difference, in 8-bit levels, between the output's chroma (RGB minus
  Rec. 601 luma) and its 7x7 box mean: colour speckle and blotches. Lower is cleaner.
- **luma detail**: the same for luma: grain, blocks and texture together.
- **near-black luma and cast**: over the pixels whose input luma is under 0.03, the output's mean luma and
  the spread of its mean R, G and B (a veil over the blacks, and its colour), in 8-bit levels, and those
  means themselves (which way the cast leans).

It writes a sheet of 256 px crops at 100% from the darkest scenes and two mid ones, one frame each, and of
any --also images (input | each method): the pictures the numbers stand for. With --scored FOLDER (and
--ref), it also scores every image of that folder at full size with ``training evaluate``'s own code (NIQE,
PSNR/SSIM against the reference, luma, clipping; a contact sheet), so that what the filters cost there is
measured. Methods run as ``enlighten-desktop enhance`` does (``EnhancerModel``, exposure gate,
``pipeline.enhance`` with the automatic tile), on 8-bit pixels as read.

    python scripts/dark_side.py resources/models/enlightengan.onnx --smoothing 0 1 2 --colour-noise 0 100 \\
        --folder ../shared/data/dev_real --scored ../shared/data/dev_eval/low \\
        --ref ../shared/data/dev_eval/ref --out /tmp/dark_side
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from itertools import product
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

from enlighten_desktop import arguments
from enlighten_desktop.engine.filters import Filters
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from training.contact_sheet import contact_sheet
from training.enhancers import to_uint8
from training.evaluate import INPUT, REFERENCE, evaluate_set, list_images, load_rgb, markdown_table, summarise
from training.metrics import mean_luma

LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)
DETAIL_CROP = 640
SHEET_CROP = 256
SPECKLE_BOX = 7
# Input luma under which a pixel counts as black: a lift should leave it dark and neutral.
NEAR_BLACK = 0.03
SCORED_SHEET_ROWS = 6
Method = Callable[[np.ndarray], np.ndarray]  # uint8 RGB -> uint8 RGB


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


def frames_of_at_least(folder: Path, min_pixels: float) -> list[Path]:
    """The images of ``folder`` with at least ``min_pixels`` pixels (header read only)."""
    frames = []
    for path in list_images(folder):
        with Image.open(path) as image:
            if image.size[0] * image.size[1] >= min_pixels:
                frames.append(path)
    return frames


def engine_method(model: EnhancerModel, filters: Filters) -> Method:
    """``model`` with ``filters`` through the engine, as the app and the CLI run it."""

    def run(rgb: np.ndarray) -> np.ndarray:
        image = rgb.astype(np.float32) / 255.0
        return to_uint8(run_to_end(enhance(model, image, filters=filters)).enhanced)

    return run


def detail_table(frames: list[Path], methods: dict[str, Method]) -> tuple[list[dict[str, str]], list[float]]:
    """Mean chroma and luma detail per method (and of the input) over ``frames``' centre crops, and what each
    makes of the input's near-black pixels (luma below ``NEAR_BLACK``, pooled over the crops): their mean
    luma and colour cast in 8-bit levels; the crops' mean luma."""
    sums = {name: np.zeros(2) for name in ["input", *methods]}
    black_rgb = {name: np.zeros(3) for name in sums}
    black_pixels = 0
    brightness = []
    for path in frames:
        crop = centre(load_rgb(path), DETAIL_CROP)
        brightness.append(mean_luma(crop))
        near_black = crop.astype(np.float32) @ LUMA_601 < NEAR_BLACK * 255
        black_pixels += int(near_black.sum())
        outputs = {"input": crop, **{name: method(crop) for name, method in methods.items()}}
        for name, output in outputs.items():
            sums[name] += detail(output)
            black_rgb[name] += output[near_black].sum(axis=0, dtype=np.float64)
    rows = []
    for name, total in sums.items():
        black = black_rgb[name] / max(black_pixels, 1)
        rows.append({"method": name, "chroma detail (levels)": f"{total[0] / len(frames):.3f}",
                     "luma detail (levels)": f"{total[1] / len(frames):.3f}",
                     "near-black luma (levels)": f"{float(black @ LUMA_601):.1f}",
                     "near-black cast (levels)": f"{float(black.max() - black.min()):.1f}",
                     "near-black R, G, B (levels)": ", ".join(f"{float(v):.1f}" for v in black)})
    return rows, brightness


def crop_sheet(frames: list[Path], brightness: list[float], methods: dict[str, Method], scenes_shown: int,
               also: list[Path]) -> tuple[Image.Image, list[str]]:
    """100% crops of the darkest scenes and two mid ones (dev_real names a scene by the file name up to its
    first "_"), then of the ``also`` images, input | each method; the images' names."""
    by_scene: dict[str, int] = {}
    for index in np.argsort(brightness).tolist():
        by_scene.setdefault(frames[index].name.split("_")[0], index)
    scenes = list(by_scene.values())
    shown = [frames[i] for i in scenes[:scenes_shown] + scenes[len(scenes) // 2 : len(scenes) // 2 + 2]]
    sheet = []
    for path in shown + also:
        # The methods see 1.5x the crop, so the crop's edges are not the network's image edges.
        context = centre(load_rgb(path), SHEET_CROP * 3 // 2)
        outputs = [context, *(method(context) for method in methods.values())]
        sheet.append([centre(each, SHEET_CROP) for each in outputs])
    return contact_sheet(["input (100%)", *methods], sheet), [path.name for path in shown + also]


def scored_table(folder: Path, ref: Path | None, methods: dict[str, Method]) -> tuple[str, Image.Image]:
    """``training evaluate``'s table (NIQE, PSNR/SSIM against the paired reference when ``ref`` is given,
    luma, clipping) and contact sheet for every image of ``folder`` at full size, through ``methods``."""
    references = {} if ref is None else {p.stem: p for p in list_images(ref)}
    scores, sheet = evaluate_set(folder=folder, set_name=folder.name, enhancers=methods,
                                 references=references, sheet_rows=SCORED_SHEET_ROWS)
    columns = [INPUT, *methods] + ([REFERENCE] if references else [])
    return markdown_table(summarise(scores, columns)), sheet


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="exported .onnx files")
    parser.add_argument("--smoothing", type=arguments.smoothing, nargs="+", default=[0.0],
                        help="shadow smoothing levels to run each model with (0 = off; 'auto': per photo)")
    parser.add_argument("--photo-colour", type=float, nargs="+", default=[0.0], metavar="PERCENT",
                        help="photo colour to run each model with, 0 (off; the model's colour) to 100 (the "
                        "app's default)")
    parser.add_argument("--colour-noise", type=float, nargs="+", default=[0.0], metavar="PERCENT",
                        help="colour noise reduction to run each model with, 0 (off; the model alone) to 100 "
                        "(the app's default)")
    parser.add_argument("--luminance-noise", type=float, nargs="+", default=[0.0], metavar="PERCENT",
                        help="luminance noise reduction to run each model with, 0 (off, the app's default) "
                        "to 100")
    parser.add_argument("--folder", type=Path, default=Path("../shared/data/dev_real"))
    parser.add_argument("--min-megapixels", type=float, default=1.5)
    parser.add_argument("--sheet-scenes", type=int, default=3, help="darkest scenes on the sheet (+ two mid)")
    parser.add_argument("--also", type=Path, nargs="*", default=[],
                        help="more images whose centre crops go on the sheet (e.g. where smoothing costs)")
    parser.add_argument("--scored", type=Path, help="a folder to score at full size (NIQE, PSNR, luma)")
    parser.add_argument("--ref", type=Path, help="references of --scored, paired by name as in evaluate")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    methods = {}
    for path in args.models:
        model = EnhancerModel.load(path, provider="cpu")
        for level, photo, colour, luminance in product(args.smoothing, args.photo_colour, args.colour_noise,
                                                       args.luminance_noise):
            filters = Filters.chosen(smoothing=level, photo_colour=photo / 100.0, colour_noise=colour / 100.0,
                                     luminance_noise=luminance / 100.0)
            name = " ".join(part for part in (path.stem, filters.describe()) if part)
            methods[name] = engine_method(model, filters)
    if len(methods) != len(args.models) * len(args.smoothing) * len(args.photo_colour) * len(
            args.colour_noise) * len(args.luminance_noise):
        parser.error("give models whose file names differ, and smoothing levels, photo colour and noise "
                     "reduction amounts that differ: they name rows")
    frames = frames_of_at_least(args.folder, args.min_megapixels * 1e6)
    if not frames:
        parser.error(f"no frame of at least {args.min_megapixels} MP in {args.folder}")
    rows, brightness = detail_table(frames, methods)
    report = (f"{len(frames)} frames of at least {args.min_megapixels} MP from {args.folder}, "
              f"{DETAIL_CROP} px centre crops\n\n" + markdown_table(rows))
    sheet, names = crop_sheet(frames, brightness, methods, args.sheet_scenes, args.also)
    sheet.save(args.out / "dark_side_crops.jpg", quality=92)
    report += f"\ncrops: {args.out / 'dark_side_crops.jpg'} ({', '.join(names)})\n"
    if args.scored is not None:
        scored, scored_sheet = scored_table(args.scored, args.ref, methods)
        sheet_path = args.out / "scored_contact.jpg"
        scored_sheet.save(sheet_path, quality=90)
        report += f"\n{args.scored}, full size (contact sheet: {sheet_path})\n\n" + scored
    (args.out / "dark_side.md").write_text(report)
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
