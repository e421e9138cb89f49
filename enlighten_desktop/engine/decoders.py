"""Decoding of the non-raw formats into integer samples plus metadata, before orientation is applied.

Pillow opens every file (header only): that gives the format, the size for the pixel limit, ICC, EXIF, XMP.
Pillow also decodes 8-bit pixels. It would truncate 16-bit colour to 8 bits, so 16-bit samples come from
tifffile (TIFF, with imagecodecs for LZW), imagecodecs' libpng (PNG) and pillow-heif (10/12-bit HEIF, scaled
to 16 bits by libheif). For JPEGs the DC steps of the quantisation tables and the chroma layout come along,
for ``deblock``.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imagecodecs
import numpy as np
import pillow_heif
import tifffile
from PIL import Image, ImageCms, JpegImagePlugin, TiffImagePlugin, UnidentifiedImageError

from .deblock import JpegQuantisation
from .errors import ImageReadError, ImageTooLargeError, UnsupportedFormatError
from .formats import Format
from .metadata import XMP_TAG, descriptive_exif

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Pillow's format names that are not ours: MPO is how Pillow names the JPEGs of phones that embed a second
# picture. Formats of ours that Pillow does not decode (raw) are never named by it.
_PILLOW_ALIASES = {"MPO": Format.JPEG}
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
_PILLOW_TARGET_MODE = {
    "1": "L",
    "L": "L",
    "LA": "LA",
    "La": "LA",
    "PA": "RGBA",
    "RGB": "RGB",
    "RGBX": "RGB",
    "YCbCr": "RGB",
    "RGBA": "RGBA",
    "RGBa": "RGBA",
}
_DECODE_ROWS = 256  # rows per strip in _converted_samples: 4.6 MB of a 6000 px wide RGB photo
_TIFF_COMPRESSION_NAMES = {
    "raw": "none",
    "tiff_lzw": "lzw",
    "tiff_adobe_deflate": "deflate",
    "tiff_deflate": "deflate",
    "packbits": "packbits",
}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, tifffile.TiffFileError)
# Image.MAX_IMAGE_PIXELS is global; the lock keeps one caller's limit from leaking into another's open().
_PILLOW_LIMIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # H x W x C, C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA); uint8 or uint16
    format: Format
    icc: bytes | None
    exif: Image.Exif  # as stored, orientation included
    xmp: bytes | None
    compression: str | None  # TIFF only: "none", "lzw", "deflate", "packbits" or Pillow's name for others
    jpeg_quantisation: JpegQuantisation | None = None  # JPEG (not CMYK) only: for smoothing its blocks
    pages: int = 1  # TIFF pages or GIF frames; ``samples`` are the first one's


def format_of(image: Image.Image) -> Format | None:
    """Our name of the format Pillow opened ``image`` as; None for one this program does not read."""
    name = image.format or ""
    if name in _PILLOW_ALIASES:
        return _PILLOW_ALIASES[name]
    try:
        found = Format(name)
    except ValueError:
        return None
    return None if found is Format.RAW else found


@contextmanager
def open_pillow(path: Path, *, max_pixels: int) -> Iterator[Image.Image]:
    """Open ``path`` with Pillow (header only); refuse it above ``max_pixels`` before anything is decoded."""
    with _PILLOW_LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        # Pillow's own guard is off while the header is read: it warns (a raw Python warning on the terminal)
        # above its limit and refuses above twice it, quoting that doubled number. The check below refuses
        # at ``max_pixels`` exactly, still before any pixel is decoded.
        Image.MAX_IMAGE_PIXELS = None
        try:
            image = Image.open(path)
        except UnidentifiedImageError as err:
            raise ImageReadError(
                f"{path.name} is not an image this program can read: its contents are not JPEG, PNG, TIFF, "
                "WebP, BMP, GIF or HEIF data, even though its name says so. It may be damaged or renamed."
            ) from err
        except _DECODE_ERRORS as err:
            raise ImageReadError(f"{path.name} could not be opened: {err}") from err
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    with image:
        if format_of(image) is None:
            raise UnsupportedFormatError(
                f"{path.name} is a {image.format} image; only JPEG, PNG, TIFF, WebP, BMP, GIF, HEIF and "
                "camera raw files are supported."
            )
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"{path.name}: {width} x {height} pixels is above the limit of {max_pixels:,} pixels."
            )
        yield image


@contextmanager
def decoding(path: Path) -> Iterator[None]:
    """Turn the decoders' own exceptions into an ImageReadError that names the file."""
    try:
        yield
    except _DECODE_ERRORS as err:
        raise ImageReadError(
            f"{path.name}: the image data could not be decoded ({err}). The file is probably truncated or "
            "damaged; export or copy it again."
        ) from err


