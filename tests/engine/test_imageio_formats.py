"""read_image / write_image on real files: precision, formats, channels and orientation.

Sources are written by independent encoders (tifffile, imagecodecs' libpng, Pillow, pillow-heif) and outputs
are checked with independent decoders where precision matters, so a symmetric bug cannot hide.
"""

from __future__ import annotations

import logging

import imagecodecs
import numpy as np
import pillow_heif
import pytest
import tifffile
from PIL import Image, ImageOps

from enlighten_desktop.engine.formats import SUPPORTED_SUFFIXES
from enlighten_desktop.engine.imageio import read_image, read_preview, read_reduced_jpeg, write_image


def gradient16(height: int = 48, width: int = 160) -> np.ndarray:
    """H x W x 3 uint16 holding 0, 65535 and many odd values in between, distinct per channel."""
    ramp = np.linspace(0, 65535, height * width).round().astype(np.uint16).reshape(height, width)
    return np.stack([ramp, ramp[::-1], np.roll(ramp, 7, axis=1) ^ 0x5555], axis=2)


def noise8(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.mark.parametrize("compression", [None, "lzw", "zlib"])
def test_16bit_tiff_survives_read_and_write_exactly(tmp_path, compression):
    source = gradient16()
    src = tmp_path / "in.tif"
    tifffile.imwrite(src, source, photometric="rgb", compression=compression)

    loaded = read_image(src)
    assert loaded.rgb.dtype == np.float32 and loaded.metadata.bits == 16
    np.testing.assert_array_equal(loaded.rgb, source.astype(np.float32) / np.float32(65535))

    out = write_image(tmp_path / "out.tif", loaded.rgb, metadata=loaded.metadata)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        np.testing.assert_array_equal(page.asarray(), source)
        assert page.dtype == np.uint16
        expected = {
            None: tifffile.COMPRESSION.NONE,
            "lzw": tifffile.COMPRESSION.LZW,
            "zlib": tifffile.COMPRESSION.ADOBE_DEFLATE,
        }[compression]
        assert page.compression == expected  # kept for in-place saves (Lightroom's "Edit In")


def test_16bit_png_survives_read_and_write_exactly(tmp_path):
    source = gradient16()
    src = tmp_path / "in.png"
    src.write_bytes(imagecodecs.png_encode(source))

    loaded = read_image(src)
    assert loaded.metadata.format == "PNG" and loaded.metadata.bits == 16
    out = write_image(tmp_path / "out.png", loaded.rgb, metadata=loaded.metadata)
    np.testing.assert_array_equal(imagecodecs.png_decode(out.read_bytes()), source)


def test_float_values_are_rounded_to_nearest_not_truncated(tmp_path):
    metadata = read_image(_png16(tmp_path, gradient16(2, 2))).metadata
    rgb = np.full((1, 3, 3), (1000.6 / 65535), np.float32)
    rgb[0, 1] = 1000.4 / 65535
    rgb[0, 2] = [-0.5, 1.5, 0.5]  # out of range: clipped
    out = write_image(tmp_path / "r.png", rgb, metadata=metadata, bits=16)
    written = imagecodecs.png_decode(out.read_bytes())
    assert written[0, 0, 0] == 1001 and written[0, 1, 0] == 1000
    assert written[0, 2].tolist() == [0, 65535, 32768]


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_8bit_lossless_formats_round_trip_exactly(tmp_path, suffix):
    source = noise8(20, 30)
    src = tmp_path / f"in{suffix}"
    Image.fromarray(source).save(src)
    loaded = read_image(src)
    assert loaded.metadata.bits == 8
    out = write_image(tmp_path / f"out{suffix}", loaded.rgb, metadata=loaded.metadata)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), source)


@pytest.mark.parametrize(("suffix", "fmt"), [(".jpg", "JPEG"), (".webp", "WEBP")])
def test_lossy_formats_decode_and_encode_close_to_the_source(tmp_path, suffix, fmt):
    smooth = np.repeat(np.linspace(0, 255, 64).astype(np.uint8)[None, :, None], 48, axis=0).repeat(3, axis=2)
    src = tmp_path / f"in{suffix}"
    Image.fromarray(smooth).save(src, quality=95)
    loaded = read_image(src)
    assert loaded.metadata.format == fmt and loaded.metadata.bits == 8 and loaded.rgb.shape == (48, 64, 3)
    out = write_image(tmp_path / f"out{suffix}", loaded.rgb, metadata=loaded.metadata, quality=95)
    with Image.open(out) as written:
        assert written.format == fmt
        assert np.abs(np.asarray(written, dtype=float) - smooth).mean() < 2.0


