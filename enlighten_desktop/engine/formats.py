"""The image formats this program reads and writes, in one table: names, file suffixes, what each can hold.

Every other module asks ``Format`` rather than keeping its own table, so a suffix or a bit depth is never
known to one path (the CLI, the queue, an in-place save) and not to another.
"""

from __future__ import annotations

from enlighten_desktop.engine.textenum import TextEnum


class Format(TextEnum):
    """A format by the name this program shows and stores ("JPEG", "PNG"...). A ``str`` so that JSON, log
    lines and earlier comparisons with plain names keep working."""

    JPEG = "JPEG"
    PNG = "PNG"
    TIFF = "TIFF"
    WEBP = "WEBP"
    HEIF = "HEIF"
    RAW = "RAW"
    BMP = "BMP"
    GIF = "GIF"

    @property
    def writable(self) -> bool:
        """Whether results can be written in this format (HEIF, raw, BMP and GIF are read only)."""
        return self in _OUTPUT_SUFFIX

    @property
    def suffix(self) -> str:
        """The suffix a new file of this format gets; ValueError for a format that is never written."""
        try:
            return _OUTPUT_SUFFIX[self]
        except KeyError:
            raise ValueError(f"{self.value} files are not written") from None

    @property
    def holds_16_bits(self) -> bool:
        return self in (Format.PNG, Format.TIFF)

    @property
    def max_side(self) -> int | None:
        """The most pixels per side the format can store (None: more than any photo has)."""
        return {Format.JPEG: 65500, Format.WEBP: 16383}.get(self)

    @property
    def fallback_output(self) -> Format:
        """What a result of a source in this format is written as when no format is asked for: the same,
        or for read-only formats TIFF (HEIF, raw: lossless and 16-bit) or PNG (BMP, GIF: 8-bit, often
        palette)."""
        if self.writable:
            return self
        return Format.PNG if self in (Format.BMP, Format.GIF) else Format.TIFF

    @classmethod
    def parse(cls, name: str) -> Format:
        """The format called ``name`` in any case ("jpeg", "JPG", "WebP"); ValueError otherwise."""
        upper = name.upper()
        try:
            return cls("JPEG" if upper == "JPG" else upper)
        except ValueError:
            raise ValueError(f"unknown image format {name!r}") from None

    @classmethod
    def of_suffix(cls, suffix: str) -> Format | None:
        """The format a file with ``suffix`` (".JPG", ".nef"...) holds by its name; None when unsupported."""
        return _SUFFIXES.get(suffix.lower())


_OUTPUT_SUFFIX = {Format.JPEG: ".jpg", Format.PNG: ".png", Format.TIFF: ".tif", Format.WEBP: ".webp"}
RAW_SUFFIXES = frozenset(
    {".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw"}
)
_SUFFIXES = {
    ".jpg": Format.JPEG, ".jpeg": Format.JPEG, ".jpe": Format.JPEG, ".png": Format.PNG, ".tif": Format.TIFF,
    ".tiff": Format.TIFF, ".webp": Format.WEBP, ".heic": Format.HEIF, ".heif": Format.HEIF,
    ".hif": Format.HEIF, ".bmp": Format.BMP, ".gif": Format.GIF,
    **{suffix: Format.RAW for suffix in RAW_SUFFIXES},
}
# Lower-case, with the dot: every name read_image accepts.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_SUFFIXES)
WRITABLE_FORMATS = tuple(_OUTPUT_SUFFIX)
