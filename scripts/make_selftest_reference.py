"""Remake the selftest reference (resources/selftest/) for the shipped model. Rerun it whenever
resources/models/enlightengan.onnx changes, and commit both files it writes:

    .venv/bin/python scripts/make_selftest_reference.py [--model FILE] [--out DIR] [--sample NAME]
    .venv/bin/python scripts/make_selftest_reference.py --measure [--model FILE] [--int8 FILE]

It enhances the sample on the CPU with the model (checksum verified, as the app does) and stores the
result reduced to 8x8 box means plus the model's SHA-256 (see enlighten_desktop/selftest.py). --measure
writes nothing: it prints the variability the selftest's tolerances must admit (decoder rounding, thread
count, int8 as a stand-in for reduced-precision GPU arithmetic), in 8-bit levels.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.engine.imageio import read_image  # noqa: E402
from enlighten_desktop.engine.model import EnhancerModel, default_model_path  # noqa: E402
from enlighten_desktop.engine.pipeline import enhance, run_to_end  # noqa: E402
from enlighten_desktop.engine.providers import SessionSettings  # noqa: E402
from enlighten_desktop.resources import samples_dir  # noqa: E402
from enlighten_desktop.selftest import (  # noqa: E402
    DEFAULT_SAMPLE,
    box_means,
    default_reference_dir,
    level_difference,
    make_reference,
)

log = logging.getLogger("selftest-reference")


def _describe(name: str, diff: np.ndarray) -> None:
    log.info(f"{name}: max {diff.max():.3f}, 99.9th percentile {np.percentile(diff, 99.9):.3f}, "
             f"mean {diff.mean():.4f} levels")


def measure(model_path: Path, int8_path: Path | None, sample: str) -> None:
    """Print how far results move under the variations a correct install may show."""
    rgb = read_image(samples_dir() / sample).rgb
    model = EnhancerModel.load(model_path, provider="cpu")

    def run(m: EnhancerModel, image: np.ndarray) -> np.ndarray:
        return run_to_end(enhance(m, image, tile=0)).enhanced

    base = run(model, rgb)
    # Another JPEG decoder (SIMD vs plain IDCT) differs by at most +-1 level on some pixels.
    noise = np.random.default_rng(0).integers(-1, 2, rgb.shape).astype(np.float32) / 255
    decoded = run(model, np.clip(rgb + noise, 0, 1))
    _describe("+-1 level input noise, box means", level_difference(box_means(decoded), box_means(base)))
    _describe("+-1 level input noise, per pixel", level_difference(decoded, base))
    single = EnhancerModel.load(model_path, provider="cpu", settings=SessionSettings(intra_op_threads=1))
    _describe("1 thread vs default threads, per pixel", level_difference(run(single, rgb), base))
    if int8_path is not None and int8_path.is_file():
        quantised = run(EnhancerModel.load(int8_path, provider="cpu"), rgb)
        _describe("int8 vs fp32, per pixel", level_difference(quantised, base))
        _describe("int8 vs fp32, box means", level_difference(box_means(quantised), box_means(base)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path("fp32"),
                        help="default: the shipped model")
    parser.add_argument("--out", type=Path, default=default_reference_dir(),
                        help="default: resources/selftest")
    parser.add_argument("--sample", default=DEFAULT_SAMPLE, help="a file in resources/samples")
    parser.add_argument("--measure", action="store_true", help="print variability; write nothing")
    parser.add_argument("--int8", type=Path, default=default_model_path("int8"),
                        help="int8 model compared by --measure (default: the shipped one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.measure:
        measure(args.model, args.int8, args.sample)
    else:
        make_reference(model_path=args.model, out_dir=args.out, sample=args.sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
