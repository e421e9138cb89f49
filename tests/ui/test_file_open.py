"""Photos opened with the app while it runs: macOS hands them to the running app as QFileOpenEvent on the
QApplication; on Windows and Linux a double-click starts a second `enlighten-desktop PHOTO`, which hands
them to the running window and exits. Either way they are queued and shown like command-line paths."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from enlighten_desktop.ui.app import start_main_window
from enlighten_desktop.ui.review_host import serve_other_instances
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


def test_a_second_launch_hands_its_photos_to_the_open_window_and_exits(qtbot, make_window, tmp_path,
                                                                       monkeypatch) -> None:
    user = f"test-{uuid.uuid4().hex[:8]}"  # its own instance name: no real instance is involved
    monkeypatch.setenv("USER", user)
    monkeypatch.setenv("LOGNAME", user)
    window = make_window()
    owner = QObject()  # stands for the running app's QApplication
    host = serve_other_instances(settings=window.settings, models=window.models, parent=owner,
                                 open_paths=window.open_handed_over)
    assert host is not None
    photo = write_photo(tmp_path / "double clicked" / "night.jpg")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    # A relative path, as a file manager may pass it: the sender resolves it against its own folder.
    second = subprocess.Popen([sys.executable, "-m", "enlighten_desktop", photo.name], cwd=photo.parent,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)  # our event loop answers it
        _, err = second.communicate(timeout=10)
    finally:
        second.kill()
        host.parent().close()  # the InstanceServer
    assert second.returncode == 0 and "Handed 1 path(s) to the running Enlighten Desktop" in err, err
    assert window.queue.row_of(photo.resolve()) is not None
    assert window.session.path == photo.resolve()  # shown, not only queued
