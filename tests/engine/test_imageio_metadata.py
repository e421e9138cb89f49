"""ICC, EXIF and XMP survive read_image -> write_image in every output format.

Outputs are inspected with Pillow's parsers and, for TIFF, tifffile's own tag parser, not with read_image.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from enlighten_desktop.engine.imageio import read_image, write_image

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    b'tiff:Orientation="6" xmp:Rating="4" xmp:Label="Night walk"/></rdf:RDF></x:xmpmeta>'
)
UPRIGHT_HW = (10, 16)  # the source is stored 16 x 10 with orientation 6


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R6"
    exif[0x0112] = 6
    exif[0x0132] = "2025:12:31 23:59:00"
    exif[0x8769] = {0x9003: "2025:12:31 23:58:59", 0x829A: 1 / 30, 0x8827: 6400, 0xA434: "RF24-70mm F2.8"}
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 21.0, 5.0)}
    return exif


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "night.jpg"
    pixels = np.random.default_rng(3).integers(0, 256, (16, 10, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=95, icc_profile=ICC, exif=camera_exif(), xmp=XMP)
    return read_image(path)


def test_read_image_resets_orientation_in_exif_and_xmp(source):
    assert source.rgb.shape[:2] == UPRIGHT_HW
    exif = Image.Exif()
    exif.load(source.metadata.exif)
    assert exif[0x0112] == 1 and exif[0x0110] == "Canon EOS R6"
    assert b'tiff:Orientation="1"' in source.metadata.xmp and b'xmp:Rating="4"' in source.metadata.xmp
    assert source.metadata.icc_profile == ICC


@pytest.mark.parametrize(
    ("suffix", "bits"), [(".jpg", 8), (".webp", 8), (".png", 8), (".png", 16), (".tif", 8), (".tif", 16)]
)
def test_icc_exif_and_xmp_survive_each_output_format(tmp_path, source, suffix, bits):
    out = write_image(tmp_path / f"out{suffix}", source.rgb, metadata=source.metadata, bits=bits)
    with Image.open(out) as written:
        assert written.size == (UPRIGHT_HW[1], UPRIGHT_HW[0])
        assert written.info["icc_profile"] == ICC
        xmp = written.info.get("xmp") or written.info.get("XML:com.adobe.xmp")
        xmp = xmp.encode() if isinstance(xmp, str) else xmp
        assert b'xmp:Label="Night walk"' in xmp and b'tiff:Orientation="1"' in xmp
        exif = written.getexif()
        assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Canon", "Canon EOS R6", 1)
        sub = exif.get_ifd(0x8769)
        assert (
            sub[0x9003] == "2025:12:31 23:58:59" and sub[0x8827] == 6400 and sub[0xA434] == "RF24-70mm F2.8"
        )
        assert float(sub[0x829A]) == pytest.approx(1 / 30)
        gps = exif.get_ifd(0x8825)
        assert gps[1] == "N" and [float(v) for v in gps[2]] == [48.0, 51.0, 30.0]


def test_tiff_exif_is_a_real_exif_ifd_for_other_readers(tmp_path, source):
    out = write_image(tmp_path / "out.tif", source.rgb, metadata=source.metadata, bits=16)
    with tifffile.TiffFile(out) as tif:
        tags = tif.pages.first.tags
        assert tags["InterColorProfile"].value == ICC
        assert b"Night walk" in bytes(tags["XMP"].value)
        assert tags["Make"].value == "Canon" and tags["Orientation"].value == 1
        assert tags["DateTime"].value == "2025:12:31 23:59:00"
        assert tags["ExifTag"].value["DateTimeOriginal"] == "2025:12:31 23:58:59"
        assert tags["ExifTag"].value["ISOSpeedRatings"] == 6400
        assert tags["GPSTag"].value["GPSLatitudeRef"] == "N"
        assert "Software" not in tags  # nothing invented


def test_tiff_source_keeps_descriptive_tags_only(tmp_path):
    src = tmp_path / "lr.tif"
    tifffile.imwrite(
        src,
        np.zeros((4, 6, 3), np.uint16),
        photometric="rgb",
        iccprofile=ICC,
        software="Adobe Lightroom",
        resolution=(300, 300),
        resolutionunit="INCH",
        extratags=[(0x010F, "s", 0, "Nikon", True), (700, "B", len(XMP), XMP, True)],
        metadata=None,
    )
    loaded = read_image(src)
    assert loaded.metadata.icc_profile == ICC and b"Night walk" in loaded.metadata.xmp
    exif = Image.Exif()
    exif.load(loaded.metadata.exif)
    assert exif[0x010F] == "Nikon" and exif[0x0131] == "Adobe Lightroom" and float(exif[0x011A]) == 300
    assert 0x0111 not in exif and 0x0102 not in exif  # StripOffsets, BitsPerSample: the source's layout

    out = write_image(tmp_path / "lr_out.jpg", loaded.rgb, metadata=loaded.metadata)
    with Image.open(out) as written:
        assert written.getexif()[0x010F] == "Nikon" and written.info["dpi"] == (300, 300)


def test_image_without_profile_is_written_without_one(tmp_path):
    src = tmp_path / "plain.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src)
    loaded = read_image(src)
    assert loaded.metadata.icc_profile is None and loaded.metadata.exif is None
    for suffix in (".jpg", ".png", ".tif", ".webp"):
        with Image.open(write_image(tmp_path / f"o{suffix}", loaded.rgb, metadata=loaded.metadata)) as out:
            assert "icc_profile" not in out.info or not out.info["icc_profile"]


def test_oversized_exif_drops_the_maker_note_for_jpeg(tmp_path, caplog):
    exif = camera_exif()
    exif[0x8769] = {0x9003: "2025:12:31 23:58:59", 0x927C: bytes(70_000)}
    src = tmp_path / "big_exif.webp"  # WebP can hold it; JPEG's APP1 segment cannot
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src, exif=exif)
    loaded = read_image(src)
    out = write_image(tmp_path / "o.jpg", loaded.rgb, metadata=loaded.metadata)
    with Image.open(out) as written:
        sub = written.getexif().get_ifd(0x8769)
        assert 0x927C not in sub and sub[0x9003] == "2025:12:31 23:58:59"
    assert "MakerNote" in caplog.text


def test_heic_metadata_is_read_and_its_orientation_applied_once(tmp_path):
    upright = np.zeros((16, 24, 3), np.uint8)
    upright[:8, :12] = (255, 0, 0)
    stored = np.ascontiguousarray(upright[:, ::-1].swapaxes(0, 1))  # orientation 6, as a camera stores it
    src = tmp_path / "phone.heic"
    # pillow-heif turns EXIF orientation 6 into the HEIF rotation property, which libheif applies on decode.
    Image.fromarray(stored).save(src, quality=-1, chroma=444, exif=camera_exif(), icc_profile=ICC, xmp=XMP)
    loaded = read_image(src)
    assert loaded.rgb.shape == (16, 24, 3)
    assert loaded.rgb[:6, :10, 0].mean() > 0.95 and loaded.rgb[10:, 14:, 0].mean() < 0.05
    assert loaded.metadata.icc_profile == ICC and b"Night walk" in loaded.metadata.xmp
    assert b'tiff:Orientation="6"' not in loaded.metadata.xmp  # pillow-heif removes it; nothing rotates twice
    exif = Image.Exif()
    exif.load(loaded.metadata.exif)
    assert exif[0x0112] == 1 and exif.get_ifd(0x8769)[0x9003] == "2025:12:31 23:58:59"
