"""Batches: which files, where their results go, one item at a time, resumable after a crash or quit.

A file that cannot be read or written fails alone (its ItemResult says why) and the batch goes on. An
original (any input of the batch, and any file this program did not write) is never replaced; an earlier
result only with ``overwrite`` (otherwise the item is "skipped"). Each item goes through ``item.process_item``
with the ``outputs.NewFiles`` writer, as the app's queue and "export current" do. ``check_batch`` finds an
output folder
that cannot take the results before any model run. BatchState (``batch_state``) records each finished item,
so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from enlighten_desktop.engine.batch_state import BatchState
from enlighten_desktop.engine.errors import BatchStateError, CancelledError, EnlightenError, OutputExistsError
from enlighten_desktop.engine.formats import SUPPORTED_SUFFIXES
from enlighten_desktop.engine.item import ItemResult, Status, process_item
from enlighten_desktop.engine.ledger import earlier_outputs
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.outputs import NewFiles, OutputOptions, output_format, output_path
from enlighten_desktop.engine.pipeline import DEFAULT_TILE, CancelToken, Progress, relay
from enlighten_desktop.engine.preflight import check_output_folders, estimated_output_bytes, folder_needs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchProgress:
    """Item ``index`` (0-based) of ``total`` is ``source``; ``tiles`` is its per-tile progress."""

    index: int
    total: int
    source: Path
    tiles: Progress


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


def batch_settings(
    model: EnhancerModel, options: OutputOptions, *, strength: float, tile: int
) -> dict[str, object]:
    """The JSON-able identity of a batch, for BatchState."""
    chosen = {key: None if value is None else value if isinstance(value, (bool, int)) else str(value)
              for key, value in asdict(options).items()}
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
            result = ItemResult(source, Status.DONE, message="already done in an earlier run of this batch")
        else:
            writer = NewFiles(options, root=root, originals=originals)
            steps = process_item(model, source, writer, strength=strength, tile=tile, cancel=cancel)
            progress = partial(BatchProgress, index, len(items), source)
            result = yield from _one_item(source, relay(steps, progress))
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
    source: Path, steps: Generator[BatchProgress, None, ItemResult]
) -> Generator[BatchProgress, None, ItemResult]:
    """Run one item's ``steps``: its EnlightenError fails it alone, an existing output skips it."""
    try:
        return (yield from steps)
    except OutputExistsError as exc:
        return ItemResult(source, Status.SKIPPED, message=str(exc))
    except CancelledError:
        raise
    except EnlightenError as exc:
        log.warning("%s failed: %s", source, exc)
        return ItemResult(source, Status.FAILED, message=str(exc))
