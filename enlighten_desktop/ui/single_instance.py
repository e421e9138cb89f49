"""One running app per user: a second ``enlighten-desktop edit FILE`` hands FILE to the running one, and a
second ``enlighten-desktop [PHOTOS]`` (a double-click in Explorer or a file manager starts one) hands its
photos to the running main window instead of opening a second window over the same persisted queue.

The first instance listens on a local socket (QLocalServer: a Unix domain socket on Linux and macOS, a named
pipe on Windows). A later instance connects, sends one request and waits for the answer. An edit is answered
when the user has saved or cancelled that file, so the host that launched it learns the outcome from its exit
status as if it had opened the window itself; an open is answered at once.

Protocol, one UTF-8 JSON object per line: request ``{"edit": "/absolute/path"}``; answer
``{"result": "saved" | "not saved" | "failed", "message": "..."}``. Request ``{"open": ["/absolute/path",
...]}`` (maybe empty: bring the window forward); answer ``{"result": "opened"}``, or ``{"result": "refused"}``
from an instance that has no main window (an ``edit`` process showing only its review window).

Starting is guarded by a QLockFile, so two instances launched at the same moment cannot both become the
server; a socket left behind by a crashed instance is removed by the one that holds the lock.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from enlighten_desktop.edit_command import FAILED

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1000
OPENED, REFUSED = "opened", "refused"


def server_name() -> str:
    """The per-user name of the socket (named pipes on Windows are global, so the user is part of it)."""
    user = hashlib.sha256(getpass.getuser().encode()).hexdigest()[:12]
    return f"enlighten-desktop-edit-{user}"


@dataclass(frozen=True)
class Outcome:
    """How an edit handed to the running instance ended: ``result`` is SAVED, NOT_SAVED or FAILED."""

    result: str
    message: str = ""


class EditRequest(QObject):
    """One file asked for by another process; ``answer`` tells that process how the edit ended."""

    def __init__(self, *, path: Path, socket: QLocalSocket, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._socket = socket

    def answer(self, outcome: Outcome) -> None:
        """Send the outcome and close the connection (a no-op when the other process has gone)."""
        _reply(self._socket, {"result": outcome.result, "message": outcome.message})


class InstanceServer(QObject):
    """Listens for other instances; emits ``edit_requested`` with an EditRequest for each file sent, and
    ``open_requested`` with the photos of each open request once ``accepts_open`` is set (a main window
    sets it)."""

    edit_requested = Signal(object)  # EditRequest
    open_requested = Signal(list)  # list[Path]

    def __init__(self, *, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._lock = QLockFile(str(Path(QDir.tempPath()) / f"{self.name}.lock"))
        self.accepts_open = False

    def listen(self) -> bool:
        """Become the running instance. False when another one holds the lock (it is starting or running)."""
        if not self._lock.tryLock(0):
            return False
        # We hold the lock, so any socket file under this name is a leftover of a crashed instance.
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            self._lock.unlock()
            raise OSError(f"Cannot listen on local socket {self.name}: {self._server.errorString()}")
        return True

    def close(self) -> None:
        self._server.close()
        self._lock.unlock()

    @Slot()
    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._on_ready(s))

    def _on_ready(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data())
        try:
            request = json.loads(line)
            opened = [Path(p) for p in request["open"]] if "open" in request else None
            edited = Path(request["edit"]) if opened is None else None
        except (ValueError, KeyError, TypeError):
            log.warning("Ignoring a malformed request on %s: %r", self.name, line[:200])
            socket.disconnectFromServer()
            return
        socket.readyRead.disconnect()
        if edited is not None:
            self.edit_requested.emit(EditRequest(path=edited, socket=socket, parent=socket))
        elif self.accepts_open:
            _reply(socket, {"result": OPENED})
            self.open_requested.emit(opened)
        else:
            _reply(socket, {"result": REFUSED})


def _reply(socket: QLocalSocket, reply: dict[str, str]) -> None:
    """Send one answer line and close the connection (a no-op when the other process has gone)."""
    if socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
        socket.write((json.dumps(reply) + "\n").encode())
        socket.flush()
        socket.disconnectFromServer()


def _send(request: dict, name: str | None) -> QLocalSocket | None:
    """Connect to the running instance and send ``request``; None when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return None
    socket.write((json.dumps(request) + "\n").encode())
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    return socket


def _answer(socket: QLocalSocket, timeout_ms: int) -> dict:
    """The answer line (blocking, no event loop). Raises ConnectionError when the instance goes away (or
    stays silent past ``timeout_ms``; -1: no limit) first, ValueError when the answer is unreadable."""
    while not socket.canReadLine():
        if not socket.waitForReadyRead(timeout_ms):
            raise ConnectionError
    answer = json.loads(bytes(socket.readLine().data()))
    if not isinstance(answer, dict) or "result" not in answer:
        raise ValueError(f"no result in {answer!r}")
    return answer


def hand_off(path: Path, *, name: str | None = None) -> Outcome | None:
    """Send ``path`` to the running instance and wait (blocking, no event loop) until its edit ends.

    Returns None when no instance is running. A running instance that goes away before answering gives
    a FAILED outcome.
    """
    socket = _send({"edit": str(path)}, name)
    if socket is None:
        return None
    try:
        # No time limit: the user may take as long as they like over the review.
        answer = _answer(socket, -1)
    except ConnectionError:
        return Outcome(FAILED, "The running Enlighten Desktop closed before the edit was finished.")
    except ValueError as err:
        return Outcome(FAILED, f"Unreadable answer from the running Enlighten Desktop: {err}")
    return Outcome(str(answer["result"]), str(answer.get("message", "")))


def hand_open(paths: list[Path], *, name: str | None = None) -> bool | None:
    """Send photos (absolute paths; none: just bring the window forward) to the running main window.

    True when it took them, False when it could not (no main window there, or no answer: this process
    then opens its own window), None when no instance is running.
    """
    socket = _send({"open": [str(p) for p in paths]}, name)
    if socket is None:
        return None
    try:
        return _answer(socket, CONNECT_TIMEOUT_MS * 5)["result"] == OPENED
    except (ConnectionError, ValueError):
        return False
