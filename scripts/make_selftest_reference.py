"""Remake the selftest reference (resources/selftest/) for the shipped model. Rerun it whenever
resources/models/enlightengan.onnx (or its int8 variant) changes, and commit both files it writes:

    .venv/bin/python scripts/make_selftest_reference.py [--model F] [--int8 F] [--out DIR] [--sample NAME]

It enhances the sample on the CPU with the model (checksum verified, as the app does), stores the result
reduced to 8x8 box means with the model's SHA-256, and measures the tolerances the selftest applies
(enlighten_desktop/selftest.py reads them; the app never writes a reference).

The tolerances (8-bit levels, 0-255, of the clamped output) are measured on the model, because how much a
model amplifies small differences depends on the model:
- CPU vs reference, max over box means: NOISE_MARGIN times the largest box-mean shift that +-1 level of
  random noise on the input causes. fp32 CPU kernels differ between machines by float rounding only (about
  1e-4 levels); +-1 level is what two JPEG decoders can differ by. A wrong model, colour order, attention
  map or padding moves the box means far more.
- best provider vs CPU, per pixel (99.9th percentile and mean): the deviation of the int8 model from the
  fp32 model. GPU providers may compute in reduced precision (TF32 on CUDA, float16 on CoreML's GPU and
  Neural Engine), which is a finer approximation than int8, so this admits them but not a broken kernel.
Each tolerance has a floor (MIN_TOLERANCES) for models that barely change the image.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enlighten_desktop.engine.formats import Format  # noqa: E402
from enlighten_desktop.engine.imageio import ImageMetadata, read_image, write_image  # noqa: E402
from enlighten_desktop.engine.model import EnhancerModel, default_model_path  # noqa: E402
from enlighten_desktop.engine.providers import CPU  # noqa: E402
from enlighten_desktop.resources import samples_dir  # noqa: E402
from enlighten_desktop.selftest import (  # noqa: E402
    BLOCK,
    DEFAULT_SAMPLE,
    REFERENCE_FILE,
    REFERENCE_FORMAT,
    THUMBNAIL_FILE,
    Tolerances,
    box_means,
    default_reference_dir,
    enhanced_whole,
    level_difference,
)

log = logging.getLogger(__name__)

NOISE_MARGIN = 3.0
MIN_TOLERANCES = Tolerances(reference_max=0.5, provider_p999=2.0, provider_mean=0.5)
# Provider tolerances when no int8 model is at hand to measure them.
UNMEASURED_PROVIDER = Tolerances(reference_max=0.0, provider_p999=4.0, provider_mean=1.0)


def _round_up(value: float) -> float:
    return math.ceil(value * 100) / 100


def measure_tolerances(
    model: EnhancerModel, rgb: np.ndarray, base: np.ndarray, *, int8_path: Path | None
) -> tuple[Tolerances, dict]:
    """Tolerances for ``model`` (on the CPU) from ``rgb`` and its result ``base`` (H x W x 3 [0, 1]), with
    the int8 model ``int8_path`` for the provider ones; returns them and the measurements behind them."""
    noise = np.random.default_rng(0).integers(-1, 2, rgb.shape).astype(np.float32) / 255
    noisy = enhanced_whole(model, np.clip(rgb + noise, 0.0, 1.0))
    measured = {"noise_box_max": float(level_difference(box_means(noisy), box_means(base)).max())}
    provider = UNMEASURED_PROVIDER
    if int8_path is not None and int8_path.is_file():
        diff = level_difference(enhanced_whole(EnhancerModel.load(int8_path, provider="cpu"), rgb), base)
        measured.update(int8_p999=float(np.percentile(diff, 99.9)), int8_mean=float(diff.mean()))
        provider = Tolerances(0.0, measured["int8_p999"], measured["int8_mean"])
    tolerances = Tolerances(
        reference_max=_round_up(max(MIN_TOLERANCES.reference_max, NOISE_MARGIN * measured["noise_box_max"])),
        provider_p999=_round_up(max(MIN_TOLERANCES.provider_p999, provider.provider_p999)),
        provider_mean=_round_up(max(MIN_TOLERANCES.provider_mean, provider.provider_mean)),
    )
    return tolerances, measured


def make_reference(
    *, model_path: Path, out_dir: Path, sample: str = DEFAULT_SAMPLE, int8_path: Path | None = None
) -> Path:
    """Enhance ``sample`` (a file in resources/samples) with ``model_path`` on the CPU, measure the
    tolerances (with ``int8_path`` for the provider ones) and store the reference in ``out_dir``.
    Returns the path of reference.json."""
    model = EnhancerModel.load(model_path, provider="cpu")
    rgb = read_image(samples_dir() / sample).rgb
    base = enhanced_whole(model, rgb)
    tolerances, measured = measure_tolerances(model, rgb, base, int8_path=int8_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    metadata = ImageMetadata(format=Format.PNG, bits=16, icc_profile=None, exif=None, xmp=None,
                             compression=None)
    write_image(out_dir / THUMBNAIL_FILE, box_means(base), metadata=metadata, bits=16, overwrite=True)
    c = model.contract
    record = {
        "format": REFERENCE_FORMAT,
        "sample": sample,
        "model_file": model_path.name,
        "model_sha256": model.sha256,
        "model": f"{c.name} {c.version} {c.precision}",
        "block": BLOCK,
        "tile": 0,
        "thumbnail": THUMBNAIL_FILE,
        "tolerances": asdict(tolerances),
        "measured": {key: round(value, 4) for key, value in measured.items()},
        "int8_model": int8_path.name if "int8_p999" in measured and int8_path else None,
        "made_with": f"onnxruntime {ort.__version__} {CPU}",
    }
    target = out_dir / REFERENCE_FILE
    target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("Wrote %s for %s: tolerances %s from %s", target, model_path.name, tolerances, measured)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path("fp32"),
                        help="default: the shipped model")
    parser.add_argument("--int8", type=Path, default=default_model_path("int8"),
                        help="int8 model that sets the provider tolerances (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=default_reference_dir(),
                        help="default: resources/selftest")
    parser.add_argument("--sample", default=DEFAULT_SAMPLE, help="a file in resources/samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_reference(model_path=args.model, out_dir=args.out, sample=args.sample, int8_path=args.int8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
