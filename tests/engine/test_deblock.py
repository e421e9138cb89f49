"""JPEG block smoothing on real JPEG files (Pillow's libjpeg encodes them), through ``read_image``."""

from __future__ import annotations

from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.engine.deblock import max_mean_error
from enlighten_desktop.engine.imageio import read_image

H, W = 96, 128


def dark_gradient() -> np.ndarray:
    """A smooth night sky: what a JPEG turns into a staircase of flat blocks. Float, 8-bit levels."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    base = 6 + 14 * (x / W) + 6 * (y / H)
    return np.stack([base * 0.6, base * 0.8, base * 1.2], axis=-1)


def save_jpeg(path: Path, levels: np.ndarray, **options) -> Path:
    Image.fromarray(np.clip(levels.round(), 0, 255).astype(np.uint8)).save(path, "JPEG", **options)
    return path


def plain_decode(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def blockiness(levels: np.ndarray) -> float:
    """Mean jump across the vertical 8-pixel block boundaries over the mean jump inside blocks."""
    steps = np.abs(np.diff(levels.mean(axis=2), axis=1))
    across = steps[:, 7::8].mean()
    inside = np.delete(steps, np.s_[7::8], axis=1).mean()
    return float(across / max(inside, 1e-6))


def test_a_compressed_dark_gradient_loses_its_block_steps_and_gets_closer_to_the_original(tmp_path) -> None:
    original = dark_gradient()
    path = save_jpeg(tmp_path / "sky.jpg", original, quality=30)
    plain = plain_decode(path)
    smoothed = read_image(path).rgb * 255
    assert blockiness(plain) > 3  # the staircase is there to remove
    assert blockiness(smoothed) < blockiness(plain) / 2
    assert np.abs(smoothed - original).mean() < np.abs(plain - original).mean()


def test_pixels_move_by_no_more_than_the_files_quantisation_allows(tmp_path) -> None:
    rng = np.random.default_rng(0)
    textured = dark_gradient() + rng.normal(0, 6, (H, W, 3))
    for quality in (30, 95):
        path = save_jpeg(tmp_path / f"q{quality}.jpg", textured, quality=quality)
        with Image.open(path) as image:
            luma_dc, chroma_dc = image.quantization[0][0], image.quantization[1][0]
        change = np.abs(read_image(path).rgb * 255 - plain_decode(path))
        # RGB mixes the luma and the chroma changes (Cr reaches R with weight 1.402, Cb reaches B with 1.772).
        bound = max_mean_error(luma_dc) + 1.772 * max_mean_error(chroma_dc)
        assert 0 < change.max() <= bound + 1e-3, quality
    assert max_mean_error(luma_dc) < 1  # quality 95: under a level, so a good JPEG is left nearly as is


def test_the_block_grid_is_the_stored_images_even_when_exif_rotates_it(tmp_path) -> None:
    stored = dark_gradient()[:-5, :-3]  # sides not multiples of 8: turned, the grid would not line up
    upright = save_jpeg(tmp_path / "upright.jpg", stored, quality=30)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; viewers turn it 90 degrees clockwise
    rotated = save_jpeg(tmp_path / "rotated.jpg", stored, quality=30, exif=exif.tobytes())
    assert np.array_equal(read_image(rotated).rgb, np.rot90(read_image(upright).rgb, -1))


@pytest.mark.parametrize("size", [(H, W), (H - 5, W - 3)])  # partial edge blocks too
def test_greyscale_jpegs_are_smoothed_on_their_one_channel(tmp_path, size) -> None:
    grey = dark_gradient()[: size[0], : size[1], 1]
    path = tmp_path / "grey.jpg"
    Image.fromarray(grey.round().astype(np.uint8), mode="L").save(path, "JPEG", quality=30)
    with Image.open(path) as image:
        plain = np.asarray(image, dtype=np.float32)
    loaded = read_image(path).rgb * 255
    assert loaded.shape == (*size, 3) and np.array_equal(loaded[..., 0], loaded[..., 2])
    assert blockiness(loaded) < blockiness(np.repeat(plain[..., None], 3, axis=2)) / 2


def test_other_formats_are_read_exactly(tmp_path) -> None:
    levels = np.clip(dark_gradient().round(), 0, 255).astype(np.uint8)
    Image.fromarray(levels).save(tmp_path / "sky.png")
    assert np.array_equal(read_image(tmp_path / "sky.png").rgb, levels.astype(np.float32) / 255)


def test_a_jpeg_that_stores_rgb_itself_is_read_as_decoded(tmp_path) -> None:
    # Adobe's RGB-coded JPEGs have no luma and chroma to smooth: their tables mean something else.
    levels = np.clip(dark_gradient().round(), 0, 255).astype(np.uint8)
    path = tmp_path / "rgb-coded.jpg"
    path.write_bytes(imagecodecs.jpeg8_encode(levels, level=30, colorspace="RGB", outcolorspace="RGB"))
    with Image.open(path) as image:
        assert image.info["adobe_transform"] == 0
    assert np.array_equal(read_image(path).rgb, plain_decode(path) / 255)
