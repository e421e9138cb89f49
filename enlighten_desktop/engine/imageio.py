"""Read photos into float RGB and write results back, keeping colour, bit depth and metadata.

Formats read: JPEG, PNG (8/16-bit), TIFF (8/16-bit; none, LZW, deflate, packbits...; the first page of a
multi-page file, which ``ImageMetadata.pages`` reports), WebP, BMP, GIF (the first frame), HEIF/HEIC (8-bit,
and 10/12-bit as 16-bit), camera raw (``rawdecode``: DNG, CR2, CR3, NEF, NRW, ARW, RAF, ORF, RW2, PEF, SRW).
Formats written: JPEG and WebP (8-bit), PNG and TIFF (8 or 16-bit).

Colour: the engine works in the image's own colour space. ``read_image`` returns the encoded (gamma) values as
stored, and ``write_image`` embeds the source's ICC profile unchanged: no conversion, no gamut clipping, since
the model was trained on gamma-encoded photos and is applied to encoded values. Images without a profile are
treated as sRGB and written without one (none is invented). Raw files are developed to sRGB and get an sRGB
profile. CMYK is the one conversion: to sRGB through its own profile (then tagged sRGB), or naively if it
has none.

JPEG block steps: ``read_image`` smooths the 8x8 block means of JPEGs within their quantisation step
(``deblock``), so lifted shadows do not show the compression blocks; pixels move by at most that step.

Pixels: uint8 / 255 and uint16 / 65535 to float32 (exact: a 16-bit value survives read -> write unchanged);
written back as round(value * 255) or round(value * 65535). Grey (L, LA, 16-bit grey) is replicated to RGB for
the model and written back as RGB. Palette becomes RGB, or RGBA when it has transparency. Alpha is returned
apart and written unchanged to PNG, TIFF and WebP (unassociated); JPEG drops it with a logged note.

Orientation: EXIF orientation (1-8) is applied to non-raw pixels, which come back upright; the EXIF (and any
XMP ``tiff:Orientation``) is reset to 1 so viewers do not rotate twice. HEIF and raw files are rotated by
libheif and LibRaw themselves.

Metadata kept on output (``ImageMetadata`` is the carrier):
* JPEG: ICC (split over APP2 segments), EXIF in APP1 (the MakerNote, then all EXIF, dropped with a warning if
  over the 64 KB segment limit), XMP in APP1 (dropped with a warning above 64 KB: no extended XMP).
* PNG: iCCP, eXIf, iTXt ``XML:com.adobe.xmp``.
* WebP: ICCP, EXIF and XMP chunks.
* TIFF: ICC (tag 34675), XMP (tag 700), EXIF as IFD0 ImageDescription, Make, Model, Software, DateTime,
  Artist, HostComputer, Copyright, X/YResolution, ResolutionUnit, Orientation = 1, plus the complete Exif
  sub-IFD (DateTimeOriginal, exposure, lens, MakerNote...) with its Interoperability IFD, and the GPS sub-IFD.
EXIF IFD0 tags of non-TIFF sources are all kept in JPEG/PNG/WebP; from TIFF or raw sources only the
descriptive ones listed above are kept (the rest describes the source file's layout). EXIF thumbnails (IFD1)
are never written. Raw EXIF: see ``rawdecode``.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import deblock, decoders, rawdecode
from .decoders import SRGB_ICC
from .encoders import ENCODERS, TIFF_COMPRESSIONS
from .errors import EnlightenError, ImageReadError, ImageWriteError, UnsupportedFormatError
from .formats import RAW_SUFFIXES, SUPPORTED_SUFFIXES, Format
from .metadata import orientation_of, upright_exif_bytes, upright_xmp
from .safewrite import write_file

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 250_000_000
# Sample values per strip when converting floats to integer samples: float32 strips of 1 MB.
_STRIP_VALUES = 1 << 18
# JPEG and WebP: high enough that one re-encoding is not visible, photo software's usual "maximum" export.
DEFAULT_QUALITY = 95
# numpy equivalents of EXIF orientations 2-8, turning stored pixels upright (TIFF 6.0 / EXIF 2.3 table).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


@dataclass(frozen=True)
class ImageMetadata:
    """What the source file says about itself, ready to embed in an output."""

    format: Format  # from the contents, not the name
    bits: int  # 8 or 16: the precision of the source samples
    icc_profile: bytes | None
    exif: bytes | None  # b"Exif\0\0" + TIFF structure; orientation reset to 1 (pixels are already upright)
    xmp: bytes | None  # XMP packet; tiff:Orientation reset to 1
    compression: str | None  # TIFF sources: "none", "lzw", "deflate", "packbits" or another name
    pages: int = 1  # pages (TIFF) or frames (GIF) in the source; only the first is read and written


@dataclass(frozen=True)
class LoadedImage:
    path: Path
    rgb: np.ndarray  # H x W x 3 float32 [0, 1], upright, in the source's colour space
    alpha: np.ndarray | None  # H x W float32 [0, 1], carried through untouched
    metadata: ImageMetadata


def read_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode ``path`` to upright float RGB (+ alpha) and the metadata to write back.

    Raises ImageReadError (missing, empty, truncated, not an image), UnsupportedFormatError, or
    ImageTooLargeError when the declared size exceeds ``max_pixels`` (checked before any pixel is decoded).
    """
    path = _checked_input(Path(path))
    if path.suffix.lower() in RAW_SUFFIXES:
        raw = rawdecode.develop_raw(path, max_pixels=max_pixels)
        metadata = ImageMetadata(
            format=Format.RAW,
            bits=16,
            icc_profile=SRGB_ICC,
            exif=upright_exif_bytes(raw.exif),
            xmp=upright_xmp(raw.xmp),
            compression=None,
        )
        return LoadedImage(path=path, rgb=_to_float(raw.rgb), alpha=None, metadata=metadata)
    decoded = decoders.decode(path, max_pixels=max_pixels)
    if decoded.jpeg_quantisation is not None:
        # Before orientation: the block grid starts at the stored image's top-left pixel.
        values = deblock.smooth_blocks(decoded.samples, decoded.jpeg_quantisation)
    else:
        values = _to_float(decoded.samples)
    orientation = orientation_of(decoded.exif)
    if orientation != 1:
        values = _UPRIGHT[orientation](values)
    rgb = values[..., :3] if values.shape[2] >= 3 else np.repeat(values[..., :1], 3, axis=2)
    alpha = values[..., -1] if values.shape[2] in (2, 4) else None
    metadata = ImageMetadata(
        format=decoded.format,
        bits=8 * decoded.samples.dtype.itemsize,
        icc_profile=decoded.icc,
        exif=upright_exif_bytes(decoded.exif),
        xmp=upright_xmp(decoded.xmp),
        compression=decoded.compression,
        pages=decoded.pages,
    )
    if decoded.pages > 1:
        log.warning("%s has %d pages; only the first is read", path.name, decoded.pages)
    return LoadedImage(path=path, rgb=np.ascontiguousarray(rgb), alpha=_contiguous(alpha), metadata=metadata)


