"""Camera raw files developed through LibRaw (rawpy).

Development (``develop_raw``) is LibRaw's own pipeline with these settings, nothing else:

* black level subtraction and scaling to the white level, as LibRaw reads them from the file;
* the camera's as-shot white balance (``use_camera_wb``);
* AHD demosaicing, highlights clipped (LibRaw's default ``highlight_mode``);
* the camera matrix to linear sRGB primaries (``output_color=sRGB``);
* the linear values encoded with the sRGB transfer curve (``gamma=(2.4, 12.92)``: power 2.4 with a linear toe
  of slope 12.92), not LibRaw's default BT.709 curve (2.222, 4.5);
* no automatic brightening (``no_auto_bright``): a dark night shot stays as dark as it was exposed, which is
  what the enhancement model expects as input;
* 16 bits per sample (``output_bps=16``);
* the camera's orientation applied by LibRaw itself (so callers must not rotate again).

Metadata: EXIF (descriptive IFD0 tags, the Exif and GPS sub-IFDs) and XMP come from the raw's own TIFF
structure for TIFF-based raws (DNG, CR2, NEF, NRW, ARW, PEF, SRW); for the others (CR3, RAF, ORF, RW2) the
EXIF of the embedded JPEG preview is used when it has one. Orientation in that EXIF is reset to 1 by the
caller.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rawpy
from PIL import Image

from .errors import ImageReadError, ImageTooLargeError, UnsupportedFormatError
from .metadata import XMP_TAG, descriptive_exif

log = logging.getLogger(__name__)

_TIFF_HEADERS = (b"II*\x00", b"MM\x00*")
# LibRaw's ``flip`` codes for the orientations it applies while developing.
_FLIP_TO_ROT90 = {0: 0, 3: 2, 5: 1, 6: -1}


@dataclass(frozen=True)
class DevelopedRaw:
    rgb: np.ndarray  # H x W x 3 uint16, upright, sRGB-encoded
    exif: Image.Exif  # descriptive tags only; may be empty
    xmp: bytes | None


@contextmanager
def _open_raw(path: Path, max_pixels: int) -> Iterator[rawpy.RawPy]:
    """Open ``path`` with LibRaw (header only), refuse it above ``max_pixels``, map LibRaw's errors."""
    try:
        raw = rawpy.imread(str(path))
    except rawpy.LibRawFileUnsupportedError as err:
        raise UnsupportedFormatError(
            f"{path.name}: LibRaw {'.'.join(map(str, rawpy.libraw_version))} does not recognise this raw "
            "file (camera too new, or not a raw file). Convert it to DNG or TIFF in your raw converter."
        ) from err
    except (rawpy.LibRawError, OSError) as err:
        raise ImageReadError(
            f"{path.name}: the raw file could not be read ({err}). It may be damaged."
        ) from err
    with raw:
        sizes = raw.sizes
        if sizes.raw_width * sizes.raw_height > max_pixels:
            raise ImageTooLargeError(
                f"{path.name}: {sizes.raw_width} x {sizes.raw_height} pixels is above the limit of "
                f"{max_pixels:,} pixels."
            )
        try:
            yield raw
        except rawpy.LibRawError as err:
            raise ImageReadError(
                f"{path.name}: the raw data could not be decoded ({err}). The file may be truncated or "
                "damaged."
            ) from err


def develop_raw(path: Path, *, max_pixels: int) -> DevelopedRaw:
    """Develop ``path`` as described in the module docstring; rgb is H x W x 3 uint16 in [0, 65535]."""
    with _open_raw(path, max_pixels) as raw:
        rgb = raw.postprocess(
            use_camera_wb=True,
            output_color=rawpy.ColorSpace.sRGB,
            output_bps=16,
            gamma=(2.4, 12.92),
            no_auto_bright=True,
            demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD,
        )
        exif, xmp = _raw_metadata(path, raw)
    return DevelopedRaw(rgb=rgb, exif=exif, xmp=xmp)


def raw_preview(path: Path, *, max_side: int, max_pixels: int) -> np.ndarray:
    """An upright H x W x 3 uint8 preview: the embedded one when big enough, else a half-size develop."""
    with _open_raw(path, max_pixels) as raw:
        wanted = min(max_side, max(raw.sizes.width, raw.sizes.height))
        thumb = _embedded_preview(raw, max_side=max_side)
        if thumb is not None and max(thumb.shape[:2]) * 2 >= wanted:
            return np.ascontiguousarray(np.rot90(thumb, _FLIP_TO_ROT90.get(raw.sizes.flip, 0)))
        developed = raw.postprocess(
            use_camera_wb=True, half_size=True, no_auto_bright=True, gamma=(2.4, 12.92), output_bps=8
        )
    image = Image.fromarray(developed)
    image.thumbnail((max_side, max_side))
    return np.asarray(image)


def _embedded_preview(raw: rawpy.RawPy, *, max_side: int) -> np.ndarray | None:
    """The embedded preview as stored (not rotated), H x W x 3 uint8, or None when there is none usable."""
    thumb = _extract_thumb(raw)
    if thumb is None:
        return None
    if thumb.format == rawpy.ThumbFormat.BITMAP:
        return np.asarray(thumb.data)[..., :3]
    with Image.open(io.BytesIO(bytes(thumb.data))) as image:
        image.draft("RGB", (max_side, max_side))
        image = image.convert("RGB")
        image.thumbnail((max_side, max_side))
        return np.asarray(image)


def _extract_thumb(raw: rawpy.RawPy) -> rawpy.Thumbnail | None:
    try:
        return raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError) as err:
        log.debug("No usable embedded preview: %s", err)
        return None


def _raw_metadata(path: Path, raw: rawpy.RawPy) -> tuple[Image.Exif, bytes | None]:
    """EXIF and XMP from the raw's TIFF structure, or the EXIF of its embedded JPEG preview."""
    with path.open("rb") as fh:
        if fh.read(4) in _TIFF_HEADERS:
            fh.seek(0)
            exif = Image.Exif()
            exif.load_from_fp(fh)
            xmp = exif.get(XMP_TAG)
            return descriptive_exif(exif), bytes(xmp) if isinstance(xmp, (bytes, tuple)) else None
    thumb = _extract_thumb(raw)
    if thumb is None or thumb.format != rawpy.ThumbFormat.JPEG:
        log.info("%s: no EXIF found in this raw format", path.name)
        return Image.Exif(), None
    with Image.open(io.BytesIO(bytes(thumb.data))) as preview:
        return descriptive_exif(preview.getexif()), None
