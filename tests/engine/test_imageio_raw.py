"""Camera raw through LibRaw, on a small CFA DNG written here with tifffile (DNG 1.4 tags, RGGB mosaic).

Laid out as cameras do: IFD0 holds an 8-bit RGB preview and the descriptive tags, its SubIFD the mosaic.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import rawpy
import tifffile
from PIL import Image, ImageCms

from enlighten_desktop.engine.errors import ImageReadError, ImageTooLargeError, UnsupportedFormatError
from enlighten_desktop.engine.imageio import read_image, read_preview, write_image

HEIGHT, WIDTH = 64, 96
WHITE, BLACK = 16383, 256
AS_SHOT_NEUTRAL = (0.5, 1.0, 0.7)  # the camera saw grey as R = 0.5 G, B = 0.7 G
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/><!-- rating 5 --></x:xmpmeta>'


def is_srgb_profile(icc: bytes) -> bool:
    # Compared by description: LittleCMS stamps the creation time into the header, so bytes vary.
    return "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))


def rationals(values) -> list[int]:
    return [part for value in values for part in (round(value * 10000), 10000)]


def write_dng(path, *, orientation: int = 1, brightness: float = 0.2, preview_compression=None) -> None:
    """A grey scene, dark on the left, brighter on the right, seen through AS_SHOT_NEUTRAL; a red preview."""
    level = np.linspace(brightness / 4, brightness, WIDTH)[None, :].repeat(HEIGHT, axis=0)
    gain = np.empty((HEIGHT, WIDTH))
    gain[0::2, 0::2], gain[0::2, 1::2] = AS_SHOT_NEUTRAL[0], AS_SHOT_NEUTRAL[1]
    gain[1::2, 0::2], gain[1::2, 1::2] = AS_SHOT_NEUTRAL[1], AS_SHOT_NEUTRAL[2]
    mosaic = (BLACK + level * gain * (WHITE - BLACK)).round().astype(np.uint16)
    preview = np.zeros((32, 48, 3), np.uint8)
    preview[:16, :24] = (255, 0, 0)  # marks the stored top-left corner
    ifd0 = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "Test Camera", True),  # UniqueCameraModel
        (271, "s", 0, "TestMake", True),
        (272, "s", 0, "TestModel", True),
        (274, "H", 1, orientation, True),
        (700, "B", len(XMP), XMP, True),
        (
            50721,
            "2i",
            9,
            rationals([0.7, -0.1, -0.1, -0.3, 1.2, 0.1, -0.05, 0.15, 0.6]),
            True,
        ),  # ColorMatrix1
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, rationals(AS_SHOT_NEUTRAL), True),
    ]
    raw_ifd = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50714, "H", 1, BLACK, True),  # BlackLevel
        (50717, "H", 1, WHITE, True),  # WhiteLevel
    ]
    with tifffile.TiffWriter(path) as writer:
        writer.write(
            preview, photometric="rgb", compression=preview_compression, subfiletype=1, subifds=1,
            extratags=ifd0,
            datetime="2025:11:01 21:30:00", metadata=None,
        )  # fmt: skip
        writer.write(mosaic, photometric=32803, subfiletype=0, extratags=raw_ifd, metadata=None)


@pytest.fixture
def dng(tmp_path):
    path = tmp_path / "IMG_0001.dng"
    write_dng(path)
    return path


def test_dng_is_developed_to_16_bit_srgb_with_camera_white_balance(dng):
    loaded = read_image(dng)
    assert loaded.rgb.shape == (HEIGHT, WIDTH, 3) and loaded.rgb.dtype == np.float32 and loaded.alpha is None
    assert loaded.metadata.format == "RAW" and loaded.metadata.bits == 16
    assert is_srgb_profile(loaded.metadata.icc_profile)
    inner = loaded.rgb[8:-8, 8:-8]
    # As-shot white balance turns the camera's tinted grey back into neutral grey.
    assert np.abs(inner - inner.mean(axis=2, keepdims=True)).max() < 0.01
    # Dark left, brighter right, and no auto-brightening: the brightest part stays far from white.
    assert inner[:, :8].mean() < inner[:, -8:].mean() < 0.7
    # 16-bit precision: far more distinct levels than 8 bits along a smooth ramp.
    assert len(np.unique(loaded.rgb[32, :, 1])) > 80


def test_raw_is_encoded_with_the_srgb_curve(dng):
    with rawpy.imread(str(dng)) as raw:
        linear = raw.postprocess(
            use_camera_wb=True, output_color=rawpy.ColorSpace.sRGB, output_bps=16, gamma=(1, 1),
            no_auto_bright=True,
        )[..., 1] / 65535  # fmt: skip
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    np.testing.assert_allclose(read_image(dng).rgb[..., 1], srgb, atol=2e-3)


def test_raw_metadata_is_kept(dng, tmp_path):
    loaded = read_image(dng)
    exif = Image.Exif()
    exif.load(loaded.metadata.exif)
    assert (exif[271], exif[272], exif[306]) == ("TestMake", "TestModel", "2025:11:01 21:30:00")
    assert 50706 not in exif and 50721 not in exif  # DNG structure tags are not copied
    assert loaded.metadata.xmp == XMP
    out = write_image(tmp_path / "dev.tif", loaded.rgb, metadata=loaded.metadata)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.tags["Model"].value == "TestModel"
        assert page.tags["InterColorProfile"].value == loaded.metadata.icc_profile
        assert is_srgb_profile(page.tags["InterColorProfile"].value)


@pytest.mark.parametrize(("orientation", "turned"), [(6, -1), (8, 1), (3, 2)])
def test_libraw_rotates_raw_and_preview_once(tmp_path, orientation, turned):
    path = tmp_path / "r.dng"
    write_dng(path, orientation=orientation)
    loaded = read_image(path)
    expected_shape = (WIDTH, HEIGHT) if orientation in (6, 8) else (HEIGHT, WIDTH)
    assert loaded.rgb.shape[:2] == expected_shape
    # The scene is dark on the stored left: after rotating, that side is where np.rot90 puts it.
    column_means = np.rot90(np.arange(WIDTH, dtype=float)[None, :].repeat(HEIGHT, 0), turned)
    correlation = np.corrcoef(column_means.ravel(), loaded.rgb[..., 1].ravel())[0, 1]
    assert correlation > 0.9
    exif = Image.Exif()
    exif.load(loaded.metadata.exif)
    assert exif[0x0112] == 1

    preview = read_preview(path, max_side=48)
    red_corner = np.rot90(np.pad(np.ones((16, 24)), ((0, 16), (0, 24))), turned)
    assert np.corrcoef(red_corner.ravel(), preview[..., 0].ravel())[0, 1] > 0.9


@pytest.mark.parametrize("compression", [None, "jpeg"])  # LibRaw hands these out as bitmap / JPEG
def test_raw_preview_uses_the_embedded_image(tmp_path, compression):
    dng = tmp_path / "p.dng"
    write_dng(dng, preview_compression=compression)
    preview = read_preview(dng, max_side=48)
    assert preview.shape == (32, 48, 3)
    assert preview[:16, :24, 0].mean() > 0.95  # the red preview, not the grey develop


def test_bad_raw_files(tmp_path, dng):
    fake = tmp_path / "DSC_0001.NEF"
    fake.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(UnsupportedFormatError, match="DSC_0001.NEF"):
        read_image(fake)
    cut = tmp_path / "cut.dng"
    cut.write_bytes(dng.read_bytes()[:-100])  # headers intact, mosaic short
    with pytest.raises(ImageReadError, match=r"cut\.dng.*truncated or damaged"):
        read_image(cut)
    with pytest.raises(ImageTooLargeError, match="IMG_0001.dng"):
        read_image(dng, max_pixels=HEIGHT * WIDTH - 1)
