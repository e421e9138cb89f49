"""``python -m enlighten_desktop`` and the ``enlighten-desktop`` command.

With a sub-command (enhance, info, bench, ...) or an option such as --help it runs the CLI; with nothing
or only photo paths it opens the app (with those photos). The GUI is imported only then, so the CLI
works where Qt is missing or there is no display.
"""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    # Frozen Windows/macOS builds re-execute this entry point for worker processes; this lets them run.
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    from enlighten_desktop.cli import COMMANDS

    opens_window = args[:1] == ["edit"] and not {"--apply", "-h", "--help"} & set(args)
    if not opens_window and args and (args[0] in COMMANDS or args[0].startswith("-")):
        from enlighten_desktop.cli import main as cli_main

        return cli_main(args)
    from enlighten_desktop.ui.system_libraries import window_problem

    problem = window_problem()
    if problem:
        # Said before Qt loads: a missing library or display otherwise aborts the process inside Qt.
        sys.stderr.write(f"{problem}\n")
        return 1
    if opens_window:
        # The review window of the editor hand-off; cli.py stays free of Qt.
        from enlighten_desktop.ui.review_app import run_edit

        return run_edit(args[1:])
    from enlighten_desktop.ui.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
