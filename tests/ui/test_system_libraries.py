"""Started where Qt cannot open a window (Linux without its system libraries or without a display), the app
says what is missing and exits 1, instead of Qt aborting the process (exit status 134, a core dump)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's X11 needs are Linux's")
def test_without_a_display_or_libraries_the_app_explains_instead_of_aborting(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    environment.update(PYTHONPATH=str(REPO), HOME=str(tmp_path))  # no settings or queue of the user's
    run = subprocess.run(
        [sys.executable, "-m", "enlighten_desktop"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("Enlighten Desktop cannot open its window: ")
    # Either what this machine lacks, by library and package, or the display.
    assert "sudo apt install " in run.stderr or "there is no display" in run.stderr
    assert "enlighten-desktop enhance" in run.stderr