def test_16bit_source_written_as_jpeg_defaults_to_8_bits_and_16_bits_is_refused(tmp_path):
    from enlighten_desktop.engine.errors import UnsupportedFormatError

    loaded = read_image(_png16(tmp_path, gradient16(8, 8)))
    out = write_image(tmp_path / "o.jpg", loaded.rgb, metadata=loaded.metadata)
    with Image.open(out) as written:
        assert written.mode == "RGB"
    with pytest.raises(UnsupportedFormatError, match="16 bits"):
        write_image(tmp_path / "o2.jpg", loaded.rgb, metadata=loaded.metadata, bits=16)
    out8 = write_image(tmp_path / "o8.tif", loaded.rgb, metadata=loaded.metadata, bits=8)
    with tifffile.TiffFile(out8) as written:
        assert written.pages.first.dtype == np.uint8


# EXIF/TIFF orientation semantics (where row 0 and column 0 of the stored image lie in the upright scene),
# written from the specification's table, independently of the implementation.
STORED_FROM_UPRIGHT = {
    1: lambda u: u,
    2: lambda u: u[:, ::-1],  # row 0 top, column 0 right
    3: lambda u: u[::-1, ::-1],  # bottom, right
    4: lambda u: u[::-1],  # bottom, left
    5: lambda u: u.swapaxes(0, 1),  # row 0 left side, column 0 top
    6: lambda u: u[:, ::-1].swapaxes(0, 1),  # row 0 right side, column 0 top
    7: lambda u: u[::-1, ::-1].swapaxes(0, 1),  # row 0 right side, column 0 bottom
    8: lambda u: u[::-1].swapaxes(0, 1),  # row 0 left side, column 0 bottom
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright_and_is_reset_on_output(tmp_path, orientation):
    upright = noise8(5, 7, seed=orientation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Maker"
    src = tmp_path / "o.png"
    Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[orientation](upright))).save(src, exif=exif)

    loaded = read_image(src)
    np.testing.assert_array_equal(np.rint(loaded.rgb * 255).astype(np.uint8), upright)
    np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(Image.open(src))), upright)

    out = write_image(tmp_path / "out.png", loaded.rgb, metadata=loaded.metadata)
    with Image.open(out) as written:
        assert written.getexif()[0x0112] == 1 and written.getexif()[0x010F] == "Maker"
        np.testing.assert_array_equal(np.asarray(written), upright)


def test_jpeg_orientation_6_is_applied(tmp_path):
    upright = np.zeros((32, 48, 3), np.uint8)
    upright[:16, :24] = (255, 0, 0)  # red top-left quadrant of the scene
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "r.jpg"
    Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[6](upright))).save(src, exif=exif, quality=95)
    loaded = read_image(src)
    assert loaded.rgb.shape == (32, 48, 3)
    assert loaded.rgb[:14, :22, 0].mean() > 0.9 and loaded.rgb[18:, 26:, 0].mean() < 0.1


@pytest.mark.parametrize(("suffix", "bits"), [(".png", 8), (".png", 16), (".tif", 8), (".tif", 16)])
def test_alpha_is_returned_apart_and_written_back_unchanged(tmp_path, suffix, bits):
    rgba = (noise8(12, 10, 4).astype(np.uint16) * 257) if bits == 16 else noise8(12, 10, 4)
    src = tmp_path / f"a{suffix}"
    if suffix == ".png" and bits == 16:
        src.write_bytes(imagecodecs.png_encode(rgba))
    elif suffix == ".png":
        Image.fromarray(rgba, "RGBA").save(src)
    else:
        tifffile.imwrite(src, rgba, photometric="rgb", extrasamples=["unassalpha"])

    loaded = read_image(src)
    scale = 65535 if bits == 16 else 255
    np.testing.assert_array_equal(np.rint(loaded.alpha * scale), rgba[..., 3])
    np.testing.assert_array_equal(np.rint(loaded.rgb * scale), rgba[..., :3])

    out = write_image(tmp_path / f"out{suffix}", loaded.rgb, alpha=loaded.alpha, metadata=loaded.metadata)
    written = tifffile.imread(out) if suffix == ".tif" else imagecodecs.png_decode(out.read_bytes())
    np.testing.assert_array_equal(written, rgba)


