"""EXIF and XMP handling shared by the decoders and encoders of ``imageio``.

EXIF travels through the engine as bytes in the form of a JPEG APP1 payload: ``b"Exif\\0\\0"`` followed by a
TIFF header and its IFDs (what Pillow's ``Exif.tobytes()`` makes and its encoders accept). Pillow
re-serialises IFD0 with the Exif, GPS and Interoperability sub-IFDs; the IFD1 thumbnail is dropped on purpose:
it would show the image before enhancement and in its old orientation.
"""

from __future__ import annotations

import logging
import re
import struct
from typing import BinaryIO

from PIL import Image, TiffImagePlugin

log = logging.getLogger(__name__)

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
INTEROP_IFD = 0xA005
XMP_TAG = 700

# IFD0 tags that describe the photo rather than the layout of a TIFF's pixel data. A TIFF's or raw file's
# IFD0 also holds strip offsets, bit depths, DNG colour matrices...: those must not be copied to an output.
ASCII_IFD0_TAGS = {
    270: "ImageDescription",
    271: "Make",
    272: "Model",
    305: "Software",
    306: "DateTime",
    315: "Artist",
    316: "HostComputer",
    33432: "Copyright",
}
_RESOLUTION_TAGS = (282, 283, 296)  # XResolution, YResolution, ResolutionUnit: the print size (DPI)

_XMP_ORIENTATION = (
    re.compile(rb"(tiff:Orientation\s*=\s*[\"'])[1-8]([\"'])"),
    re.compile(rb"(<tiff:Orientation>\s*)[1-8](\s*</tiff:Orientation>)"),
)


def orientation_of(exif: Image.Exif) -> int:
    """The EXIF orientation (1-8) of ``exif``; 1 when absent or invalid (invalid values are logged)."""
    value = exif.get(ORIENTATION, 1)
    if value not in range(1, 9):
        log.warning("Ignoring invalid EXIF orientation %r", value)
        return 1
    return int(value)


def descriptive_exif(source: Image.Exif) -> Image.Exif:
    """A copy of ``source`` with only the descriptive IFD0 tags and the Exif/GPS sub-IFDs.

    Used for TIFF and TIFF-based raw files, whose IFD0 is the image's own structure.
    """
    kept = Image.Exif()
    for tag in (*ASCII_IFD0_TAGS, ORIENTATION, *_RESOLUTION_TAGS):
        if tag in source:
            kept[tag] = source[tag]
    for pointer in (EXIF_IFD, GPS_IFD):
        sub_ifd = dict(source.get_ifd(pointer))
        if pointer == EXIF_IFD and INTEROP_IFD in sub_ifd:
            # Only a dict is re-serialised as a nested IFD; the stored number is an offset into the source.
            sub_ifd[INTEROP_IFD] = source.get_ifd(INTEROP_IFD)
        if sub_ifd:
            kept[pointer] = sub_ifd
    # Re-parse: Pillow reads nested IFDs back only from serialised bytes, not from dicts set on an Exif.
    return load_exif(kept.tobytes()) if len(kept) else Image.Exif()


def upright_exif_bytes(exif: Image.Exif) -> bytes | None:
    """``exif`` serialised with its orientation set to 1 (pixels are upright); None when it holds no tag."""
    if not len(exif) and not any(exif.get_ifd(p) for p in (EXIF_IFD, GPS_IFD)):
        return None
    if ORIENTATION in exif:
        exif[ORIENTATION] = 1
    return exif.tobytes()


def load_exif(data: bytes | None) -> Image.Exif:
    """Parse EXIF bytes as stored in ``ImageMetadata.exif`` (an empty Exif for None)."""
    exif = Image.Exif()
    if data:
        exif.load(data)
    return exif


def upright_xmp(xmp: bytes | None) -> bytes | None:
    """``xmp`` with any ``tiff:Orientation`` set to 1, so viewers that read XMP do not rotate twice."""
    if xmp is None:
        return None
    for pattern in _XMP_ORIENTATION:
        xmp = pattern.sub(rb"\g<1>1\g<2>", xmp)
    return xmp


def without_maker_note(exif_bytes: bytes) -> bytes:
    """The EXIF without its MakerNote, the usual reason a block overflows a 64 KB JPEG segment."""
    exif = load_exif(exif_bytes)
    sub_ifd = dict(exif.get_ifd(EXIF_IFD))
    sub_ifd.pop(0x927C, None)
    exif[EXIF_IFD] = sub_ifd
    return exif.tobytes()


def tiff_ifd0_tags(exif: Image.Exif) -> list[tuple[int, str, int, object, bool]]:
    """tifffile ``extratags`` for the ASCII descriptive IFD0 tags plus Orientation = 1.

    ImageDescription, Software and DateTime are not included: tifffile writes those from its own arguments.
    """
    tags: list[tuple[int, str, int, object, bool]] = [(ORIENTATION, "H", 1, 1, True)]
    for tag in ASCII_IFD0_TAGS.keys() - {270, 305, 306}:
        value = exif.get(tag)
        if isinstance(value, str) and value.isascii():
            tags.append((tag, "s", 0, value, True))
    return tags


def tiff_resolution(exif: Image.Exif) -> tuple[tuple[float, float], int] | None:
    """(x, y) resolution and TIFF ResolutionUnit from ``exif``, or None when absent."""
    if not all(tag in exif for tag in _RESOLUTION_TAGS[:2]):
        return None
    return (float(exif[282]), float(exif[283])), int(exif.get(296, 2))


def placeholder_tag(pointer: int) -> int:
    """The tag written in place of ``pointer`` (tifffile refuses to write ExifIFD and GPSInfo tags).

    One less than the real tag: no tag can sort between them, so the IFD stays sorted once it is patched.
    """
    return pointer - 1


def append_exif_sub_ifds(fh: BinaryIO, exif: Image.Exif, entry_positions: dict[int, int]) -> None:
    """Append the Exif/GPS sub-IFDs of ``exif`` to a little-endian classic TIFF and link them from IFD0.

    The TIFF was written with ``placeholder_tag`` LONG entries starting at ``entry_positions[pointer]``
    (absolute file offsets). Pillow serialises the sub-IFDs (with the types of known EXIF tags) at the end of
    the file, then each placeholder entry is rewritten as the real pointer tag holding the sub-IFD's offset.
    """
    fh.seek(0, 2)
    start = fh.tell() + (fh.tell() % 2)  # TIFF offsets are word aligned
    holder = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    for pointer in entry_positions:
        holder[pointer] = dict(exif.get_ifd(pointer))
        if pointer == EXIF_IFD and INTEROP_IFD in holder[pointer]:
            holder[pointer][INTEROP_IFD] = exif.get_ifd(INTEROP_IFD)
    block = holder.tobytes(start)
    fh.seek(start)
    fh.write(block)
    # The holder's own entries (12 bytes each after a 2-byte count) carry the sub-IFDs' absolute offsets.
    (count,) = struct.unpack_from("<H", block, 0)
    for index in range(count):
        pointer, _type, _count, offset = struct.unpack_from("<HHLL", block, 2 + 12 * index)
        fh.seek(entry_positions[pointer])
        fh.write(struct.pack("<HHLL", pointer, 4, 1, offset))
