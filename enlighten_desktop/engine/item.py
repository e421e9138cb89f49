"""One photo from its file to its result: the per-item API of the CLI, the app's queue, "export current" and
the in-place save of the editor hand-off.

``process_item`` reads the photo, enhances it at full resolution blended by strength, in the buffer it was
read into (or blends a result already computed for the same version of the file, attention edit, model and
tile), and hands it to one writer: ``outputs.NewFiles`` (new files named by a template, originals never
replaced) or ``inplace.InPlace`` (over the file itself). Every writer's checks run before the model does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeGuard

import numpy as np

from enlighten_desktop.engine.attention import (
    ExposureGate,
    default_attention,
    edited_attention,
    exposure_gain,
)
from enlighten_desktop.engine.filters import NO_FILTERS, Filters
from enlighten_desktop.engine.imageio import LoadedImage, read_image
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import (
    CancelToken,
    EnhanceResult,
    Progress,
    apply_strength,
    enhance,
    enhance_in_place,
)
from enlighten_desktop.engine.textenum import TextEnum


class Status(TextEnum):
    """How an item ended: written, skipped (its output exists and was left alone) or failed."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class ItemResult:
    """``message`` says why when not plainly done (or notes what a user must know, e.g. pages dropped)."""

    source: Path
    status: Status
    output: Path | None = None
    message: str | None = None


@dataclass(frozen=True)
class FileStamp:
    """What identifies one version of a file: size, modification time (ns) and file id (inode)."""

    size: int
    mtime_ns: int
    file_id: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        info = path.stat()
        return cls(size=info.st_size, mtime_ns=info.st_mtime_ns, file_id=info.st_ino)


def is_painted(edit: np.ndarray | None) -> TypeGuard[np.ndarray]:
    """Whether ``edit`` changes anything (all zeros: painted and undone, or never painted)."""
    return edit is not None and bool(np.any(edit))


