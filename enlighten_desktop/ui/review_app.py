"""``enlighten-desktop edit FILE`` with a window: hand FILE to the running instance, or become it.

The running instance, whether the main window (``review_host.serve_other_instances``, from ``app.run``) or
the process that opened the first review window, listens for later ``edit`` calls (``single_instance``) and
opens a review window for each file they send, sharing its loaded models; each caller waits for its own
file's outcome. An ``edit`` process that became the running instance exits when its last window closes,
with its own file's outcome as exit status (``edit_command.EXIT_STATUS``). It has no main window, so it
refuses the photos a later plain launch offers, and that launch opens its own window.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from enlighten_desktop.cli import build_parser
from enlighten_desktop.edit_command import EXIT_STATUS, FAILED
from enlighten_desktop.engine.inplace import edit_path
from enlighten_desktop.ui.application import make_application
from enlighten_desktop.ui.review_host import ReviewHost
from enlighten_desktop.ui.settings import AppSettings
from enlighten_desktop.ui.single_instance import InstanceServer, Outcome, hand_off

log = logging.getLogger(__name__)

START_ATTEMPTS = 20  # x 250 ms: how long to wait for an instance that is starting up at the same moment


def _hand_off_or_listen(path: Path, server: InstanceServer) -> Outcome | None:
    """The outcome from the running instance, or None once this process has become the running one."""
    for _attempt in range(START_ATTEMPTS):
        outcome = hand_off(path, name=server.name)
        if outcome is not None:
            return outcome
        if server.listen():
            return None
        time.sleep(0.25)  # another instance holds the start-up lock and is not listening yet
    return Outcome(FAILED, "Another Enlighten Desktop is starting but does not answer; try again.")


def run_edit(argv: list[str]) -> int:
    """``enlighten-desktop edit FILE [options]`` without --apply; returns the exit status."""
    args = build_parser().parse_args(["edit", *argv])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = edit_path(args.file)
    app = make_application()
    server = InstanceServer(parent=app)
    outcome = _hand_off_or_listen(path, server)
    if outcome is None:
        host = ReviewHost(settings=AppSettings(), model_path=args.model, parent=app)
        server.edit_requested.connect(host.open_request)
        own = host.open(path)
        app.exec()
        server.close()
        outcome = own.outcome or Outcome(FAILED, "The window closed without an answer.")
    # On stderr, for the host's log: what became of the file.
    log.log(logging.ERROR if outcome.result == FAILED else logging.INFO, "%s", outcome.message)
    return EXIT_STATUS.get(outcome.result, EXIT_STATUS[FAILED])


def main() -> int:
    """``enlighten-desktop-edit FILE``: what Lightroom's "Edit In" and Capture One's "Edit With" start, since
    they pass the file alone, with no sub-command. Same as ``enlighten-desktop edit FILE``."""
    return run_edit(sys.argv[1:])
