"""Encoders for the output formats, each writing integer samples and metadata to an open binary file.

Every encoder takes ``samples``: H x W x C (C = 3 RGB or 4 RGBA, alpha unassociated), uint8 or uint16,
upright, and the metadata to embed: ICC profile bytes, EXIF bytes (``b"Exif\\0\\0"`` + TIFF structure, see
``metadata``), XMP packet bytes. What each format keeps is listed in ``imageio``'s module docstring.
"""

from __future__ import annotations

import logging
import struct
import zlib
from typing import BinaryIO, Protocol

import numpy as np
import tifffile
from PIL import Image

from .formats import Format
from .metadata import (
    EXIF_IFD,
    GPS_IFD,
    append_exif_sub_ifds,
    load_exif,
    placeholder_tag,
    tiff_ifd0_tags,
    tiff_resolution,
    without_maker_note,
)

log = logging.getLogger(__name__)

JPEG_SEGMENT_LIMIT = 65533 - len(b"http://ns.adobe.com/xap/1.0/\x00")
# tifffile's names for the TIFF compressions kept on re-save; anything else is re-saved as LZW.
TIFF_COMPRESSIONS = {"none": None, "lzw": "lzw", "deflate": "zlib", "packbits": "packbits"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPE = {3: 2, 4: 6}  # truecolour, truecolour with alpha
_PNG_ROWS_PER_BLOCK = 256


class Encoder(Protocol):
    def __call__(
        self,
        fh: BinaryIO,
        samples: np.ndarray,
        *,
        icc: bytes | None,
        exif: bytes | None,
        xmp: bytes | None,
        quality: int,
        compression: str | None,
    ) -> None: ...


def encode_jpeg(
    fh: BinaryIO, samples: np.ndarray, *, icc: bytes | None, exif: bytes | None, xmp: bytes | None,
    quality: int, compression: str | None,
) -> None:
    """Baseline JPEG, 4:2:0 below quality 90 and 4:4:4 from 90 up (night shots keep fine colour detail)."""
    if exif is not None and len(exif) > JPEG_SEGMENT_LIMIT:
        exif = without_maker_note(exif)
        log.warning("EXIF too large for a JPEG segment: the camera MakerNote was left out")
    if exif is not None and len(exif) > JPEG_SEGMENT_LIMIT:
        exif = None
        log.warning("EXIF still too large for a JPEG segment: it was left out")
    if xmp is not None and len(xmp) > JPEG_SEGMENT_LIMIT:
        xmp = None
        log.warning("XMP packet above 64 KB (extended XMP is not written): it was left out")
    image = Image.fromarray(samples[..., :3])
    image.save(
        fh,
        "JPEG",
        quality=quality,
        subsampling=0 if quality >= 90 else 2,
        optimize=True,
        **_pillow_metadata(icc, exif, xmp),
    )


def encode_webp(
    fh: BinaryIO, samples: np.ndarray, *, icc: bytes | None, exif: bytes | None, xmp: bytes | None,
    quality: int, compression: str | None,
) -> None:
    """Lossy WebP (``quality``), alpha kept exactly (``alpha_quality=100``)."""
    image = Image.fromarray(samples)
    image.save(fh, "WEBP", quality=quality, alpha_quality=100, method=4, **_pillow_metadata(icc, exif, xmp))


def _pillow_metadata(icc: bytes | None, exif: bytes | None, xmp: bytes | None) -> dict[str, bytes]:
    named = {"icc_profile": icc, "exif": exif, "xmp": xmp}
    return {key: value for key, value in named.items() if value is not None}


def encode_png(
    fh: BinaryIO, samples: np.ndarray, *, icc: bytes | None, exif: bytes | None, xmp: bytes | None,
    quality: int, compression: str | None,
) -> None:
    """PNG of 8 or 16 bits per sample (Pillow cannot write 16-bit RGB), with iCCP, eXIf and iTXt XMP chunks.

    Rows use the "Up" filter (each byte minus the byte above, modulo 256): cheap in numpy, good on the smooth
    gradients of photos. Compression streams in blocks of rows to bound memory.
    """
    height, width, channels = samples.shape
    depth = samples.dtype.itemsize * 8
    fh.write(_PNG_SIGNATURE)
    _png_chunk(
        fh, b"IHDR", struct.pack(">IIBBBBB", width, height, depth, _PNG_COLOUR_TYPE[channels], 0, 0, 0)
    )
    if icc is not None:
        _png_chunk(fh, b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif is not None:
        _png_chunk(fh, b"eXIf", exif.removeprefix(b"Exif\x00\x00"))
    if xmp is not None:
        _png_chunk(fh, b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)
    rows = samples.astype(samples.dtype.newbyteorder(">"), copy=False).reshape(height, -1).view(np.uint8)
    compressor = zlib.compressobj(6)
    previous = np.zeros(rows.shape[1], np.uint8)
    for start in range(0, height, _PNG_ROWS_PER_BLOCK):
        block = rows[start : start + _PNG_ROWS_PER_BLOCK]
        above = np.vstack([previous[None], block[:-1]])
        filtered = np.empty((len(block), rows.shape[1] + 1), np.uint8)
        filtered[:, 0] = 2  # filter type Up
        np.subtract(block, above, out=filtered[:, 1:])
        previous = block[-1]
        _png_chunk(fh, b"IDAT", compressor.compress(filtered.tobytes()))
    _png_chunk(fh, b"IDAT", compressor.flush())
    _png_chunk(fh, b"IEND", b"")


def _png_chunk(fh: BinaryIO, kind: bytes, data: bytes) -> None:
    if kind == b"IDAT" and not data:
        return
    fh.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))


