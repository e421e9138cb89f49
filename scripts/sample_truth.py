"""The shipped samples against the photographs they were made from: how close a lift comes to the real scene.

resources/samples/ are simulated short exposures of four well-exposed public-domain / CC0 photographs
(scripts/make_samples.py), so, unlike real night photos, they have a true answer: the original. For each
sample and each method (a model x --photo-colour amount, through the engine as ``enlighten-desktop enhance``
runs it, with the default shadow smoothing and colour noise reduction), this prints the colour error against
the original (``training.metrics.colour_change`` with the original as the source: hue turn in degrees,
colourfulness as a share of the original's) and the PSNR against it, and writes a contact sheet of the
original beside each method's result.

    pip download scikit-image --no-deps -d DIR   # then unzip its skimage/data/*.png|jpg into SKIMAGE_DATA
    python scripts/sample_truth.py SKIMAGE_DATA --photo-colour 0 100 --out /tmp/sample_truth
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from make_samples import SAMPLES

from enlighten_desktop.engine.filters import DEFAULT_FILTERS
from enlighten_desktop.engine.item import read_photo
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from training.contact_sheet import contact_sheet
from training.enhancers import to_uint8
from training.evaluate import load_rgb, markdown_table
from training.metrics import colour_change, psnr

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "samples"


def _row(sample: str, method: str, scores: tuple[float, ...]) -> dict[str, str]:
    hue_error, colourfulness, psnr_db = scores
    return {"sample": sample, "method": method, "hue error vs original (deg)": f"{hue_error:.1f}",
            "colourfulness vs original": f"{colourfulness:.2f}", "PSNR vs original": f"{psnr_db:.2f}"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("originals", type=Path, help="folder with scikit-image's data images")
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--photo-colour", type=float, nargs="+", default=[DEFAULT_FILTERS.photo_colour * 100],
                        metavar="PERCENT", help="photo colour amounts to compare (default: the app's)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    model = EnhancerModel.load(args.model, provider="cpu")
    methods = {f"photo colour {amount:g} %": replace(DEFAULT_FILTERS, photo_colour=amount / 100.0)
               for amount in args.photo_colour}
    rows, sheet, totals = [], [], {name: [] for name in methods}
    for source, name, _exposure, _full_well in SAMPLES:
        original = load_rgb(args.originals / source)
        photo, _ = read_photo(SAMPLES_DIR / name)  # as the app reads it (JPEG block smoothing, 16-bit TIFF)
        # The engine gets the photo as read (16 bits for the TIFF), as enhance gives it.
        outputs = {method: to_uint8(run_to_end(enhance(model, photo.rgb, filters=filters)).enhanced)
                   for method, filters in methods.items()}
        for method, output in outputs.items():
            change = colour_change(output, original)
            if change is None:
                raise SystemExit(f"{source} has no colour to compare")
            scores = (change.hue_turn, change.colour_kept, psnr(output, original))
            totals[method].append(scores)
            rows.append(_row(name, method, scores))
        sheet.append([original, *outputs.values()])
    rows += [_row("mean", method, tuple(np.mean(scores, axis=0))) for method, scores in totals.items()]
    report = markdown_table(rows)
    contact_sheet(["original", *methods], sheet).save(args.out / "sample_truth.jpg", quality=90)
    (args.out / "sample_truth.md").write_text(report)
    sys.stdout.write(report + f"\nsheet: {args.out / 'sample_truth.jpg'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
