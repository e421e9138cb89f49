"""macOS hands photos opened from the Finder or dropped on the Dock icon to the running app as
QFileOpenEvent on the QApplication: they are queued and shown like command-line paths."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from enlighten_desktop.ui.app import start_main_window
from tests.ui.conftest import wait_ready, write_photo


def test_photos_the_os_opens_with_the_app_are_queued_and_shown(qtbot, qapp, settings, contract_model_path,
                                                                tmp_path) -> None:
    from_finder = write_photo(tmp_path / "photos" / "finder.jpg", seed=1)
    from_dock = write_photo(tmp_path / "photos" / "dock.jpg", seed=2)
    window = start_main_window([], app=qapp, settings=settings, model_path=contract_model_path)
    qtbot.addWidget(window)

    event = QFileOpenEvent(str(from_finder))  # what the Cocoa plug-in posts for a Finder "Open With"
    wait_ready(qtbot, window, lambda: QApplication.postEvent(qapp, event))
    assert [item.source for item in window.queue.items()] == [from_finder.resolve()]
    assert window.session.path == from_finder.resolve() and window.session.result_is_full

    # The URL form; the photo just opened replaces the one on screen, as in any viewer.
    dock_event = QFileOpenEvent(QUrl.fromLocalFile(str(from_dock)))
    wait_ready(qtbot, window, lambda: QApplication.postEvent(qapp, dock_event))
    assert window.queue.item(1).source == from_dock.resolve()
    assert window.session.path == from_dock.resolve() and window.session.result_is_full
