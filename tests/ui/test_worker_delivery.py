"""A worker's outcome reaches its owner only while the owner lives and still wants it.

Real QThreadPool workers, real deletion of the owner: the regression is a window closed while its last
result was queued, whose callback then ran against the deleted session ("Signal source has been deleted",
caught by pytest-qt in the event loop).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal

from enlighten_desktop.engine.pipeline import Progress, Stage
from enlighten_desktop.ui.workers import Delivery, GeneratorWorker, WorkerPool


class Owner(QObject):
    """Stands for a session: re-emits what it is handed as its own signal, as PhotoSession does."""

    shown = Signal(object)
    progressed = Signal(int, int)


def counting_work(steps: int):
    def work(_token):
        for done in range(steps):
            yield Progress(done, steps, Stage.TILES)
        return steps

    return work


def run_and_wait(owner: Owner, *, wanted, steps: int = 3) -> WorkerPool:
    """Run the work to its end WITHOUT processing events, so every signal is still queued afterwards."""
    pool = WorkerPool(threads=1)
    worker = GeneratorWorker(factory=counting_work(steps))
    Delivery(worker, owner, wanted=wanted, on_success=owner.shown.emit, on_failure=owner.shown.emit,
             on_progress=owner.progressed.emit)
    pool.start(worker)
    assert pool.wait(20_000)
    return pool


def test_outcome_and_progress_reach_a_live_owner(qtbot) -> None:
    owner = Owner()
    shown, progress = [], []
    owner.shown.connect(shown.append)
    owner.progressed.connect(lambda done, total: progress.append((done, total)))
    run_and_wait(owner, wanted=lambda: True)
    assert shown == [] and progress == []  # queued: nothing ran on the worker thread
    qtbot.waitUntil(lambda: shown == [3], timeout=5_000)
    assert progress == [(0, 3), (1, 3), (2, 3)]
    # The delivery deletes itself once the worker is done: nothing piles up under a long-lived session.
    QCoreApplication.sendPostedEvents(None, 0)  # DeferredDelete needs an explicit flush outside a loop level
    qtbot.waitUntil(lambda: not owner.findChildren(Delivery), timeout=5_000)


def test_an_outcome_no_longer_wanted_is_dropped(qtbot) -> None:
    owner = Owner()
    shown = []
    owner.shown.connect(shown.append)
    generation = {"now": 1}
    mine = generation["now"]
    run_and_wait(owner, wanted=lambda: generation["now"] == mine)
    generation["now"] += 1  # another photo was opened meanwhile
    QCoreApplication.processEvents()
    assert shown == []


def test_an_owner_deleted_with_the_outcome_queued_gets_nothing_and_nothing_fails(qtbot) -> None:
    owner = Owner()
    pool = run_and_wait(owner, wanted=lambda: True)
    shiboken6.delete(owner)  # the window (and its session) closed while the signals were queued
    # Any callback reaching the deleted owner raises in the event loop, which pytest-qt turns into a failure.
    QCoreApplication.processEvents()
    assert pool.active() == 0
