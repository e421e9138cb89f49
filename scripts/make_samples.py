"""Make resources/samples/: simulated under-exposures of public-domain / CC0 photographs.

The sample photos must be shippable, so they cannot come from the research data sets used for training. They
are made from public-domain and CC0 images that scikit-image distributes (see resources/samples/README.md),
by the physics of a short exposure: decode sRGB to linear light, scale by an exposure factor, add photon
(Poisson) and read (Gaussian) noise at a sensor-like level, re-encode to sRGB and save as a camera would
(8-bit JPEG), with one 16-bit TIFF so the app's high-bit-depth path has a sample.

python scripts/make_samples.py SKIMAGE_DATA_DIR resources/samples
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

# (source file, output name, exposure factor, full-well electrons: fewer electrons = noisier)
SAMPLES = [
    ("astronaut.png", "astronaut_dim.jpg", 1 / 14, 900.0),
    ("coffee.png", "coffee_candlelight.jpg", 1 / 20, 700.0),
    ("chelsea.png", "cat_dusk.jpg", 1 / 16, 800.0),
    ("rocket.jpg", "rocket_night.tif", 1 / 12, 1500.0),
]
READ_NOISE_ELECTRONS = 3.0


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def underexpose(rgb8: np.ndarray, *, exposure: float, full_well: float, seed: int) -> np.ndarray:
    """rgb8: H x W x 3 uint8 sRGB. Returns H x W x 3 float64 sRGB in [0, 1], as a short exposure records."""
    rng = np.random.default_rng(seed)
    electrons = srgb_to_linear(rgb8 / 255.0) * exposure * full_well
    noisy = rng.poisson(electrons) + rng.normal(0.0, READ_NOISE_ELECTRONS, electrons.shape)
    return linear_to_srgb(noisy / full_well)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="folder with scikit-image's data images")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed, (source, name, exposure, full_well) in enumerate(SAMPLES):
        rgb8 = np.asarray(Image.open(args.source / source).convert("RGB"))
        dark = underexpose(rgb8, exposure=exposure, full_well=full_well, seed=seed)
        target = args.out / name
        if target.suffix == ".tif":
            tifffile.imwrite(target, np.round(dark * 65535).astype(np.uint16), photometric="rgb",
                             compression="zlib")
        else:
            Image.fromarray(np.round(dark * 255).astype(np.uint8)).save(target, quality=92)


if __name__ == "__main__":
    main()
