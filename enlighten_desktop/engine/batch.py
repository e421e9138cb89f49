"""Batches: which files, where their results go, one item at a time, resumable after a crash or quit.

A file that cannot be read or written fails alone (its ItemResult says why) and the batch goes on. An
original (any input of the batch, and any file this program did not write) is never replaced; an earlier
result only with ``overwrite`` (otherwise the item is "skipped"). ``check_batch`` finds an output folder
that cannot take the results before any model run. BatchState (``batch_state``) records each finished item,
so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Collection, Generator, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from enlighten_desktop.engine.attention import edited_attention
from enlighten_desktop.engine.batch_state import BatchState
from enlighten_desktop.engine.errors import (
    BatchStateError,
    CancelledError,
    EnlightenError,
    ImageWriteError,
    OriginalProtectedError,
    OutputExistsError,
)
from enlighten_desktop.engine.imageio import (
    SUPPORTED_SUFFIXES,
    ImageMetadata,
    LoadedImage,
    read_image,
    write_image,
)
from enlighten_desktop.engine.ledger import earlier_outputs, is_earlier_output, record_output
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import DEFAULT_TILE, CancelToken, Progress, apply_strength, enhance
from enlighten_desktop.engine.preflight import check_output_folders, estimated_output_bytes, folder_needs
from enlighten_desktop.engine.safewrite import check_writable_folder

log = logging.getLogger(__name__)

FORMAT_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
_WRITABLE = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
    ".webp": "WEBP",
}
# HEIC and RAW sources are written as TIFF by default: lossless, 16-bit capable, read everywhere; BMP and
# GIF (8-bit, often palette) as PNG.
_FALLBACK_FORMAT = "TIFF"
_FALLBACK_FORMATS = {".bmp": "PNG", ".gif": "PNG"}
_ATTENTION_METADATA = ImageMetadata(
    format="PNG", bits=16, icc_profile=None, exif=None, xmp=None, compression=None
)


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results are written. ``format``: "JPEG", "PNG", "TIFF", "WEBP" or None (the source's,
    TIFF for HEIC/RAW); ``bits``: 8, 16 or None (the source's); ``template`` names the output from the
    source's ``{stem}``; ``folder`` None writes beside each source."""

    folder: Path | None = None
    format: str | None = None
    bits: int | None = None
    quality: int = 95
    template: str = "{stem}_enlightened"
    overwrite: bool = False
    save_attention: bool = False


