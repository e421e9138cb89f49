"""Results written as new files: their names, the guard that never lets one replace an original, the write.

``NewFiles`` is the writer of ``item.process_item`` for the CLI, the app's queue and its "export current"
(the in-place save of the editor hand-off has ``inplace.InPlace``). Every result goes through
``imageio.write_image``, whose write is atomic and checked, and is recorded in its folder's ledger, which is
what ``overwrite`` may replace later.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from enlighten_desktop.engine.errors import ImageWriteError, OriginalProtectedError, OutputExistsError
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.imageio import DEFAULT_QUALITY, ImageMetadata, LoadedImage, write_image
from enlighten_desktop.engine.ledger import is_earlier_output, record_output
from enlighten_desktop.engine.safewrite import check_writable_folder

if TYPE_CHECKING:
    from enlighten_desktop.engine.item import FileStamp

# Named from the source's stem; "{stem}_enlightened" keeps a result beside its original and recognisable.
DEFAULT_TEMPLATE = "{stem}_enlightened"
_ATTENTION_METADATA = ImageMetadata(
    format=Format.PNG, bits=16, icc_profile=None, exif=None, xmp=None, compression=None
)


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results are written. ``format`` None: the source's (``Format.fallback_output`` for
    formats that are never written); ``bits``: 8, 16 or None (the source's); ``template`` names the output
    from the source's ``{stem}``; ``folder`` None writes beside each source."""

    folder: Path | None = None
    format: Format | None = None
    bits: int | None = None
    quality: int = DEFAULT_QUALITY
    template: str = DEFAULT_TEMPLATE
    overwrite: bool = False
    save_attention: bool = False


def check_template(template: str) -> str:
    """``template`` if it names outputs safely, else ValueError saying why: it must use ``{stem}`` (a fixed
    name makes every output collide), no other field, and no folder part (outputs stay in their folder)."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as err:
        raise ValueError(f"the name template {template!r} is malformed ({err})") from err
    if "stem" not in fields or fields.count("stem") != len(fields):
        others = sorted({f"{{{field}}}" for field in fields if field != "stem"})
        raise ValueError(f"the name template {template!r} must contain {{stem}} (the photo's name) and "
                         f"no other field{': ' + ', '.join(others) + ' is unknown' if others else ''}")
    if any(sep in template for sep in ("/", "\\")) or template.startswith("."):
        raise ValueError(
            f"the name template {template!r} must be a plain file name: no folders, no leading dot"
        )
    return template


def output_format(source: Path, options: OutputOptions) -> Format:
    """The format the result of ``source`` is written in."""
    if options.format is not None:
        return options.format
    # An unsupported suffix fails on reading; TIFF names the result meanwhile.
    return (Format.of_suffix(source.suffix) or Format.TIFF).fallback_output


def output_path(source: Path, root: Path, options: OutputOptions) -> Path:
    """Where ``source`` (found under ``root``) is written: the template's name with the format's suffix,
    beside the source, or under ``options.folder`` with the sub-folders below ``root`` mirrored. A source
    whose own format is kept keeps its own suffix (".jpeg" stays ".jpeg"). ValueError for a template that
    ``check_template`` refuses."""
    name = check_template(options.template).format(stem=source.stem)
    kept = Format.of_suffix(source.suffix)
    suffix = source.suffix if options.format is None and kept is not None and kept.writable else (
        output_format(source, options).suffix
    )
    folder = source.parent if options.folder is None else options.folder / source.parent.relative_to(root)
    return folder / (name + suffix)


def attention_path(output: Path) -> Path:
    return output.with_name(output.stem + "_attention.png")


@dataclass(frozen=True)
class NewFiles:
    """The writer of results as new files named by ``options``, mirrored below ``root`` (the folder the
    sources were found under; a source's own folder when not given).

    ``originals``: resolved paths no result may replace (the batch's or queue's inputs); the source itself
    never is either. An existing output is replaced only with ``options.overwrite`` and only when it is an
    earlier result of this program (``ledger``).
    """

    options: OutputOptions = OutputOptions()
    root: Path | None = None
    originals: Collection[Path] = field(default_factory=frozenset)

    def target(self, source: Path) -> Path:
        return output_path(source, source.parent if self.root is None else self.root, self.options)

    def prepare(self, source: Path) -> Path:
        """Before any work: the output path of ``source``, its folder made and able to take files, nothing
        there that must not be replaced. Raises OriginalProtectedError, OutputExistsError, ImageWriteError."""
        target = self.target(source)
        protected = {source.resolve(), *self.originals}
        for path in (target, attention_path(target)) if self.options.save_attention else (target,):
            if path.exists():
                self._check_replaceable(path, protected)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ImageWriteError(f"The folder {target.parent} could not be created: {exc}") from exc
        check_writable_folder(target.parent)
        return target

    def _check_replaceable(self, path: Path, protected: set[Path]) -> None:
        if path.resolve() in protected:
            raise OriginalProtectedError(
                f"{path} is an original photo of this batch; originals are never replaced (change the name "
                "template, the format or the output folder)."
            )
        if not self.options.overwrite:
            raise OutputExistsError(
                f"{path} already exists and was left alone (allow overwriting to replace it)."
            )
        if not is_earlier_output(path):
            raise OriginalProtectedError(
                f"{path} exists and was not written by Enlighten Desktop (or was changed since); overwriting "
                "replaces only earlier results. Change the name template or the output folder."
            )

    def accept(self, image: LoadedImage) -> None:
        """Every readable photo can be written as a new file."""

    @property
    def writes_attention(self) -> bool:
        return self.options.save_attention

    def write(
        self, image: LoadedImage, stamp: FileStamp, rgb: np.ndarray, attention: np.ndarray | None
    ) -> Path:
        """Write ``rgb`` (the blended result of ``image``, H x W x 3 float32 [0, 1]) with the source's
        metadata and alpha, and ``attention`` beside it when the options ask for it; both are recorded as
        results (``ledger``). Returns the result's path."""
        options = self.options
        written = write_image(
            self.target(image.path), rgb, metadata=image.metadata, alpha=image.alpha,
            format=output_format(image.path, options), bits=options.bits, quality=options.quality,
            overwrite=options.overwrite,
        )
        record_output(written)
        if options.save_attention and attention is not None:
            map_path = write_image(
                attention_path(written), np.repeat(attention[..., None], 3, axis=2),
                metadata=_ATTENTION_METADATA, format=Format.PNG, bits=16, overwrite=options.overwrite,
            )
            record_output(map_path)
        return written