def encode_tiff(
    fh: BinaryIO, samples: np.ndarray, *, icc: bytes | None, exif: bytes | None, xmp: bytes | None,
    quality: int, compression: str | None,
) -> None:
    """TIFF through tifffile (8 or 16 bits, RGB or RGBA with unassociated alpha), little-endian classic TIFF.

    ``compression`` is one of ``TIFF_COMPRESSIONS`` (None: LZW); LZW and deflate use the horizontal predictor.
    IFD0 gets ImageDescription, Make, Model, Software, DateTime, Artist, HostComputer, Copyright, resolution,
    Orientation = 1; the Exif and GPS sub-IFDs are appended and linked by ``append_exif_sub_ifds``.
    """
    if compression not in TIFF_COMPRESSIONS:
        if compression is not None:
            log.info("TIFF compression %r cannot be written; using LZW", compression)
        compression = "lzw"
    codec = TIFF_COMPRESSIONS[compression]
    parsed = load_exif(exif)
    extratags = tiff_ifd0_tags(parsed)
    if xmp is not None:
        extratags.append((700, "B", len(xmp), xmp, True))
    sub_ifds = [tag for tag in (EXIF_IFD, GPS_IFD) if parsed.get_ifd(tag)]
    extratags += [(placeholder_tag(tag), "I", 1, 0, True) for tag in sub_ifds]
    resolution = tiff_resolution(parsed)
    with tifffile.TiffWriter(fh, byteorder="<", bigtiff=False) as writer:
        writer.write(
            samples,
            photometric="rgb",
            extrasamples=("unassalpha",) if samples.shape[2] == 4 else None,
            compression=codec,
            predictor=codec in ("lzw", "zlib"),
            iccprofile=icc,
            description=_ascii(parsed.get(270)),
            software=_ascii(parsed.get(305)) or False,
            datetime=_ascii(parsed.get(306)),
            resolution=resolution[0] if resolution else None,
            resolutionunit=resolution[1] if resolution else None,
            metadata=None,
            extratags=extratags,
        )
    if sub_ifds:
        fh.seek(0)
        with tifffile.TiffFile(fh) as written:
            tags = written.pages.first.tags
            positions = {tag: tags[placeholder_tag(tag)].offset for tag in sub_ifds}
        append_exif_sub_ifds(fh, parsed, positions)


def _ascii(value: object) -> str | None:
    return value if isinstance(value, str) and value.isascii() else None


ENCODERS: dict[Format, Encoder] = {
    Format.JPEG: encode_jpeg,
    Format.PNG: encode_png,
    Format.TIFF: encode_tiff,
    Format.WEBP: encode_webp,
}
