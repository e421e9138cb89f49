"""The review window of the editor hand-off: one photo, compare, strength, attention brush, Save or Cancel.

Save writes the full-size result at the chosen strength over the file the host handed over
(``engine.inplace.save_in_place``: same format, bit depth, compression, ICC, EXIF, XMP; atomic). Cancel, or
closing the window, leaves the file untouched. Either way ``finished`` reports the Outcome once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from enlighten_desktop import APP_NAME
from enlighten_desktop.edit_command import FAILED, NOT_SAVED, SAVED
from enlighten_desktop.engine.errors import EnlightenError
from enlighten_desktop.engine.inplace import InPlace, check_replaceable, check_rewritable_format
from enlighten_desktop.engine.item import FileStamp, ItemResult
from enlighten_desktop.ui import theme
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.photo_controls import PhotoControls
from enlighten_desktop.ui.photo_session import PhotoSession
from enlighten_desktop.ui.photo_stage import PhotoStage
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.single_instance import Outcome
from enlighten_desktop.ui.widgets.adjust_panel import AdjustPanel
from enlighten_desktop.ui.widgets.banner import Banner
from enlighten_desktop.ui.widgets.compare_view import CompareView
from enlighten_desktop.ui.workers import WorkerPool

log = logging.getLogger(__name__)

READY_TO_SAVE = "Ready to save."


class ReviewWindow(QMainWindow):
    """Review one handed-over photo; ``finished`` carries the Outcome (saved, not saved, failed)."""

    finished = Signal(object)  # Outcome

    def __init__(self, *, path: Path, settings: AppSettings, config: EngineConfig, models: ModelCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"{self.path.name} — {APP_NAME}")
        self.session = PhotoSession(config=config, models=models, parent=self)
        self.compare = CompareView()
        self.adjust = AdjustPanel()
        self.controls = PhotoControls(session=self.session, compare=self.compare, adjust=self.adjust,
                                      settings=settings, parent=self)
        self.banner = Banner()
        self.stage = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setToolTip(f"Save the result over {self.path.name} (Ctrl+S)")
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.close)
        self._layout()
        self._shortcuts()

        self._outcome: Outcome | None = None
        self._saving = False
        self._stage: PhotoStage | None = None
        self._error: str | None = None  # the last failure, reported if the window closes without a result
        self._writer = WorkerPool(threads=1, parent=self)
        self.session.stage_changed.connect(self._on_stage)
        self.session.progress.connect(self._on_progress)
        self.session.failed.connect(self._on_failed)
        self._stamp = self._open()

    def _layout(self) -> None:
        footer = QHBoxLayout()
        footer.setContentsMargins(10, 6, 10, 6)
        footer.addWidget(self.stage, 1)
        footer.addWidget(self.progress)
        footer.addWidget(self.buttons)
        body = QHBoxLayout()
        body.addWidget(self.compare, 1)
        self.adjust.setFixedWidth(300)
        body.addWidget(self.adjust)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addLayout(body, 1)
        column.addLayout(footer)
        central = QWidget()
        central.setLayout(column)
        self.setCentralWidget(central)

    def _shortcuts(self) -> None:
        keys = QKeySequence.StandardKey
        bindings = (
            (keys.Save, self.save), (keys.Cancel, self.close), (keys.Undo, self.session.undo_edit),
            ("B", self.adjust.brush.toggle), ("A", self.adjust.show_overlay.toggle),
            ("X", self.controls.toggle_subtract), ("\\", self.compare.toggle_before_after),
            ("[", lambda: self.controls.scale_brush(0.8)), ("]", lambda: self.controls.scale_brush(1.25)),
        )
        for key, slot in bindings:
            action = self.addAction(QKeySequence(key).toString())
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)

    def _open(self) -> FileStamp | None:
        """Start loading; warn at once when the file could not be saved over (read-only, locked)."""
        try:
            stamp = FileStamp.of(self.path)
            check_replaceable(self.path)
        except (OSError, EnlightenError) as err:
            self.banner.show_message(f"{err} You can still look; Save will check again.", theme.WARNING)
            stamp = None
        self.session.open(self.path)
        return stamp

    # -- progress ------------------------------------------------------------------------------------
    @Slot(str)
    def _on_stage(self, name: str) -> None:
        self._stage = stage = PhotoStage(name)
        self.stage.setText(READY_TO_SAVE if stage is PhotoStage.READY else stage.label)
        self.progress.setVisible(stage.running)
        self.save_button.setEnabled(self.can_save)
        if stage is PhotoStage.READY and self.session.original is not None:
            try:
                check_rewritable_format(self.session.original.image)
            except EnlightenError as err:
                self.banner.show_message(str(err), theme.ERROR)

    @property
    def can_save(self) -> bool:
        """The full-size result of the current attention edit is ready and no save is running."""
        return not self._saving and self._stage is PhotoStage.READY and self.session.result_is_full

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_failed(self, message: str) -> None:
        self._error = message
        self.banner.show_message(message, theme.ERROR)

    # -- save / cancel -------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the full-size result at the current strength over the file, in a worker."""
        if not self.can_save or self._stamp is None:
            if self._stamp is None:
                self.banner.show_message(f"{self.path.name} could not be read when it was opened; "
                                         "close this window and hand it over again.", theme.ERROR)
            return
        developed = self.session.developed
        # The version reviewed: a file the host rewrote since is refused, not enhanced afresh unseen.
        work = None if developed is None else self.session.write_work(InPlace(reviewed=developed.stamp))
        if work is None:
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self.stage.setText(f"Saving {self.path.name}…")
        self._writer.run(work, on_success=self._on_saved, on_failure=self._on_save_failed)

    @Slot(object)
    def _on_saved(self, result: ItemResult) -> None:
        self._saving = False
        self._finish(Outcome(SAVED, f"Saved {result.output}"))
        self.close()

    @Slot(object)
    def _on_save_failed(self, error: Exception) -> None:
        # The file is untouched (atomic write); the window stays open to retry once the cause is fixed.
        self._saving = False
        self.banner.show_message(f"{error} The photo was not changed.", theme.ERROR)
        self.stage.setText("Not saved.")
        self.save_button.setEnabled(self.can_save)

    def _finish(self, outcome: Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome
            self.finished.emit(outcome)

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._saving:
            event.ignore()  # the rename is moments away; closing now would misreport the outcome
            return
        if self.session.result is None and self._error is not None:
            self._finish(Outcome(FAILED, self._error))  # nothing could be shown: a failure, not a choice
        self._finish(Outcome(NOT_SAVED, f"{self.path.name} was left unchanged."))
        self.session.shutdown()
        self._writer.wait()
        super().closeEvent(event)
