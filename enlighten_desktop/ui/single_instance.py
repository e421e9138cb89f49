"""One running app per user: a second ``enlighten-desktop edit FILE`` hands FILE to the running one.

The first instance listens on a local socket (QLocalServer: a Unix domain socket on Linux and macOS, a named
pipe on Windows). A later instance connects, sends one request and waits for the answer, which comes when
the user has saved or cancelled that file, so the host that launched it learns the outcome from its exit
status as if it had opened the window itself.

Protocol, one UTF-8 JSON object per line: request ``{"edit": "/absolute/path"}``; answer
``{"result": "saved" | "not saved" | "failed", "message": "..."}``.

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
        if self._socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
            reply = {"result": outcome.result, "message": outcome.message}
            self._socket.write((json.dumps(reply) + "\n").encode())
            self._socket.flush()
            self._socket.disconnectFromServer()


class EditServer(QObject):
    """Listens for other instances; emits ``edit_requested`` with an EditRequest for each file sent."""

    edit_requested = Signal(object)  # EditRequest

    def __init__(self, *, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._lock = QLockFile(str(Path(QDir.tempPath()) / f"{self.name}.lock"))

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
            path = Path(json.loads(line)["edit"])
        except (ValueError, KeyError, TypeError):
            log.warning("Ignoring a malformed request on %s: %r", self.name, line[:200])
            socket.disconnectFromServer()
            return
        socket.readyRead.disconnect()
        self.edit_requested.emit(EditRequest(path=path, socket=socket, parent=socket))


def hand_off(path: Path, *, name: str | None = None) -> Outcome | None:
    """Send ``path`` to the running instance and wait (blocking, no event loop) until its edit ends.

    Returns None when no instance is running. A running instance that goes away before answering gives
    a FAILED outcome.
    """
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return None
    socket.write((json.dumps({"edit": str(path)}) + "\n").encode())
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    while not socket.canReadLine():
        # -1: the user may take as long as they like over the review.
        if not socket.waitForReadyRead(-1):
            return Outcome(FAILED, "The running Enlighten Desktop closed before the edit was finished.")
    try:
        reply = json.loads(bytes(socket.readLine().data()))
        return Outcome(str(reply["result"]), str(reply.get("message", "")))
    except (ValueError, KeyError, TypeError) as err:
        return Outcome(FAILED, f"Unreadable answer from the running Enlighten Desktop: {err}")
