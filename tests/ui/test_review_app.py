"""`enlighten-desktop edit FILE` with a window: later calls are handed to the running instance.

The first test runs the receiving side in the test (real InstanceServer and ReviewHost) with the sender in a
second process; the second runs both sides as real `enlighten-desktop edit` processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import tifffile
from PySide6.QtCore import QObject, Qt

from enlighten_desktop.edit_command import SAVED
from enlighten_desktop.ui.review_host import serve_other_instances
from tests.ui.test_review_window import write_tiff16
from tests.ui.test_single_instance import client

REPO = Path(__file__).resolve().parents[2]
# What the enlighten-desktop-edit launcher (pyproject gui-scripts) runs.
EDIT_IN = "import sys; from enlighten_desktop.ui.review_app import main; sys.exit(main())"


def test_the_running_app_opens_a_review_for_a_file_sent_by_another_edit_and_answers_it(
    qtbot, tmp_path, settings, contract_model_path
):
    photo = write_tiff16(tmp_path / "from-lightroom.tif")
    before = tifffile.imread(photo)
    settings.model_path = contract_model_path
    owner = QObject()  # stands for the running app's QApplication
    name = f"enlighten-test-{uuid.uuid4().hex[:10]}"
    host = serve_other_instances(settings=settings, parent=owner, name=name)
    assert host is not None
    assert serve_other_instances(settings=settings, parent=owner, name=name) is None  # one only
    try:
        other = client(photo, name)
        qtbot.waitUntil(lambda: len(host.windows) == 1, timeout=20000)
        window = host.windows[0]
        qtbot.addWidget(window)
        assert window.path == photo.resolve()
        qtbot.waitUntil(window.save_button.isEnabled, timeout=30000)
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: other.poll() is not None, timeout=30000)  # the event loop runs the save
        out, err = other.communicate(timeout=10)
    finally:
        host.parent().close()  # the InstanceServer
    assert out.splitlines() == [SAVED, f"Saved {photo.resolve()}"], err
    assert (tifffile.imread(photo) > before).mean() > 0.9  # the sender's file was enhanced


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_edit_process_hands_off_to_the_first_instead_of_opening_a_window(tmp_path,
                                                                                 contract_model_path):
    first_photo, second_photo = write_tiff16(tmp_path / "one.tif"), write_tiff16(tmp_path / "two.tif")
    originals = first_photo.read_bytes(), second_photo.read_bytes()
    user = f"test-{uuid.uuid4().hex[:8]}"  # its own server name, settings and temp folder: no real instance
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "USER": user,
           "LOGNAME": user, "TMPDIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def start(command: list[str]) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, *command, "--model", str(contract_model_path)], env=env,
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start(["-m", "enlighten_desktop", "edit", str(first_photo)])
    try:
        deadline = time.monotonic() + 30
        while not any(p.is_socket() for p in tmp_path.iterdir()):  # the first one is listening
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        # The second comes the way Lightroom's "Edit In" starts it: enlighten-desktop-edit FILE.
        second = start(["-c", EDIT_IN, str(second_photo)])
        time.sleep(3)
        assert second.poll() is None  # waiting for the first instance's answer
    finally:
        first.send_signal(signal.SIGKILL)  # the running app dies before the review is finished
        first.communicate(timeout=10)  # reaps it and closes its pipes
    _, err = second.communicate(timeout=20)
    assert second.returncode == 1, err
    assert "closed before the edit was finished" in err  # so it was connected to the first one
    assert (first_photo.read_bytes(), second_photo.read_bytes()) == originals