def decode(path: Path, *, max_pixels: int) -> Decoded:
    """Samples (stored orientation) and metadata of a JPEG, PNG, TIFF, WebP or HEIF file."""
    # Metadata reads are inside decoding(): a PNG's eXIf chunk may follow the pixels, so getexif() decodes.
    with open_pillow(path, max_pixels=max_pixels) as image, decoding(path):
        kind = format_of(image)
        assert kind is not None  # open_pillow refused the others
        icc = image.info.get("icc_profile") or None
        xmp = image.info.get("xmp")
        exif = image.getexif()
        tiff_tags = image.tag_v2 if isinstance(image, TiffImagePlugin.TiffImageFile) else None
        if tiff_tags is not None:
            exif = descriptive_exif(exif)
            xmp = xmp or tiff_tags.get(XMP_TAG)
        if tiff_tags is not None and max(_as_ints(tiff_tags.get(258, 8))) > 8:
            samples = _tiff16_samples(path)
        elif kind == "PNG" and _png_bit_depth(path) == 16:
            samples = _as_hwc(imagecodecs.png_decode(path.read_bytes()))
        elif kind == "HEIF" and image.info.get("bit_depth", 8) > 8:
            samples = _as_hwc(np.asarray(pillow_heif.open_heif(path, convert_hdr_to_8bit=False)))
        else:
            samples, icc = _pillow_samples(path, image, icc)
        stored = image.info.get("compression")
        compression = None if stored is None else _TIFF_COMPRESSION_NAMES.get(stored, stored)
        quantisation = _jpeg_quantisation(image) if kind == "JPEG" and image.mode in ("L", "RGB") else None
        pages = getattr(image, "n_frames", 1) if kind in ("TIFF", "GIF") else 1
    return Decoded(
        pages=pages,
        samples=samples,
        format=kind,
        icc=icc,
        exif=exif,
        xmp=xmp.encode() if isinstance(xmp, str) else xmp,
        compression=compression if kind == "TIFF" else None,
        jpeg_quantisation=quantisation,
    )


# JpegImagePlugin.get_sampling: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0 (chroma block size in pixels, rows x columns).
_CHROMA_BLOCKS = {0: (8, 8), 1: (8, 16), 2: (16, 16)}


def _jpeg_quantisation(image: Image.Image) -> JpegQuantisation | None:
    """The DC steps and chroma layout; None where the header is unusual (then nothing is smoothed)."""
    tables = getattr(image, "quantization", None) or {}
    if 0 not in tables:
        return None
    if image.mode == "L":
        return JpegQuantisation(luma_dc=int(tables[0][0]), chroma_dc=None, chroma_block=(8, 8))
    if image.info.get("adobe_transform") == 0:
        return None  # an Adobe JPEG that stores RGB itself, not YCbCr: its tables are not luma and chroma
    sampling = JpegImagePlugin.get_sampling(image)
    if 1 not in tables or sampling not in _CHROMA_BLOCKS:
        return None
    return JpegQuantisation(luma_dc=int(tables[0][0]), chroma_dc=int(tables[1][0]),
                            chroma_block=_CHROMA_BLOCKS[sampling])