def test_webp_keeps_alpha_and_jpeg_drops_it_with_a_note(tmp_path, caplog):
    rgba = noise8(16, 16, 4)
    src = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(src)
    loaded = read_image(src)

    webp = write_image(tmp_path / "a.webp", loaded.rgb, alpha=loaded.alpha, metadata=loaded.metadata)
    with Image.open(webp) as written:
        assert written.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(written)[..., 3], rgba[..., 3])
    with caplog.at_level(logging.INFO):
        jpeg = write_image(tmp_path / "a.jpg", loaded.rgb, alpha=loaded.alpha, metadata=loaded.metadata)
    with Image.open(jpeg) as written:
        assert written.mode == "RGB"
    assert "alpha" in caplog.text


def test_grey_is_replicated_to_rgb_and_written_back_as_rgb(tmp_path):
    grey = noise8(9, 11, 1)[..., 0]
    src = tmp_path / "g.png"
    Image.fromarray(grey, "L").save(src)
    loaded = read_image(src)
    assert loaded.rgb.shape == (9, 11, 3) and loaded.alpha is None
    for channel in range(3):
        np.testing.assert_array_equal(np.rint(loaded.rgb[..., channel] * 255), grey)
    out = write_image(tmp_path / "g_out.png", loaded.rgb, metadata=loaded.metadata)
    with Image.open(out) as written:
        assert written.mode == "RGB"


def test_16bit_grey_and_grey_alpha_are_read_at_full_precision(tmp_path):
    grey16 = gradient16(6, 40)[..., 0]
    src = tmp_path / "g16.tif"
    tifffile.imwrite(src, grey16, photometric="minisblack")
    loaded = read_image(src)
    np.testing.assert_array_equal(np.rint(loaded.rgb[..., 1] * 65535), grey16)

    la = noise8(5, 6, 2)
    src_la = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(src_la)
    loaded_la = read_image(src_la)
    np.testing.assert_array_equal(np.rint(loaded_la.rgb[..., 2] * 255), la[..., 0])
    np.testing.assert_array_equal(np.rint(loaded_la.alpha * 255), la[..., 1])


def test_palette_becomes_rgb_or_rgba_when_it_has_transparency(tmp_path):
    indices = np.arange(12, dtype=np.uint8).reshape(3, 4) % 4
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
    image = Image.fromarray(indices, "P")
    image.putpalette(palette)
    image.save(tmp_path / "p.png")
    image.save(tmp_path / "pt.png", transparency=1)

    plain = read_image(tmp_path / "p.png")
    expected = np.array(palette, np.uint8).reshape(4, 3)[indices]
    np.testing.assert_array_equal(np.rint(plain.rgb * 255), expected)
    assert plain.alpha is None
    transparent = read_image(tmp_path / "pt.png")
    np.testing.assert_array_equal(transparent.alpha == 0, indices == 1)


def test_cmyk_without_profile_is_converted_naively_with_a_warning(tmp_path, caplog):
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[..., 0] = 255  # full cyan: (0, 255, 255) in a naive conversion
    src = tmp_path / "c.jpg"
    Image.fromarray(cmyk, "CMYK").save(src, quality=100)
    with caplog.at_level(logging.WARNING):
        loaded = read_image(src)
    assert "CMYK" in caplog.text and loaded.metadata.icc_profile is None
    np.testing.assert_allclose(loaded.rgb.mean(axis=(0, 1)), [0, 1, 1], atol=0.02)


