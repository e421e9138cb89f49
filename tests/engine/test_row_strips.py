"""Large photos are converted in row strips: exactly the whole-image result, in little more memory than it.

``smooth_blocks`` (JPEG read) and ``_to_samples`` (every write) work on strips of rows so that a 100-megapixel
photo does not need several float copies of itself. The strips are made small here (monkeypatched) so that
test images span many of them with a partial last one; the results must equal, bit for bit, the
straightforward whole-image computations written out below.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.engine import deblock, decoders, imageio
from enlighten_desktop.engine.deblock import JpegQuantisation, max_mean_error, smooth_blocks
from enlighten_desktop.engine.imageio import _to_float, _to_samples


def whole_image_smoothing(samples: np.ndarray, quantisation: JpegQuantisation) -> np.ndarray:
    """``smooth_blocks`` on whole planes: each component padded, its block means taken, interpolated and the
    bounded change added, all at full size, with the same float32 operations in the same order."""
    values = samples.astype(np.float32)
    grey = values.shape[2] == 1
    components = [(0, (8, 8), quantisation.luma_dc)]
    if not grey and quantisation.chroma_dc is not None:
        components += [(row, quantisation.chroma_block, quantisation.chroma_dc) for row in (1, 2)]
    for row, (bh, bw), dc_step in components:
        if grey:
            component = values[..., 0].copy()
        else:
            r, g, b = (values[..., channel] for channel in range(3))
            weights = deblock._RGB_TO_YCC[row]
            component = weights[0] * r + weights[1] * g + weights[2] * b
        h, w = component.shape
        rows, cols = -(-h // bh), -(-w // bw)
        plane = np.pad(component, ((0, rows * bh - h), (0, cols * bw - w)), mode="edge")
        means = plane.reshape(rows, bh, cols, bw).mean(axis=(1, 3))
        vertical = means[:, None, :] + deblock._toward_neighbours(means, bh, axis=0)
        correction = deblock._toward_neighbours(vertical, bw, axis=2)
        correction += (vertical - means[:, None, :])[..., None]
        bound = max_mean_error(dc_step)
        change = np.clip(correction, -bound, bound).reshape(rows * bh, cols * bw)[:h, :w]
        for channel in range(values.shape[2]):
            factor = np.float32(1) if grey else deblock._YCC_TO_RGB[channel, row]
            if factor != 0:
                values[..., channel] += factor * change
    return np.clip(values, 0, 255) / 255


def staircase(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """Blocky gradients in both directions with noise, clipped at both ends: the block means differ from
    block row to block row, so strip edges that saw the wrong neighbours would show."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = (y // 8) * 220 / (height / 8) + 30 * np.sin(x / 9)
    noise = np.random.default_rng(seed).normal(0, 12, (height, width, channels))
    tints = np.array([0.7, 1.0, 1.3][:channels])
    return np.clip(base[..., None] * tints + noise - 10, 0, 255).round().astype(np.uint8)


def peak_traced_bytes(convert: Callable[[], np.ndarray]) -> tuple[int, int]:
    """(peak bytes numpy allocated while running ``convert``, bytes of its result)."""
    tracemalloc.start()
    try:
        result = convert()
        return tracemalloc.get_traced_memory()[1], result.nbytes
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "channels, quantisation",
    [
        (1, JpegQuantisation(40, None, (8, 8))),
        (3, JpegQuantisation(24, 30, (8, 8))),
        (3, JpegQuantisation(12, 17, (8, 16))),
        (3, JpegQuantisation(60, 90, (16, 16))),
        (3, JpegQuantisation(33, None, (16, 16))),
    ],
)
@pytest.mark.parametrize("strip_pixels", [1, 3000])  # one block row per strip; a few, not dividing the height
def test_block_smoothing_in_strips_is_exactly_the_whole_image_smoothing(monkeypatch, channels, quantisation,
                                                                       strip_pixels) -> None:
    monkeypatch.setattr(deblock, "_STRIP_PIXELS", strip_pixels)
    samples = staircase(203, 45, channels)  # neither side a multiple of 8 or 16: partial edge blocks
    smoothed = smooth_blocks(samples, quantisation)
    expected = whole_image_smoothing(samples, quantisation)
    assert smoothed.dtype == np.float32 and smoothed.shape == samples.shape
    assert np.array_equal(smoothed, expected)
    assert not np.array_equal(smoothed, samples / np.float32(255))  # the smoothing did something to compare


def test_block_smoothing_at_the_default_strip_size_on_a_photo_taller_than_one_strip() -> None:
    samples = staircase(4500, 60, 3)  # 4096-row strips for this width, the last one partial
    quantisation = JpegQuantisation(30, 40, (16, 16))
    assert np.array_equal(smooth_blocks(samples, quantisation), whole_image_smoothing(samples, quantisation))