@dataclass(frozen=True)
class ItemResult:
    """status: "done", "skipped" (output exists) or "failed"; ``message`` says why when not plainly done."""

    source: Path
    status: str
    output: Path | None = None
    message: str | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Item ``index`` (0-based) of ``total`` is ``source``; ``tiles`` is its per-tile progress."""

    index: int
    total: int
    source: Path
    tiles: Progress


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


def output_format(source: Path, options: OutputOptions) -> str:
    fallback = _FALLBACK_FORMATS.get(source.suffix.lower(), _FALLBACK_FORMAT)
    return options.format or _WRITABLE.get(source.suffix.lower(), fallback)


def output_path(source: Path, root: Path, options: OutputOptions) -> Path:
    """Where ``source`` (found under ``root``) is written: the template's name with the format's suffix,
    beside the source, or under ``options.folder`` with the sub-folders below ``root`` mirrored.
    ValueError for a template that ``check_template`` refuses."""
    name = check_template(options.template).format(stem=source.stem)
    suffix = source.suffix if options.format is None and source.suffix.lower() in _WRITABLE else (
        FORMAT_SUFFIXES[output_format(source, options)]
    )
    folder = source.parent if options.folder is None else options.folder / source.parent.relative_to(root)
    return folder / (name + suffix)


def attention_path(output: Path) -> Path:
    return output.with_name(output.stem + "_attention.png")


def _own_output_pattern(template: str) -> re.Pattern[str] | None:
    """Stems this program writes with ``template``; None when the template adds nothing to the stem."""
    head, _, tail = template.partition("{stem}")
    if not head and not tail:
        return None
    return re.compile(re.escape(head) + ".+" + re.escape(tail) + "(_attention)?")


def collect_inputs(
    paths: Iterable[Path | str], *, recursive: bool, options: OutputOptions = OutputOptions()
) -> list[tuple[Path, Path]]:
    """(file, root it was found under) for every input, in a stable order, without duplicates.

    Files named explicitly are kept whatever their suffix (so a wrong one fails visibly); folders yield
    their supported images (all depths when ``recursive``), leaving out this program's own outputs: those
    named by the template, those its record says it wrote (``ledger``), and an output folder inside the
    searched one (but not the searched folder itself: ``enhance DIR -o DIR`` writes beside the photos).
    """
    own = _own_output_pattern(options.template)
    skip_dir = options.folder.resolve() if options.folder is not None else None
    found: dict[Path, Path] = {}
    written: dict[Path, set[str]] = {}
    for given in map(Path, paths):
        if not given.is_dir():
            found.setdefault(given, given.parent)
            continue
        skip_here = None if skip_dir == given.resolve() else skip_dir
        for file in sorted(given.rglob("*") if recursive else given.iterdir()):
            if (
                file.is_file()
                and file.suffix.lower() in SUPPORTED_SUFFIXES
                and (own is None or not own.fullmatch(file.stem))
                and (skip_here is None or skip_here not in file.resolve().parents)
                and file.name not in written.setdefault(file.parent, earlier_outputs(file.parent))
            ):
                found.setdefault(file, given)
    return list(found.items())


def check_batch(items: Iterable[tuple[Path, Path]], options: OutputOptions) -> None:
    """Before any model run: every output folder of ``items`` takes files and its disk has room for an
    estimate of the results (``preflight``). Raises ImageWriteError, or ValueError for a bad template."""
    check_output_folders(folder_needs(
        (output_path(source, root, options),
         estimated_output_bytes(source, output_format(source, options), options.bits))
        for source, root in items
    ))


def prepare_target(
    source: Path, root: Path, options: OutputOptions, *, originals: Collection[Path] = ()
) -> Path:
    """The output path of ``source``, checked before any work: its folder exists (made if missing) and takes
    files, and nothing there would be replaced that must not be.

    ``originals``: every input of the batch (resolved). An existing output is replaced only with
    ``options.overwrite`` and only when it is an earlier result of this program (``ledger``); an input, or
    any file this program did not write, never is. Raises OriginalProtectedError, OutputExistsError,
    ImageWriteError.
    """
    target = output_path(source, root, options)
    protected = {source.resolve(), *originals}
    for path in (target, attention_path(target)) if options.save_attention else (target,):
        if not path.exists():
            continue
        if path.resolve() in protected:
            raise OriginalProtectedError(
                f"{path} is an original photo of this batch; originals are never replaced (change the name "
                "template, the format or the output folder)."
            )
        if not options.overwrite:
            raise OutputExistsError(
                f"{path} already exists and was left alone (allow overwriting to replace it)."
            )
        if not is_earlier_output(path):
            raise OriginalProtectedError(
                f"{path} exists and was not written by Enlighten Desktop (or was changed since); overwriting "
                "replaces only earlier results. Change the name template or the output folder."
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(f"The folder {target.parent} could not be created: {exc}") from exc
    check_writable_folder(target.parent)
    return target


def save_result(target: Path, source: Path, image: LoadedImage, rgb: np.ndarray, options: OutputOptions,
                *, attention: np.ndarray | None = None) -> Path:
    """Write ``rgb`` (the result for ``image``, H x W x 3 float32 [0, 1]) to ``target`` (from
    ``prepare_target``) with the source's metadata, and ``attention`` (H x W [0, 1]) beside it when given;
    both are recorded as results (``ledger``). Returns ``target``."""
    written = write_image(
        target, rgb, metadata=image.metadata, alpha=image.alpha, format=output_format(source, options),
        bits=options.bits, quality=options.quality, overwrite=options.overwrite,
    )
    record_output(written)
    if attention is not None:
        map_path = write_image(
            attention_path(written), np.repeat(attention[..., None], 3, axis=2),
            metadata=_ATTENTION_METADATA, format="PNG", bits=16, overwrite=options.overwrite,
        )
        record_output(map_path)
    return written


def page_note(image: LoadedImage) -> str | None:
    """What a user must know about a multi-page file (TIFF, animated GIF): only its first page is read."""
    pages = image.metadata.pages
    if pages == 1:
        return None
    return f"only page 1 of its {pages} pages was enhanced; the others are not in the output"


def process_file(
    model: EnhancerModel,
    source: Path,
    root: Path,
    options: OutputOptions,
    *,
    strength: float = 1.0,
    tile: int = DEFAULT_TILE,
    attention_edit: np.ndarray | None = None,
    cancel: CancelToken | None = None,
    originals: Collection[Path] = (),
) -> Generator[Progress, None, ItemResult]:
    """Read, enhance at full resolution, blend by ``strength`` and write one file; returns its "done"
    ItemResult (the output, and a note for a multi-page source).

    ``attention_edit``: a brush edit (h x w float32 in [-1, 1], any resolution, e.g. the app's preview) that
    is resized to the photo and added to its default attention (attention.edited_attention); None: the
    default attention. ``originals``: the batch's inputs, never replaced (``prepare_target``).

    Raises, before any work, what ``prepare_target`` raises; then the image errors of imageio, ModelError,
    CancelledError, ImageWriteError.
    """
    target = prepare_target(source, root, options, originals=originals)
    image = read_image(source)
    attention = None if attention_edit is None else edited_attention(image.rgb, attention_edit)
    result = yield from enhance(model, image.rgb, attention=attention, tile=tile, cancel=cancel)
    blended = apply_strength(result.original, result.enhanced, strength, out=result.enhanced)
    written = save_result(target, source, image, blended, options,
                          attention=result.attention if options.save_attention else None)
    return ItemResult(source, "done", output=written, message=page_note(image))


def batch_settings(model: EnhancerModel, options: OutputOptions, *, strength: float, tile: int) -> dict:
    """The JSON-able identity of a batch, for BatchState."""
    chosen = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(options).items()}
    return {"model_sha256": model.sha256, "strength": strength, "tile": tile, "output": chosen}


def run_batch(
    model: EnhancerModel,
    items: list[tuple[Path, Path]],
    options: OutputOptions,
    *,
    state: BatchState | None = None,
    strength: float = 1.0,
    tile: int = DEFAULT_TILE,
    cancel: CancelToken | None = None,
) -> Generator[BatchProgress | ItemResult, None, list[ItemResult]]:
    """Process ``items`` (from collect_inputs) one by one.

    Yields BatchProgress while an item runs and its ItemResult when it ends; returns all results.
    An item's EnlightenError makes it fail alone; CancelledError stops the batch (the state keeps what
    was finished).
    """
    results = []
    originals = frozenset(source.resolve() for source, _ in items)
    for index, (source, root) in enumerate(items):
        if cancel is not None and cancel.cancelled:
            raise CancelledError("Batch cancelled; finished photos are kept.")
        if state is not None and state.is_done(source):
            result = ItemResult(source, "done", message="already done in an earlier run of this batch")
        else:
            result = yield from _one_item(model, index, len(items), source, root, options, strength=strength,
                                          tile=tile, cancel=cancel, originals=originals)
            state = _recorded_or_dropped(state, result)
        results.append(result)
        yield result
    return results


def _recorded_or_dropped(state: BatchState | None, result: ItemResult) -> BatchState | None:
    """Record ``result``; a state that cannot be saved (disk full since the start) is reported and dropped,
    and the batch goes on: only resuming after an interruption is lost."""
    if state is None:
        return None
    try:
        state.record(result)
    except BatchStateError as exc:
        log.error("%s The batch goes on, but cannot be resumed if interrupted.", exc)
        return None
    return state


def _one_item(
    model: EnhancerModel, index: int, total: int, source: Path, root: Path, options: OutputOptions, *,
    strength: float, tile: int, cancel: CancelToken | None, originals: Collection[Path],
) -> Generator[BatchProgress, None, ItemResult]:
    steps = process_file(model, source, root, options, strength=strength, tile=tile, cancel=cancel,
                         originals=originals)
    try:
        while True:
            yield BatchProgress(index, total, source, next(steps))
    except StopIteration as stop:
        return stop.value
    except OutputExistsError as exc:
        return ItemResult(source, "skipped", message=str(exc))
    except CancelledError:
        raise
    except EnlightenError as exc:
        log.warning("%s failed: %s", source, exc)
        return ItemResult(source, "failed", message=str(exc))