def test_heic_8bit_and_10bit_are_read(tmp_path):
    eight = np.zeros((16, 24, 3), np.uint8)
    eight[..., 0] = np.linspace(0, 255, 24, dtype=np.uint8)
    eight[:8, :, 2] = 200
    pillow_heif.from_pillow(Image.fromarray(eight)).save(tmp_path / "8.heic", quality=-1, chroma=444)
    loaded = read_image(tmp_path / "8.heic")
    assert loaded.metadata.format == "HEIF" and loaded.metadata.bits == 8 and loaded.rgb.shape == (16, 24, 3)
    assert np.abs(loaded.rgb * 255 - eight).mean() < 3  # lossless HEVC, but through YCbCr

    ramp = np.repeat(np.linspace(0, 65535, 64).astype(np.uint16)[None, :, None], 16, axis=0).repeat(3, axis=2)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(64, 16), data=ramp.tobytes())
    heif.save(tmp_path / "10.heic", quality=-1)
    loaded10 = read_image(tmp_path / "10.heic")
    assert loaded10.metadata.bits == 16
    # 10-bit steps survive: more distinct levels than 8 bits could hold on this 64-step ramp
    assert len(np.unique(np.rint(loaded10.rgb[8, :, 1] * 65535))) > 60
    assert np.abs(loaded10.rgb - ramp / 65535).max() < 0.02


def test_preview_is_small_upright_and_float(tmp_path):
    upright = np.zeros((300, 400, 3), np.uint8)
    upright[:150, :200] = 255
    exif = Image.Exif()
    exif[0x0112] = 8
    src = tmp_path / "big.jpg"
    Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[8](upright))).save(src, exif=exif)
    preview = read_preview(src, max_side=64)
    assert preview.shape == (48, 64, 3) and preview.dtype == np.float32
    assert preview[:20, :28].mean() > 0.9 and preview[28:, 36:].mean() < 0.1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_reduced_jpeg_is_a_small_decode_upright_as_the_full_read(tmp_path, orientation):
    upright = np.zeros((600, 800, 3), np.uint8)
    upright[:300, :400] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = tmp_path / "big.jpg"
    Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[orientation](upright))).save(src, exif=exif)
    reduced = read_reduced_jpeg(src, min_side=190)
    assert reduced is not None and (reduced.width, reduced.height) == (800, 600)
    assert reduced.rgb.shape == (150, 200, 3) and reduced.rgb.dtype == np.float32  # 1/4 scale: 200 >= 190
    full = read_image(src).rgb
    assert np.abs(reduced.rgb - full.reshape(150, 4, 200, 4, 3).mean(axis=(1, 3))).mean() < 0.02


def test_reduced_jpeg_is_full_scale_for_a_small_photo_and_none_for_other_formats(tmp_path):
    Image.fromarray(noise8(40, 60)).save(tmp_path / "small.jpg")
    Image.fromarray(noise8(40, 60)).save(tmp_path / "small.png")
    Image.fromarray(noise8(40, 60, channels=4)).convert("CMYK").save(tmp_path / "cmyk.jpg")
    small = read_reduced_jpeg(tmp_path / "small.jpg", min_side=512)
    assert small is not None and small.rgb.shape == (40, 60, 3) and (small.width, small.height) == (60, 40)
    assert read_reduced_jpeg(tmp_path / "small.png", min_side=16) is None
    assert read_reduced_jpeg(tmp_path / "cmyk.jpg", min_side=16) is None  # converted by its profile in full


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".heic"])
def test_preview_of_other_formats_matches_the_full_image(tmp_path, suffix):
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, 40:] = (0, 200, 90)
    src = tmp_path / f"p{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(src, pixels.astype(np.uint16) * 257, photometric="rgb", compression="lzw")
    else:
        Image.fromarray(pixels).save(src, quality=95)
    preview = read_preview(src, max_side=20)
    assert preview.shape == (10, 20, 3)
    np.testing.assert_allclose(preview[:, 12:].mean(axis=(0, 1)), [0, 200 / 255, 90 / 255], atol=0.03)


def test_supported_suffixes():
    assert {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif"} <= SUPPORTED_SUFFIXES
    assert {".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf"} <= SUPPORTED_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED_SUFFIXES)


def _png16(tmp_path, samples):
    path = tmp_path / "src16.png"
    path.write_bytes(imagecodecs.png_encode(samples))
    return path