def _pillow_samples(path: Path, image: Image.Image, icc: bytes | None) -> tuple[np.ndarray, bytes | None]:
    """8-bit samples through Pillow; returns the ICC profile that describes them (CMYK becomes sRGB)."""
    if image.mode == "CMYK":
        return _cmyk_to_rgb(path, image, icc)
    if image.mode == "P":
        target = "RGBA" if "transparency" in image.info else "RGB"
    elif image.mode in _PILLOW_TARGET_MODE:
        target = _PILLOW_TARGET_MODE[image.mode]
    else:
        raise UnsupportedFormatError(f"{path.name}: images in Pillow mode {image.mode} are not supported.")
    return _as_hwc(_converted_samples(image, target)), icc


def _converted_samples(image: Image.Image, mode: str) -> np.ndarray:
    """``np.asarray(image.convert(mode))``, made :data:`_DECODE_ROWS` rows at a time into one array.

    Pillow hands numpy an image through one ``bytes`` object of its full size, after a converted full-size
    copy: two transient copies of the photo beside the array (about 0.5 GB at 96 MP). Strips bound them to
    a few MB, and the conversion took 135 instead of 270 ms for a 24 MP JPEG (decode included).
    """
    width, height = image.size
    out: np.ndarray | None = None
    for top in range(0, height, _DECODE_ROWS):
        bottom = min(height, top + _DECODE_ROWS)
        strip = np.asarray(image.crop((0, top, width, bottom)).convert(mode))
        if out is None:
            out = np.empty((height, *strip.shape[1:]), strip.dtype)
        out[top:bottom] = strip
    assert out is not None  # Pillow opens no image without rows
    return out


def _cmyk_to_rgb(path: Path, image: Image.Image, icc: bytes | None) -> tuple[np.ndarray, bytes | None]:
    if icc is not None:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except ImageCms.PyCMSError as err:
            log.warning("%s: CMYK profile unusable (%s); converting CMYK to RGB without it", path.name, err)
        else:
            log.info("%s: CMYK converted to sRGB through its embedded profile", path.name)
            return np.asarray(rgb), SRGB_ICC
    log.warning(
        "%s: CMYK without a usable profile converted naively to RGB; colours are approximate", path.name
    )
    return np.asarray(image.convert("RGB")), None


def _tiff16_samples(path: Path) -> np.ndarray:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        photometric = tifffile.PHOTOMETRIC(page.photometric)
        if page.dtype != np.uint16 or photometric not in (
            tifffile.PHOTOMETRIC.RGB,
            tifffile.PHOTOMETRIC.MINISBLACK,
        ):
            raise UnsupportedFormatError(
                f"{path.name}: {photometric.name} TIFF with {page.bitspersample}-bit {page.dtype} samples is "
                "not "
                "supported; export it as an 8- or 16-bit integer RGB or greyscale TIFF."
            )
        samples = page.asarray()
        if page.axes.startswith("S"):  # planar configuration: one plane per channel
            samples = np.moveaxis(samples, 0, -1)
    samples = _as_hwc(samples)
    return samples[..., :4] if photometric == tifffile.PHOTOMETRIC.RGB else samples[..., :2]


def _png_bit_depth(path: Path) -> int:
    """The IHDR bit depth: byte 24 of every PNG (8-byte signature, chunk length, 'IHDR', width, height)."""
    with path.open("rb") as fh:
        fh.seek(24)
        return fh.read(1)[0]


def _as_hwc(samples: np.ndarray) -> np.ndarray:
    return samples[..., None] if samples.ndim == 2 else samples


def _as_ints(value: int | tuple[int, ...]) -> tuple[int, ...]:
    """A TIFF tag's value (an int, or a tuple of them, one per sample) as a tuple."""
    return value if isinstance(value, tuple) else (value,)
