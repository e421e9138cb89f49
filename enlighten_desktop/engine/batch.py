"""Batches: which files, where their results go, the model on one item while the next is read and the one
before is written, resumable after a crash or quit.

A file that cannot be read or written fails alone (its ItemResult says why) and the batch goes on. An
original (any input of the batch, and any file this program did not write) is never replaced; an earlier
result only with ``overwrite`` (otherwise the item is "skipped"). Each item goes through the stages of
``item.process_item`` (``open_item``, ``enhance_in_place``, ``write_item``) with the ``outputs.NewFiles``
writer, as the app's queue and "export current" do. ``check_batch`` finds an output folder that cannot take
the results before any model run. BatchState (``batch_state``) records each finished item,
so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from enlighten_desktop.engine.batch_state import BatchState
from enlighten_desktop.engine.errors import BatchStateError, CancelledError, EnlightenError, OutputExistsError
from enlighten_desktop.engine.filters import NO_FILTERS, Filters
from enlighten_desktop.engine.formats import SUPPORTED_SUFFIXES
from enlighten_desktop.engine.item import ItemResult, Opened, Status, open_item, write_item
from enlighten_desktop.engine.ledger import earlier_outputs
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.outputs import NewFiles, OutputOptions, output_format, output_path
from enlighten_desktop.engine.pipeline import CancelToken, Progress, enhance_in_place, relay
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
    model: EnhancerModel, options: OutputOptions, *, strength: float, tile: int,
    filters: Filters = NO_FILTERS,
) -> dict[str, object]:
    """The JSON-able identity of a batch, for BatchState."""
    chosen = {key: None if value is None else value if isinstance(value, (bool, int)) else str(value)
              for key, value in asdict(options).items()}
    return {"model_sha256": model.sha256, "strength": strength, **filters.as_json(), "tile": tile,
            "output": chosen}


def run_batch(
    model: EnhancerModel,
    items: list[tuple[Path, Path]],
    options: OutputOptions,
    *,
    state: BatchState | None = None,
    strength: float = 1.0,
    filters: Filters = NO_FILTERS,
    tile: int | None = None,
    cancel: CancelToken | None = None,
) -> Generator[BatchProgress | ItemResult, None, list[ItemResult]]:
    """Process ``items`` (from collect_inputs) in order, each through ``item``'s stages (``open_item``,
    ``enhance_in_place``, ``write_item``), reading the next photo and writing the one before in threads of
    their own while the model runs, so that decoding and encoding hide behind inference.

    Yields BatchProgress while an item runs and each ItemResult, in item order, once it is final; returns
    all results. An item's EnlightenError makes it fail alone; CancelledError stops the batch once the photo
    being written is finished (the state keeps what was finished).
    """
    originals = frozenset(source.resolve() for source, _ in items)
    todo = [index for index, (source, _) in enumerate(items) if state is None or not state.is_done(source)]
    record = _Record(state)
    with ThreadPoolExecutor(1, "enlighten-read") as reads, ThreadPoolExecutor(1, "enlighten-write") as writes:

        def open_next() -> tuple[int, NewFiles, Future[Opened]] | None:
            if not todo:
                return None
            index = todo.pop(0)
            source, root = items[index]
            writer = NewFiles(options, root=root, originals=originals)
            return index, writer, reads.submit(open_item, source, writer, gate=model.contract.exposure_gate)

        opening = open_next()
        writing: tuple[Path, Future[ItemResult]] | None = None  # the item before, while it is written
        try:
            for index, (source, _) in enumerate(items):
                outcome: Opened | ItemResult
                if opening is None or opening[0] != index:  # done in an earlier run, and recorded there
                    earlier, outcome = True, ItemResult(source, Status.DONE, message=_DONE_EARLIER)
                else:
                    earlier = False
                    if cancel is not None and cancel.cancelled:
                        raise CancelledError("Batch cancelled; finished photos are kept.")
                    _, writer, reading = opening
                    opening = open_next()
                    progress = partial(BatchProgress, index, len(items), source)
                    outcome = yield from _enhanced(model, source, reading, progress, strength=strength,
                                                   filters=filters, tile=tile, cancel=cancel)
                if writing is not None:
                    yield record.final(_written(*writing))
                    writing = None
                if isinstance(outcome, Opened):
                    writing = (source, writes.submit(write_item, outcome, writer))
                else:
                    yield record.final(outcome, new=not earlier)
            if writing is not None:
                yield record.final(_written(*writing))
                writing = None
        except CancelledError:
            if writing is not None:
                yield record.final(_written(*writing))
                writing = None
            raise
        finally:
            if opening is not None:
                opening[2].cancel()
            if writing is not None:  # the caller stopped early: the photo is still written, and recorded
                record.final(_written(*writing))
    return record.results


_DONE_EARLIER = "already done in an earlier run of this batch"


class _Record:
    """The batch's results in item order, each recorded in the batch state as it becomes final."""

    def __init__(self, state: BatchState | None) -> None:
        self.state = state
        self.results: list[ItemResult] = []

    def final(self, result: ItemResult, *, new: bool = True) -> ItemResult:
        """Keep ``result`` and record it when it is ``new`` (not done in an earlier run). A state that
        cannot be saved (disk full since the start) is reported and dropped, and the batch goes on: only
        resuming after an interruption is lost."""
        self.results.append(result)
        if new and self.state is not None:
            try:
                self.state.record(result)
            except BatchStateError as exc:
                log.error("%s The batch goes on, but cannot be resumed if interrupted.", exc)
                self.state = None
        return result


def _failed(source: Path, error: EnlightenError) -> ItemResult:
    """An item's own error as its result: an output that exists is skipped, anything else fails it alone."""
    if isinstance(error, OutputExistsError):
        return ItemResult(source, Status.SKIPPED, message=str(error))
    log.warning("%s failed: %s", source, error)
    return ItemResult(source, Status.FAILED, message=str(error))


def _enhanced(
    model: EnhancerModel, source: Path, reading: Future[Opened],
    progress: Callable[[Progress], BatchProgress], *, strength: float, filters: Filters, tile: int | None,
    cancel: CancelToken | None,
) -> Generator[BatchProgress, None, Opened | ItemResult]:
    """The photo ``reading`` opens, enhanced in place; or the ItemResult of its error."""
    try:
        opened = reading.result()
        yield from relay(enhance_in_place(model, opened.image.rgb, attention=opened.attention,
                                          strength=strength, filters=filters, tile=tile, cancel=cancel),
                      progress)
    except CancelledError:
        raise
    except EnlightenError as exc:
        return _failed(source, exc)
    return opened


def _written(source: Path, writing: Future[ItemResult]) -> ItemResult:
    """The result of ``writing`` once it is done, or of its error."""
    try:
        return writing.result()
    except EnlightenError as exc:
        return _failed(source, exc)
