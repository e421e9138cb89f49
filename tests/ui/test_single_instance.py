"""The single-instance hand-offs (edit and open) over a real QLocalServer, with the client in a second
process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from enlighten_desktop.edit_command import FAILED, SAVED
from enlighten_desktop.ui.single_instance import InstanceServer, Outcome, hand_off, hand_open

REPO = Path(__file__).resolve().parents[2]
CLIENT = ("import sys; from enlighten_desktop.ui.single_instance import hand_off; "
          "outcome = hand_off(sys.argv[1], name=sys.argv[2]); "
          "print(outcome.result if outcome else 'none'); print(outcome.message if outcome else '')")


@pytest.fixture
def name() -> str:
    return f"enlighten-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def server(qtbot, name):
    server = InstanceServer(name=name)
    yield server
    server.close()


def client(path: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", CLIENT, str(path), name], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_process_hands_its_file_over_and_waits_for_the_outcome(qtbot, server, name, tmp_path):
    assert server.listen()
    photo = tmp_path / "a photo with spaces.tif"
    other = client(photo, name)
    with qtbot.waitSignal(server.edit_requested, timeout=20000) as request:
        pass
    assert request.args[0].path == photo
    assert other.poll() is None  # still waiting: the user has not finished the review
    request.args[0].answer(Outcome(SAVED, f"Saved {photo}"))
    out, err = other.communicate(timeout=20)
    assert out.splitlines() == [SAVED, f"Saved {photo}"], err


def test_a_running_instance_that_goes_away_without_answering_is_reported(qtbot, server, name, tmp_path):
    assert server.listen()
    other = client(tmp_path / "x.tif", name)
    with qtbot.waitSignal(server.edit_requested, timeout=20000) as request:
        pass
    request.args[0].parent().abort()  # the connection dies, as when the app crashes
    out, err = other.communicate(timeout=20)
    assert out.splitlines()[0] == FAILED and "closed before the edit was finished" in out, err


def test_without_a_running_instance_there_is_no_hand_off(qtbot, name, tmp_path):
    assert hand_off(tmp_path / "x.tif", name=name) is None
    assert hand_open([tmp_path / "x.tif"], name=name) is None


OPEN_CLIENT = ("import sys; from pathlib import Path; "
               "from enlighten_desktop.ui.single_instance import hand_open; "
               "print(hand_open([Path(p) for p in sys.argv[2:]], name=sys.argv[1]))")


def open_client(paths: list[Path], name: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", OPEN_CLIENT, name, *map(str, paths)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_photos_opened_by_a_second_launch_go_to_the_running_main_window(qtbot, server, name, tmp_path):
    assert server.listen()
    server.accepts_open = True
    photos = [tmp_path / "a.jpg", tmp_path / "folder with spaces"]
    other = open_client(photos, name)
    with qtbot.waitSignal(server.open_requested, timeout=20000) as request:
        pass
    assert request.args[0] == photos
    out, err = other.communicate(timeout=20)
    assert out.strip() == "True", err


def test_an_instance_without_a_main_window_refuses_photos_so_the_launch_opens_its_own(qtbot, server, name,
                                                                                       tmp_path):
    assert server.listen()  # an `edit` process: accepts_open stays False
    opened: list = []
    server.open_requested.connect(opened.append)
    other = open_client([tmp_path / "a.jpg"], name)
    qtbot.waitUntil(lambda: other.poll() is not None, timeout=20000)  # the event loop answers it
    out, err = other.communicate(timeout=20)
    assert out.strip() == "False" and not opened, err


def test_only_one_instance_listens_and_the_next_one_may_once_it_has_closed(qtbot, server, name):
    assert server.listen()
    second = InstanceServer(name=name)
    assert not second.listen()
    server.close()
    assert second.listen()
    second.close()


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave no file behind")
def test_a_socket_left_by_a_crashed_instance_does_not_block_the_next_one(qtbot, server, name, tmp_path):
    leftover = Path(QDir.tempPath()) / name
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(leftover))  # a socket file nobody listens on any more
    dead.close()
    assert leftover.exists()
    assert server.listen()
    other = client(tmp_path / "y.tif", name)
    with qtbot.waitSignal(server.edit_requested, timeout=20000) as request:
        pass
    request.args[0].answer(Outcome(SAVED))
    assert other.communicate(timeout=20)[0].splitlines()[0] == SAVED
