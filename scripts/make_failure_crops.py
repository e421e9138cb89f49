"""The model card's failure picture (resources/models/card/failures.jpg): 200x200 crops at 100% from the
freely licensed samples, as input | gamma curve | previous model | this model | this model as the app runs it
(JPEGs read with their blocks smoothed, ``enlighten_desktop.engine.deblock``).

Rows: grain on a noisy JPEG (astronaut), grain on a noisy TIFF (rocket: no JPEG blocks, so the last two
columns agree), and the cat sample darkened and saved as JPEG at quality 30 and 60: the blocks a cheap camera
or a messenger app leaves in shadows, which any brightening brings out.

    python scripts/make_failure_crops.py --previous OLD.onnx [--model resources/models/enlightengan.onnx]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from enlighten_desktop.engine.imageio import read_image
from training.enhancers import OnnxEnhancer, gamma_curve, to_uint8
from training.evaluate import load_rgb

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "resources" / "samples"
TILE = 200
LABEL_BAR = 28


def dark_jpeg(folder: Path, scale: float, quality: int) -> Path:
    path = folder / f"cat_dark_q{quality}.jpg"
    Image.fromarray((load_rgb(SAMPLES / "cat_dusk.jpg") * scale).astype(np.uint8)).save(path, "JPEG",
                                                                                       quality=quality)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", type=Path, required=True, help="the model shipped before this one")
    parser.add_argument("--model", type=Path, default=REPO / "resources" / "models" / "enlightengan.onnx")
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "models" / "card" / "failures.jpg")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    previous, model = OnnxEnhancer(path=args.previous, threads=2), OnnxEnhancer(path=args.model, threads=2)
    with tempfile.TemporaryDirectory() as folder:
        crops = [(SAMPLES / "astronaut_dim.jpg", 250, 150), (SAMPLES / "rocket_night.tif", 100, 200),
                 (dark_jpeg(Path(folder), 0.35, 30), 40, 40), (dark_jpeg(Path(folder), 0.3, 60), 100, 170)]
        rows = []
        for path, y, x in crops:
            rgb = load_rgb(path)
            as_app_reads = to_uint8(model.enhance01(read_image(path).rgb))
            tiles = [rgb, gamma_curve(rgb), previous(rgb), model(rgb), as_app_reads]
            rows.append([t[y:y + TILE, x:x + TILE] for t in tiles])
    columns = ["input (100%)", "gamma curve", "previous model", "this model", "+ JPEG blocks smoothed (app)"]
    sheet = Image.new("RGB", (TILE * len(columns), LABEL_BAR + TILE * len(rows)), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    for i, column in enumerate(columns):
        draw.text((i * TILE + 8, 8), column, fill=(230, 230, 230))
    for r, row in enumerate(rows):
        for i, tile in enumerate(row):
            sheet.paste(Image.fromarray(tile), (i * TILE, LABEL_BAR + r * TILE))
    sheet.save(args.out, quality=92)
    logging.getLogger(__name__).info("Wrote %s", args.out)


if __name__ == "__main__":
    main()