def read_preview(
    path: str | os.PathLike[str], *, max_side: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """A fast, upright H x W x 3 float32 [0, 1] preview whose longer side is at most ``max_side``.

    JPEGs are decoded at reduced scale (draft mode), raw files use their embedded preview when it is big
    enough. Precision is 8 bits; alpha is dropped. Same errors as ``read_image``.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    path = _checked_input(Path(path))
    if path.suffix.lower() in RAW_SUFFIXES:
        return _to_float(rawdecode.raw_preview(path, max_side=max_side, max_pixels=max_pixels))
    with decoders.open_pillow(path, max_pixels=max_pixels) as image, decoders.decoding(path):
        image.draft("RGB", (max_side, max_side))
        preview = image.convert("RGB")
        preview.thumbnail((max_side, max_side))  # a square bound: the same before and after turning
        samples = np.asarray(preview)
        orientation = orientation_of(image.getexif())
    if orientation != 1:
        samples = _UPRIGHT[orientation](samples)
    return _to_float(np.ascontiguousarray(samples))


@dataclass(frozen=True)
class ReducedJpeg:
    """A JPEG decoded at reduced scale: a quick stand-in while the photo is read at full resolution."""

    rgb: np.ndarray  # h x w x 3 float32 [0, 1], upright; 8-bit precision, blocks not smoothed (deblock)
    width: int  # the photo's upright size at full resolution
    height: int


def read_reduced_jpeg(
    path: str | os.PathLike[str], *, min_side: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> ReducedJpeg | None:
    """A JPEG decoded at 1/2, 1/4 or 1/8 scale, the smallest whose longer side is still at least ``min_side``
    (full scale when the photo is smaller): libjpeg scales in its inverse DCT, so this costs a fraction of a
    full decode. Oriented by the same EXIF rule as ``read_image``.

    None for every other format, CMYK JPEGs and raw files included: they have no such cheap reduced decode.
    Same errors as ``read_image``.
    """
    path = _checked_input(Path(path))
    if path.suffix.lower() in RAW_SUFFIXES:
        return None
    with decoders.open_pillow(path, max_pixels=max_pixels) as image, decoders.decoding(path):
        if decoders.format_of(image) is not Format.JPEG or image.mode not in ("L", "RGB"):
            return None
        width, height = image.size
        scale = min(1.0, min_side / max(width, height))
        # Pillow picks the largest of 1/8..1/1 that keeps the image at least this size in both directions.
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        samples = np.asarray(image.convert("RGB"))
        orientation = orientation_of(image.getexif())
    if orientation != 1:
        samples = _UPRIGHT[orientation](samples)
    if orientation >= 5:  # the orientations that swap the sides
        width, height = height, width
    return ReducedJpeg(rgb=np.ascontiguousarray(_to_float(samples)), width=width, height=height)


def write_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    *,
    metadata: ImageMetadata,
    alpha: np.ndarray | None = None,
    format: Format | str | None = None,
    bits: int | None = None,
    quality: int = DEFAULT_QUALITY,
    overwrite: bool = False,
) -> Path:
    """Encode ``rgb`` (H x W x 3 float, [0, 1], clipped) and ``alpha`` (H x W) to ``path`` atomically.

    ``format``: JPEG, PNG, TIFF or WebP (a ``Format`` or its name in any case), default from the suffix.
    ``bits``: 8 or 16 (16 for PNG and TIFF only); default the source's ``metadata.bits`` where the format can
    hold it, else 8. Encoded in memory and saved by ``safewrite.write_file``: checked writes, fsync, read back
    and opened as an image of this size, then renamed over ``path``; on any failure an existing ``path`` is
    untouched. Raises
    OutputExistsError (exists and not ``overwrite``), ImageWriteError (missing or read-only folder or file,
    disk full, encoder failure), and UnsupportedFormatError (unknown format, 16 bits asked of JPEG/WebP).
    Returns ``path``.
    """
    path = Path(path)
    fmt = _output_format(path, format)
    bits = _output_bits(fmt, bits, metadata.bits)
    samples = _to_samples(rgb, None if fmt is Format.JPEG else alpha, bits)
    if alpha is not None and fmt is Format.JPEG:
        log.info("%s: JPEG has no transparency; the alpha channel was not written", path.name)
    if fmt.max_side is not None and max(samples.shape[:2]) > fmt.max_side:
        raise ImageWriteError(
            f"Cannot save {path.name}: {fmt} holds at most {fmt.max_side} pixels per side; "
            "choose TIFF or PNG."
        )
    compression = metadata.compression if metadata.compression in TIFF_COMPRESSIONS else None
    encoded = io.BytesIO()
    try:
        ENCODERS[fmt](encoded, samples, icc=metadata.icc_profile, exif=metadata.exif, xmp=metadata.xmp,
                      quality=quality, compression=compression)
    except (OSError, ValueError) as err:
        raise ImageWriteError(f"Cannot save {path.name}: the {fmt} encoder failed ({err}).") from err
    height, width = samples.shape[:2]
    write_file(path, encoded.getbuffer(), overwrite=overwrite, verify=_reads_back_as(fmt, width, height))
    return path


def _checked_input(path: Path) -> Path:
    if not path.exists():
        raise ImageReadError(f"{path.name} was not found (looked in {path.parent}).")
    if path.is_dir():
        raise ImageReadError(f"{path} is a folder, not an image file.")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFormatError(
            f"{path.name}: '{path.suffix}' files are not supported. Supported: "
            f"{', '.join(sorted(SUPPORTED_SUFFIXES))}."
        )
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path.name} is empty (0 bytes): the copy or export probably failed.")
    return path


def _to_float(samples: np.ndarray) -> np.ndarray:
    scale = np.float32(np.iinfo(samples.dtype).max)
    # Divided in place: one float copy of the photo, not two.
    values: np.ndarray = samples.astype(np.float32)
    values /= scale
    return values


def _contiguous(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else np.ascontiguousarray(array)


def _output_format(path: Path, format: Format | str | None) -> Format:
    try:
        fmt = Format.parse(format) if format else Format.of_suffix(path.suffix)
    except ValueError:
        fmt = None
    if fmt is None or not fmt.writable:
        raise UnsupportedFormatError(
            f"Cannot save {path.name} as {format or repr(path.suffix)}: choose JPEG, PNG, TIFF or WebP."
        )
    return fmt


def _output_bits(fmt: Format, bits: int | None, source_bits: int) -> int:
    if bits is None:
        return source_bits if fmt.holds_16_bits else 8
    if bits not in (8, 16):
        raise UnsupportedFormatError(f"Bit depth must be 8 or 16, not {bits}.")
    if bits == 16 and not fmt.holds_16_bits:
        raise UnsupportedFormatError(f"{fmt} cannot hold 16 bits per channel; choose TIFF or PNG.")
    return bits


def _to_samples(rgb: np.ndarray, alpha: np.ndarray | None, bits: int) -> np.ndarray:
    """H x W x 3|4 uint8/uint16: values clipped to [0, 1], scaled and rounded to nearest."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be H x W x 3, got shape {rgb.shape}")
    if alpha is not None and alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha must be H x W = {rgb.shape[:2]}, got shape {alpha.shape}")
    dtype = np.uint16 if bits == 16 else np.uint8
    scale = np.float32(np.iinfo(dtype).max)
    height, width = rgb.shape[:2]
    samples = np.empty((height, width, 3 if alpha is None else 4), dtype)
    # Converted in strips of rows: the float work then needs a few MB, not several float copies of the photo.
    step = max(1, _STRIP_VALUES // max(width * samples.shape[2], 1))
    floats = np.empty((min(step, height), *samples.shape[1:]), np.float32)
    for top in range(0, height, step):
        strip = floats[: min(step, height - top)]
        np.copyto(strip[..., :3], rgb[top : top + step])
        if alpha is not None:
            np.copyto(strip[..., 3], alpha[top : top + step])
        if not np.isfinite(strip).all():
            raise ValueError("rgb/alpha contain NaN or infinite values")
        np.clip(strip, 0.0, 1.0, out=strip)
        strip *= scale
        np.rint(strip, out=strip)
        samples[top : top + step] = strip
    return samples


def _reads_back_as(fmt: Format, width: int, height: int) -> Callable[[Path], None]:
    """A ``write_file`` check: the written file opens as a ``fmt`` image of ``width`` x ``height``."""

    def verify(path: Path) -> None:
        try:
            with decoders.open_pillow(path, max_pixels=width * height) as image:
                kind, size = decoders.format_of(image), image.size
        except EnlightenError as err:
            raise ValueError(f"the file written does not read back as an image ({err})") from err
        if (kind, size) != (fmt, (width, height)):
            raise ValueError(f"the file written reads back as {kind} {size}, not {fmt} {(width, height)}")

    return verify
