"""Run engine work off the GUI thread.

Engine work is a plain generator that yields ``Progress`` and returns its result (ARCHITECTURE.md rule 2);
a ``GeneratorWorker`` drives one on a QThreadPool and turns its yields into Qt signals. Signals are emitted
from the pool thread and delivered, queued, to receivers living on the GUI thread, so widgets are only ever
touched there. Cancelling sets the engine's CancelToken, which the engine checks between tiles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from enlighten_desktop.engine.errors import CancelledError, EnlightenError
from enlighten_desktop.engine.pipeline import CancelToken, Progress, Stage, run_to_end

log = logging.getLogger(__name__)

Result = TypeVar("Result")
# What a worker's work returns; covariant, so a pool holds workers of any result as GeneratorWorker[object].
Produced = TypeVar("Produced", covariant=True)
# Work: given the cancel token, a generator of Progress that returns the result.
WorkFactory = Callable[[CancelToken], Generator[Progress, None, Result]]


def call_work(function: Callable[[], Result]) -> WorkFactory[Result]:
    """Wrap a plain call (decode, convert, write) as work: one step, cancellable before it starts."""

    def work(token: CancelToken) -> Generator[Progress, None, Result]:
        yield Progress(0, 1, Stage.CALL)
        if token.cancelled:
            raise CancelledError("Cancelled.")
        return function()

    return work


class WorkerSignals(QObject):
    """Signals of one worker; the object lives on the thread that created the worker (the GUI thread)."""

    progress = Signal(int, int, str)  # done, total, stage
    succeeded = Signal(object)  # the generator's return value
    failed = Signal(object)  # the exception (an EnlightenError, or any bug, reported rather than lost)
    cancelled = Signal()
    done = Signal(object)  # the worker, after exactly one of succeeded / failed / cancelled


class GeneratorWorker(QRunnable, Generic[Produced]):
    """Drives ``factory(token)`` to completion on a pool thread and reports through ``signals``.

    Qt signals carry any Python object; ``on_success`` and ``on_failure`` connect to them with the types
    checked: a slot receives the ``Produced`` result its work returns, or the exception it raised."""

    def __init__(self, *, factory: WorkFactory[Produced], token: CancelToken | None = None) -> None:
        super().__init__()
        self.token = token if token is not None else CancelToken()
        self.signals = WorkerSignals()
        self._factory = factory
        self.setAutoDelete(False)  # the Python side owns it (see WorkerPool) so its signals outlive run()

    def cancel(self) -> None:
        self.token.cancel()

    def on_success(self, slot: Callable[[Produced], object]) -> None:
        self.signals.succeeded.connect(slot)

    def on_failure(self, slot: Callable[[Exception], object]) -> None:
        self.signals.failed.connect(slot)

    def run(self) -> None:
        try:
            if self.token.cancelled:
                raise CancelledError("Cancelled before it started.")
            result = run_to_end(self._factory(self.token), self._report)
        except CancelledError:
            self.signals.cancelled.emit()
        except EnlightenError as err:  # expected (bad file, missing model): the GUI shows the message
            log.info("%s", err)
            self.signals.failed.emit(err)
        except Exception as err:  # noqa: BLE001 - a bug: reported to the GUI and logged, never swallowed
            log.exception("background work failed")
            self.signals.failed.emit(err)
        else:
            self.signals.succeeded.emit(result)
        self.signals.done.emit(self)

    def _report(self, step: Progress) -> None:
        self.signals.progress.emit(step.done, step.total, step.stage.value)


class Delivery(QObject, Generic[Result]):
    """Hands one worker's outcome to callbacks on the GUI thread while ``owner`` lives and ``wanted()`` holds.

    A plain function (a lambda) connected to a worker's signals has no receiver object, so a signal still
    queued when the owner is deleted (a window closed while its last result is in flight) would run against
    the deleted owner. This object is the owner's child and the receiver of those signals: Qt deletes it with
    the owner and drops what is queued for it. ``wanted`` drops outcomes the owner no longer waits for (an
    older photo's)."""

    def __init__(self, worker: GeneratorWorker[Result], owner: QObject, *, wanted: Callable[[], bool],
                 on_success: Callable[[Result], object], on_failure: Callable[[Exception], object],
                 on_progress: Callable[[int, int], object] | None = None) -> None:
        super().__init__(owner)
        self._wanted = wanted
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_progress = on_progress
        worker.on_success(self._succeeded)
        worker.on_failure(self._failed)
        if on_progress is not None:
            worker.signals.progress.connect(self._progressed)
        worker.signals.done.connect(self.deleteLater)  # queued after the outcome, so it is delivered first

    @Slot(object)
    def _succeeded(self, value: Result) -> None:
        if self._wanted():
            self._on_success(value)

    @Slot(object)
    def _failed(self, error: Exception) -> None:
        if self._wanted():
            self._on_failure(error)

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, _stage: str) -> None:
        if self._on_progress is not None and self._wanted():
            self._on_progress(done, total)


class WorkerPool(QObject):
    """A QThreadPool plus the live workers, kept referenced until they report ``done``."""

    def __init__(self, *, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._live: set[GeneratorWorker[object]] = set()

    def run(self, work: WorkFactory[Result], *, on_success: Callable[[Result], object],
            on_failure: Callable[[Exception], object]) -> GeneratorWorker[Result]:
        """Start ``work`` in a new worker whose result goes to ``on_success``, its error to ``on_failure``."""
        worker = GeneratorWorker(factory=work)
        worker.on_success(on_success)
        worker.on_failure(on_failure)
        return self.start(worker)

    def start(self, worker: GeneratorWorker[Result]) -> GeneratorWorker[Result]:
        self._live.add(worker)
        # A bound slot of a GUI-thread QObject, so the bookkeeping runs queued on the GUI thread.
        worker.signals.done.connect(self._forget)
        self._pool.start(worker)
        return worker

    @Slot(object)
    def _forget(self, worker: GeneratorWorker[object]) -> None:
        self._live.discard(worker)

    def cancel_all(self) -> None:
        for worker in list(self._live):
            worker.cancel()

    def active(self) -> int:
        return len(self._live)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (used at shutdown only, never while the window is in use)."""
        return self._pool.waitForDone(msecs)
