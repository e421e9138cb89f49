"""The main window: compare view in the centre, adjustments on the right, the batch queue below.

It owns no image logic: PhotoSession (current photo), BatchRunner and QueueModel (batch) do the work; this
class builds widgets, menus and shortcuts and connects their signals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from enlighten_desktop import APP_NAME
from enlighten_desktop.engine.batch import collect_inputs
from enlighten_desktop.engine.formats import SUPPORTED_SUFFIXES
from enlighten_desktop.engine.providers import ProviderReport, unavailable_notice
from enlighten_desktop.ui import theme
from enlighten_desktop.ui.batch_runner import BatchRunner
from enlighten_desktop.ui.models import EngineConfig, ModelCache
from enlighten_desktop.ui.photo_controls import PhotoControls
from enlighten_desktop.ui.photo_edits import PhotoEdits
from enlighten_desktop.ui.photo_session import PhotoSession
from enlighten_desktop.ui.photo_stage import PhotoStage
from enlighten_desktop.ui.queue_model import FINISHED, QueueModel, QueueStatus, open_queue_state
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.thumbnails import ThumbnailLoader
from enlighten_desktop.ui.widgets.adjust_panel import AdjustPanel
from enlighten_desktop.ui.widgets.banner import Banner
from enlighten_desktop.ui.widgets.compare_view import CompareMode, CompareView
from enlighten_desktop.ui.widgets.preferences_dialog import PreferencesDialog
from enlighten_desktop.ui.widgets.queue_panel import QueuePanel

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, *, settings: AppSettings, model_path: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._model_override = model_path
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.models = ModelCache()
        self.edits = PhotoEdits()  # the photo view writes them, the queue exports with them
        self.session = PhotoSession(config=self.engine_config(), models=self.models, edits=self.edits,
                                    parent=self)
        self.queue = QueueModel(state=open_queue_state(settings.queue_state_path), parent=self)
        self.runner = BatchRunner(queue=self.queue, models=self.models, settings=self._batch_settings,
                                  edits=self.edits, parent=self)
        self.thumbnails = ThumbnailLoader(queue=self.queue, parent=self)
        self._output_folder: Path | None = None

        self.compare = CompareView()
        self.banner = Banner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.compare, 1)
        self.setCentralWidget(central)

        self.adjust = AdjustPanel()
        self.controls = PhotoControls(session=self.session, compare=self.compare, adjust=self.adjust,
                                      settings=settings, parent=self)
        self._dock("Adjust", self.adjust, Qt.DockWidgetArea.RightDockWidgetArea)
        self.queue_panel = QueuePanel(queue=self.queue)
        self.queue_panel.options.set_options(settings.output_options())
        self._dock("Queue", self.queue_panel, Qt.DockWidgetArea.BottomDockWidgetArea)

        self.stage = QLabel("Drop photos or folders here, or use File › Open.")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        self.provider_label = QLabel()
        self.zoom_label = QLabel()
        self.zoom_label.setContentsMargins(8, 0, 8, 0)
        self.compare.zoom_changed.connect(lambda percent: self.zoom_label.setText(f"Zoom {percent:.0f} %"))
        self.queue_label = QLabel()
        self.fallback_label = QLabel()
        self.fallback_label.setStyleSheet(f"color: {theme.WARNING.name()};")
        self.statusBar().addWidget(self.stage, 1)
        self.statusBar().addPermanentWidget(self.queue_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.fallback_label)
        self.statusBar().addPermanentWidget(self.provider_label)

        self._connect()
        self._update_queue_label()
        if self.queue.rowCount():
            self.queue_panel.table.selectRow(0)  # a restored queue opens on its first photo
        self._build_menus()
        self._show_model_notice()
        self.thumbnails.request([item.source for item in self.queue.items()])
        if not self.restoreGeometry(settings.window_geometry):
            self.resize(1400, 900)
        self.restoreState(settings.window_state)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")  # so saveState/restoreState can find it
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # -- configuration -------------------------------------------------------------------------------
    def engine_config(self) -> EngineConfig:
        return self.settings.engine_config(model_path=self._model_override)

    def _batch_settings(self):
        session = self.session
        return self.engine_config(), self.queue_panel.options.options(), session.strength, session.filters

    def _show_model_notice(self) -> None:
        config = self.engine_config()
        notice = config.missing_model_notice() or unavailable_notice(config.provider)
        if notice:
            self.banner.show_message(notice)
        else:
            self.banner.hide()

    # -- wiring --------------------------------------------------------------------------------------
    def _connect(self) -> None:
        session, panel = self.session, self.queue_panel
        session.photo_loaded.connect(self._on_photo_loaded)
        session.stage_changed.connect(self._on_stage)
        session.progress.connect(self._on_progress)
        session.provider_changed.connect(self._on_provider)
        session.failed.connect(lambda message: self.banner.show_message(message, theme.ERROR))
        session.exported.connect(lambda path: self.stage.setText(f"Saved {path}"))
        panel.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.open_row(current.row()) if current.isValid() else None)
        panel.add.clicked.connect(self.open_files)
        panel.export.clicked.connect(self.runner.start)
        panel.pause.clicked.connect(self.runner.pause)
        panel.cancel.clicked.connect(lambda: self.runner.cancel_rows(panel.selected_rows()))
        panel.cancel_all.clicked.connect(self.runner.cancel_all)
        panel.retry.clicked.connect(self.runner.retry_failed)
        panel.remove.clicked.connect(lambda: self.runner.remove_rows(panel.selected_rows()))
        panel.open_folder.clicked.connect(self.open_output_folder)
        panel.options.changed.connect(self.settings.set_output_options)
        self.runner.running_changed.connect(self._on_batch_running)
        for signal in (self.queue.dataChanged, self.queue.rowsInserted, self.queue.rowsRemoved):
            signal.connect(self._update_queue_label)
        self.runner.finished.connect(self._on_batch_finished)
        self.runner.notice.connect(lambda message: self.banner.show_message(message, theme.ERROR))

    def _build_menus(self) -> None:
        def action(menu, text: str, slot, shortcut=None, checkable: bool = False):
            act = menu.addAction(text)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setCheckable(checkable)
            act.triggered.connect(slot)
            return act

        keys = QKeySequence.StandardKey
        file = self.menuBar().addMenu("&File")
        action(file, "&Open photos…", self.open_files, keys.Open)
        action(file, "Open &folder…", self.open_folder, "Ctrl+Shift+O")
        file.addSeparator()
        action(file, "&Export queue", self.runner.start, "Ctrl+E")
        action(file, "Export &current photo", self.export_current, "Ctrl+Shift+E")
        file.addSeparator()
        action(file, "&Preferences…", self.show_preferences, keys.Preferences).setShortcuts(
            [QKeySequence(keys.Preferences), QKeySequence("Ctrl+,")])
        file.addSeparator()
        action(file, "&Quit", self.close, keys.Quit)

        view = self.menuBar().addMenu("&View")
        compare = self.compare
        toolbar = self.addToolBar("View")
        toolbar.setObjectName("toolbar_view")
        toolbar.addActions([
            action(view, "&Split", lambda: compare.set_mode(CompareMode.SPLIT), "S"),
            action(view, "Side &by side", lambda: compare.set_mode(CompareMode.SIDE_BY_SIDE), "Y"),
            action(view, "&Before ⇄ after", compare.toggle_before_after, "\\"),
        ])
        view.addSeparator()
        toolbar.addSeparator()
        toolbar.addActions([
            action(view, "&Fit", compare.fit, "Ctrl+0"),
            action(view, "100 %", lambda: compare.zoom_to(100), "Ctrl+1"),
            action(view, "200 %", lambda: compare.zoom_to(200), "Ctrl+2"),
        ])
        toolbar.addWidget(self.zoom_label)
        action(view, "Zoom &in", compare.zoom_in, keys.ZoomIn)
        action(view, "Zoom &out", compare.zoom_out, keys.ZoomOut)
        view.addSeparator()
        action(view, "Show &attention map", self.adjust.show_overlay.toggle, "A")

        edit = self.menuBar().addMenu("&Edit")
        action(edit, "&Undo brush stroke", self.session.undo_edit, keys.Undo)
        action(edit, "&Reset attention edits", self.session.reset_edit, "Ctrl+Shift+R")
        action(edit, "Attention &brush", self.adjust.brush.toggle, "B")
        action(edit, "Brush add/subtract", self.controls.toggle_subtract, "X")
        action(edit, "Smaller brush", lambda: self.controls.scale_brush(0.8), "[")
        action(edit, "Larger brush", lambda: self.controls.scale_brush(1.25), "]")

        queue = self.menuBar().addMenu("&Queue")
        action(queue, "&Start / resume", self.runner.start, "Ctrl+Return")
        action(queue, "&Pause", self.runner.pause, "Ctrl+.")
        action(queue, "&Cancel all", self.runner.cancel_all, "Ctrl+Shift+.")
        action(queue, "&Retry failed", self.runner.retry_failed, "Ctrl+R")
        action(queue, "Re&move selected", lambda: self.runner.remove_rows(self.queue_panel.selected_rows()),
               keys.Delete)
        action(queue, "Open &output folder", self.open_output_folder, "Ctrl+Shift+F")

    # -- opening -------------------------------------------------------------------------------------
    def add_paths(self, paths: Sequence[str | Path]) -> list[Path]:
        """Queue photos and folders (folders searched recursively if set) and show the first of them, even
        over a photo already on screen: whoever opens photos (command line, Finder, dialog, drop) expects to
        see what they opened, not the first row of a queue restored from the last session."""
        pairs = collect_inputs([Path(p) for p in paths], recursive=self.settings.recursive,
                               options=self.queue_panel.options.options())
        added = self.queue.add(pairs)
        self.thumbnails.request(added)
        if pairs:
            row = self.queue.row_of(pairs[0][0].resolve())
            if row is not None:
                self.queue_panel.table.selectRow(row)
                self.open_row(row)
        self.stage.setText(f"Queued {len(added)} photo(s)." if added else "Those photos are already queued.")
        return added

    def open_handed_over(self, paths: list[Path]) -> None:
        """Photos a later launch of the app handed over: queued and shown, the window brought forward."""
        if paths:
            self.add_paths(paths)
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def open_row(self, row: int) -> None:
        if 0 <= row < self.queue.rowCount():
            source = self.queue.item(row).source
            if source != self.session.path:
                self.session.open(source)

    def open_files(self) -> None:
        suffixes = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", self.settings.last_folder,
                                                f"Photos ({suffixes});;All files (*)")
        if files:
            self.settings.last_folder = str(Path(files[0]).parent)
            self.add_paths(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open folder", self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.add_paths([folder])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # -- current photo -------------------------------------------------------------------------------
    @Slot(object, int, int)
    def _on_photo_loaded(self, _before: tuple[QImage, ...], _width: int, _height: int) -> None:
        self.setWindowTitle(f"{self.session.path.name} — {APP_NAME}" if self.session.path else APP_NAME)

    def _on_stage(self, name: str) -> None:
        stage = PhotoStage(name)
        self.stage.setText(stage.label)
        self.progress.setVisible(stage.running)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_provider(self, report: ProviderReport) -> None:
        self.provider_label.setText(f"Running on {report.active}")
        self.provider_label.setToolTip(f"Requested: {report.requested}")
        if report.fell_back:
            self.fallback_label.setText("⚠ Fell back to CPU")
            self.fallback_label.setToolTip(report.fallback_reason or "")
            self.banner.show_message(f"Running on the CPU: {report.fallback_reason}")
        else:
            self.fallback_label.clear()

    def export_current(self) -> None:
        self.session.export(self.queue_panel.options.options())

    # -- batch ---------------------------------------------------------------------------------------
    def _update_queue_label(self) -> None:
        states = [item.status for item in self.queue.items()]
        finished = sum(state in FINISHED for state in states)
        failed = states.count(QueueStatus.FAILED)
        text = f"Queue: {finished} of {len(states)} done" + (f", {failed} failed" if failed else "")
        self.queue_label.setText(text if states else "")

    def _on_batch_running(self, running: bool) -> None:
        self.stage.setText("Exporting the queue…" if running else "Queue stopped.")

    def _on_batch_finished(self, done: int, failed: int, folder: object) -> None:
        self._output_folder = folder if isinstance(folder, Path) else None
        self.queue_panel.open_folder.setEnabled(self._output_folder is not None)
        text = f"Batch finished: {done} done, {failed} failed."
        self.stage.setText(text)
        colour = theme.ERROR if failed else theme.OK
        self.banner.show_message(f"{text} Use “Open output folder” to see the results.", colour)

    def open_output_folder(self) -> None:
        if self._output_folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._output_folder)))

    # -- preferences and quitting --------------------------------------------------------------------
    def show_preferences(self) -> None:
        dialog = PreferencesDialog(settings=self.settings, parent=self)
        if dialog.exec():
            dialog.apply()
            self.models.clear()
            self.session.set_config(self.engine_config())
            self._show_model_notice()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.runner.shutdown()
        self.session.shutdown()
        self.thumbnails.shutdown()
        super().closeEvent(event)