def edit_digest(edit: np.ndarray | None) -> str | None:
    """What identifies an attention edit (h x w float32 in [-1, 1]); None for no edit, or one that changes
    nothing (all zeros: painted and undone)."""
    if not is_painted(edit):
        return None
    data = np.ascontiguousarray(edit, dtype=np.float32)
    return hashlib.sha256(repr(data.shape).encode() + data.tobytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class Developed:
    """A photo read and enhanced at full resolution, before blending: reusable by ``process_item`` for the
    same version of the file (``stamp``, taken before it was read), attention edit, filters, model and
    tile."""

    image: LoadedImage
    stamp: FileStamp
    result: EnhanceResult
    model_sha256: str
    tile: int | None
    edit: str | None  # edit_digest of the attention edit it was enhanced with
    filters: Filters  # the filters it was enhanced with

    def serves(self, source: Path, model: EnhancerModel, *, tile: int | None, edit: str | None,
               filters: Filters) -> bool:
        """Whether this is the result ``process_item`` would compute for ``source`` now."""
        try:
            unchanged = FileStamp.of(source) == self.stamp
        except OSError:
            return False
        return (unchanged and source.resolve() == self.image.path.resolve()
                and (model.sha256, tile, edit, filters)
                == (self.model_sha256, self.tile, self.edit, self.filters))


def read_photo(source: Path) -> tuple[LoadedImage, FileStamp]:
    """``source`` decoded, and the stamp of the version read (taken first: a change while reading shows)."""
    stamp = FileStamp.of(source)
    return read_image(source), stamp


def develop(
    model: EnhancerModel, image: LoadedImage, stamp: FileStamp, *, attention_edit: np.ndarray | None = None,
    filters: Filters = NO_FILTERS, tile: int | None = None, cancel: CancelToken | None = None,
) -> Generator[Progress, None, Developed]:
    """Enhance ``image`` at full resolution with its default attention plus ``attention_edit`` (h x w float32
    in [-1, 1] at any resolution, e.g. painted on a preview; resized to the photo) and ``filters``. Yields the
    tiles' Progress; raises ModelError, CancelledError."""
    attention = _attention_for(image, model.contract.exposure_gate, attention_edit)
    result = yield from enhance(model, image.rgb, attention=attention, filters=filters, tile=tile,
                                cancel=cancel)
    return Developed(image=image, stamp=stamp, result=result, model_sha256=model.sha256, tile=tile,
                     edit=edit_digest(attention_edit), filters=filters)


def _attention_for(
    image: LoadedImage, gate: ExposureGate | None, attention_edit: np.ndarray | None
) -> np.ndarray | None:
    """The full-size attention map (``gate``'s gain applied) with the user's edit; None (the default map)
    without an edit."""
    if not is_painted(attention_edit):
        return None
    return edited_attention(image.rgb, attention_edit, exposure_gain(gate, image.rgb))


class Writer(Protocol):
    """Where a result goes. ``prepare`` and ``accept`` refuse, before the model runs, what ``write`` could
    not do; ``write`` owns naming, the guard on what may be replaced, metadata and the atomic write."""

    @property
    def writes_attention(self) -> bool:
        """Whether ``write`` needs the attention map (kept only then: it is a full-size plane)."""

    def prepare(self, source: Path) -> Path:
        """Before reading: where the result of ``source`` will be written, checked."""

    def accept(self, image: LoadedImage) -> None:
        """After reading, before enhancing: raise when ``image`` cannot be written by this writer."""

    def write(
        self, image: LoadedImage, stamp: FileStamp, rgb: np.ndarray, attention: np.ndarray | None
    ) -> Path:
        """Write ``rgb`` (H x W x 3 float32 [0, 1]), the blended result of ``image`` as read at ``stamp``, and
        (when ``writes_attention``) the attention map it was enhanced with; returns the result's path."""


def page_note(image: LoadedImage) -> str | None:
    """What a user must know about a multi-page file (TIFF, animated GIF): only its first page is read."""
    pages = image.metadata.pages
    if pages == 1:
        return None
    return f"only page 1 of its {pages} pages was enhanced; the others are not in the output"


@dataclass(frozen=True, eq=False)
class Opened:
    """A photo read for one item, checked by its writer: its buffer becomes the result in place."""

    source: Path
    image: LoadedImage
    stamp: FileStamp
    attention: np.ndarray | None  # the edited map, or the default one when the writer saves it; else None


def open_item(
    source: Path, writer: Writer, *, gate: ExposureGate | None, attention_edit: np.ndarray | None = None
) -> Opened:
    """The first stage of ``process_item``: ``writer.prepare``, read, ``writer.accept``; the attention map
    (with the model's exposure ``gate``) when it is edited or written. Raises what those raise (no model
    runs here: safe in a reading thread)."""
    writer.prepare(source)
    image, stamp = read_photo(source)
    writer.accept(image)
    attention = _attention_for(image, gate, attention_edit)
    if attention is None and writer.writes_attention:
        attention = default_attention(image.rgb, exposure_gain(gate, image.rgb))
    return Opened(source=source, image=image, stamp=stamp, attention=attention)


def write_item(opened: Opened, writer: Writer) -> ItemResult:
    """The last stage: ``opened``, enhanced in place, written; its "done" ItemResult (with a page note)."""
    written = writer.write(opened.image, opened.stamp, opened.image.rgb, opened.attention)
    return ItemResult(opened.source, Status.DONE, output=written, message=page_note(opened.image))


def process_item(
    model: EnhancerModel,
    source: Path,
    writer: Writer,
    *,
    strength: float = 1.0,
    filters: Filters = NO_FILTERS,
    tile: int | None = None,
    attention_edit: np.ndarray | None = None,
    cancel: CancelToken | None = None,
    reuse: Developed | None = None,
) -> Generator[Progress, None, ItemResult]:
    """Read, enhance at full resolution, blend by ``strength`` (0 = original, 1 = full effect) and write one
    photo; returns its "done" ItemResult (the output, and a note for a multi-page source).

    ``attention_edit``, ``filters``: see ``develop``. ``reuse``: a result computed earlier (the app's
    full-size view); used when it ``serves`` this photo, model, tile, edit and filters, so the model does not
    run again. Otherwise the photo is enhanced in the buffer it was read into (``enhance_in_place``): one
    image-sized float buffer.
    Raises, before any work, what ``writer.prepare`` and ``writer.accept`` raise; then the image errors of
    imageio, ModelError, CancelledError, ImageWriteError.
    """
    if reuse is not None and reuse.serves(source, model, tile=tile, edit=edit_digest(attention_edit),
                                          filters=filters):
        writer.prepare(source)
        writer.accept(reuse.image)
        result = reuse.result
        blended = apply_strength(result.original, result.enhanced, strength)  # the reused result is kept
        written = writer.write(reuse.image, reuse.stamp, blended, result.attention)
        return ItemResult(source, Status.DONE, output=written, message=page_note(reuse.image))
    opened = open_item(source, writer, gate=model.contract.exposure_gate, attention_edit=attention_edit)
    yield from enhance_in_place(model, opened.image.rgb, attention=opened.attention, strength=strength,
                                filters=filters, tile=tile, cancel=cancel)
    return write_item(opened, writer)