def test_block_smoothing_needs_little_more_than_its_result() -> None:
    samples = np.random.default_rng(1).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    peak, result = peak_traced_bytes(lambda: smooth_blocks(samples, JpegQuantisation(30, 40, (16, 16))))
    # Whole planes at a time peaked at 3.6 times the result.
    assert peak <= result * 1.25


def whole_image_samples(rgb: np.ndarray, alpha: np.ndarray | None, bits: int) -> np.ndarray:
    dtype = np.uint16 if bits == 16 else np.uint8
    stacked = rgb if alpha is None else np.concatenate([rgb, alpha[..., None]], axis=2)
    scaled = np.clip(stacked.astype(np.float32), 0.0, 1.0) * np.float32(np.iinfo(dtype).max)
    return np.rint(scaled).astype(dtype)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_samples_written_in_strips_are_exactly_the_whole_image_conversion(monkeypatch, bits, with_alpha):
    monkeypatch.setattr(imageio, "_STRIP_VALUES", 1000)  # a few rows per strip, the last one partial
    rng = np.random.default_rng(2)
    rgb = rng.uniform(-0.2, 1.2, (101, 37, 3)).astype(np.float32)
    rgb[-1, -1] = [0.5 / 255, 254.5 / 255, 0.5 / 65535]  # halfway cases in the last strip
    alpha = rng.uniform(-0.1, 1.1, (101, 37)).astype(np.float32) if with_alpha else None
    samples = _to_samples(rgb, alpha, bits)
    assert np.array_equal(samples, whole_image_samples(rgb, alpha, bits))
    assert samples.dtype == (np.uint16 if bits == 16 else np.uint8)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_bad_value_in_the_last_strip_is_still_refused(monkeypatch, bad):
    monkeypatch.setattr(imageio, "_STRIP_VALUES", 1000)
    rgb = np.full((101, 37, 3), 0.5, np.float32)
    alpha = np.ones((101, 37), np.float32)
    alpha[-1, -1] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        _to_samples(rgb, alpha, 8)


@pytest.mark.parametrize("bits, with_alpha", [(8, False), (16, True)])
def test_writing_samples_needs_little_more_than_the_samples(bits, with_alpha):
    rgb = np.linspace(-0.1, 1.1, 3000 * 4000 * 3, dtype=np.float32).reshape(3000, 4000, 3)
    alpha = rgb[..., 1] if with_alpha else None
    peak, result = peak_traced_bytes(lambda: _to_samples(rgb, alpha, bits))
    # Whole-image float temporaries peaked at 6 to 12 times the samples.
    assert peak <= result * 1.25


def test_reading_samples_to_float_holds_one_float_copy():
    samples = np.arange(3000 * 4000 * 3, dtype=np.uint32).astype(np.uint16).reshape(3000, 4000, 3)
    peak, result = peak_traced_bytes(lambda: _to_float(samples))
    assert peak <= result * 1.05


def pillow_image(mode: str) -> Image.Image:
    """A 203 x 45 image in Pillow ``mode`` with varied values (a palette image keeps a transparent index)."""
    rgba = np.concatenate([staircase(203, 45, 3, seed=1), staircase(203, 45, 1, seed=2)], axis=2)
    image = Image.fromarray(rgba, "RGBA")
    if mode == "P":
        paletted = image.convert("RGB").quantize(64)
        paletted.info["transparency"] = 5
        return paletted
    if mode == "PA":
        return image.convert("RGB").quantize(64).convert("PA")
    return image.convert(mode)


@pytest.mark.parametrize(("mode", "target"), [("1", "L"), ("L", "L"), ("LA", "LA"), ("P", "RGBA"),
                                              ("PA", "RGBA"), ("RGB", "RGB"), ("RGBX", "RGB"),
                                              ("YCbCr", "RGB"), ("RGBA", "RGBA")])
def test_pillow_samples_made_in_strips_are_exactly_the_whole_conversion(monkeypatch, mode, target) -> None:
    monkeypatch.setattr(decoders, "_DECODE_ROWS", 16)  # 13 strips, the last one partial
    image = pillow_image(mode)
    samples = decoders._converted_samples(image, target)
    expected = np.asarray(image.convert(target))
    assert samples.dtype == expected.dtype and samples.shape == expected.shape
    np.testing.assert_array_equal(samples, expected)


def test_pillow_samples_need_no_full_size_copy_beside_the_array(monkeypatch) -> None:
    """Pillow's own export makes a full-size bytes object beside the array; the strips make none."""
    monkeypatch.setattr(decoders, "_DECODE_ROWS", 16)
    image = pillow_image("RGB").resize((900, 1200))
    whole, size = peak_traced_bytes(lambda: np.array(np.asarray(image.convert("RGB"))))
    strips, _ = peak_traced_bytes(lambda: decoders._converted_samples(image, "RGB"))
    assert whole >= 2 * size
    assert strips < 1.2 * size
