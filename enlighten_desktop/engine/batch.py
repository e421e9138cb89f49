"""Batches: which files, where their results go, one item at a time, resumable after a crash or quit.

A file that cannot be read or written fails alone (its ItemResult says why) and the batch goes on; an
existing output is never replaced unless ``overwrite`` is set (the item is "skipped"). BatchState records
each finished item in a JSON file written atomically, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Generator, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from enlighten_desktop.engine.attention import edited_attention
from enlighten_desktop.engine.errors import CancelledError, EnlightenError, ImageWriteError, OutputExistsError
from enlighten_desktop.engine.imageio import SUPPORTED_SUFFIXES, ImageMetadata, read_image, write_image
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import DEFAULT_TILE, CancelToken, Progress, apply_strength, enhance

log = logging.getLogger(__name__)

FORMAT_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}
_WRITABLE = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
    ".webp": "WEBP",
}
# HEIC and RAW sources are written as TIFF by default: lossless, 16-bit capable, read everywhere.
_FALLBACK_FORMAT = "TIFF"
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


def output_format(source: Path, options: OutputOptions) -> str:
    return options.format or _WRITABLE.get(source.suffix.lower(), _FALLBACK_FORMAT)


def output_path(source: Path, root: Path, options: OutputOptions) -> Path:
    """Where ``source`` (found under ``root``) is written: the template's name with the format's suffix,
    beside the source, or under ``options.folder`` with the sub-folders below ``root`` mirrored."""
    name = options.template.format(stem=source.stem)
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
    their supported images (all depths when ``recursive``), leaving out this program's own outputs.
    """
    own = _own_output_pattern(options.template)
    skip_dir = options.folder.resolve() if options.folder is not None else None
    found: dict[Path, Path] = {}
    for given in map(Path, paths):
        if not given.is_dir():
            found.setdefault(given, given.parent)
            continue
        for file in sorted(given.rglob("*") if recursive else given.iterdir()):
            if (
                file.is_file()
                and file.suffix.lower() in SUPPORTED_SUFFIXES
                and (own is None or not own.fullmatch(file.stem))
                and (skip_dir is None or skip_dir not in file.resolve().parents)
            ):
                found.setdefault(file, given)
    return list(found.items())


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
) -> Generator[Progress, None, Path]:
    """Read, enhance at full resolution, blend by ``strength`` and write one file; returns the output.

    ``attention_edit``: a brush edit (h x w float32 in [-1, 1], any resolution, e.g. the app's preview) that
    is resized to the photo and added to its default attention (attention.edited_attention); None: the
    default attention.

    Raises OutputExistsError before any work when the output exists and overwriting is off, the image
    errors of imageio, ModelError, CancelledError.
    """
    target = output_path(source, root, options)
    if target.exists() and target.resolve() == source.resolve():
        raise OutputExistsError(
            f"{target} is the original photo; originals are never replaced (change the name template or "
            "the output folder)."
        )
    if target.exists() and not options.overwrite:
        raise OutputExistsError(
            f"{target} already exists and was left alone (allow overwriting to replace it)."
        )
    image = read_image(source)
    attention = None if attention_edit is None else edited_attention(image.rgb, attention_edit)
    result = yield from enhance(model, image.rgb, attention=attention, tile=tile, cancel=cancel)
    blended = apply_strength(result.original, result.enhanced, strength, out=result.enhanced)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageWriteError(f"The folder {target.parent} could not be created: {exc}") from exc
    written = write_image(
        target, blended, metadata=image.metadata, alpha=image.alpha, format=output_format(source, options),
        bits=options.bits, quality=options.quality, overwrite=options.overwrite,
    )
    if options.save_attention:
        write_image(
            attention_path(written), np.repeat(result.attention[..., None], 3, axis=2),
            metadata=_ATTENTION_METADATA, format="PNG", bits=16, overwrite=options.overwrite,
        )
    return written


class BatchState:
    """Status of every item of a batch, kept in a JSON file rewritten atomically after each item.

    ``settings`` identify the batch (model, strength, options): a state file made with other settings is
    ignored, so changing a setting redoes the work. Only "done" items are not redone on resume.
    """

    def __init__(self, *, path: Path, settings: dict, items: dict[str, dict] | None = None) -> None:
        self.path = path
        self.settings = settings
        self.items = items or {}

    @classmethod
    def open(cls, path: Path, *, settings: dict) -> BatchState:
        """The state at ``path`` if it belongs to a batch with these settings, else a fresh one."""
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path=path, settings=settings)
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable batch state %s: %s", path, exc)
            return cls(path=path, settings=settings)
        if saved.get("settings") != settings:
            log.info("Batch state %s belongs to other settings; starting afresh", path)
            return cls(path=path, settings=settings)
        return cls(path=path, settings=settings, items=saved.get("items", {}))

    def is_done(self, source: Path) -> bool:
        return self.items.get(str(source.resolve()), {}).get("status") == "done"

    def record(self, result: ItemResult) -> None:
        self.items[str(result.source.resolve())] = {
            "status": result.status,
            "output": None if result.output is None else str(result.output),
            "message": result.message,
        }
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".batch-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"settings": self.settings, "items": self.items}, stream, indent=1)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


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
    for index, (source, root) in enumerate(items):
        if cancel is not None and cancel.cancelled:
            raise CancelledError("Batch cancelled; finished photos are kept.")
        if state is not None and state.is_done(source):
            result = ItemResult(source, "done", message="already done in an earlier run of this batch")
        else:
            result = yield from _one_item(model, index, len(items), source, root, options,
                                          strength=strength, tile=tile, cancel=cancel)
            if state is not None:
                state.record(result)
        results.append(result)
        yield result
    return results


def _one_item(
    model: EnhancerModel, index: int, total: int, source: Path, root: Path, options: OutputOptions, *,
    strength: float, tile: int, cancel: CancelToken | None,
) -> Generator[BatchProgress, None, ItemResult]:
    steps = process_file(model, source, root, options, strength=strength, tile=tile, cancel=cancel)
    try:
        while True:
            yield BatchProgress(index, total, source, next(steps))
    except StopIteration as stop:
        return ItemResult(source, "done", output=stop.value)
    except OutputExistsError as exc:
        return ItemResult(source, "skipped", message=str(exc))
    except CancelledError:
        raise
    except EnlightenError as exc:
        log.warning("%s failed: %s", source, exc)
        return ItemResult(source, "failed", message=str(exc))
