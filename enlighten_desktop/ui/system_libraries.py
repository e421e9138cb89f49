"""Before Qt starts on Linux: are the system libraries and the display it needs there?

Without them Qt does not raise an error a program can catch: importing PySide6's QtGui fails on a missing
``libEGL.so.1``, and the X11 ("xcb") platform plugin aborts the process ("could not load the Qt platform
plugin xcb ... Aborted (core dumped)") on a missing ``libxcb-cursor.so.0`` and its kin, or when there is no
display. This module imports no Qt, so it can run first and name what is missing and the packages that
provide it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

# Shared libraries that PySide6's QtGui needs on every platform plugin, and the Debian/Ubuntu packages.
GUI_LIBRARIES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11.so.6": "libx11-6",
}
# And what the X11 platform plugin (libqxcb.so, libQt6XcbQpa.so.6) needs besides.
XCB_LIBRARIES = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will pick its X11 plugin: asked for, or by default outside a Wayland session."""
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def window_problem(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> str | None:
    """What keeps Qt from opening a window here, as a message for the user; None when nothing does (or
    when this is not Linux, where Qt brings what it needs)."""
    if not platform.startswith("linux"):
        return None
    xcb = _uses_xcb(environ)
    needed = {**GUI_LIBRARIES, **(XCB_LIBRARIES if xcb else {})}
    missing = {soname: package for soname, package in needed.items() if not _loadable(soname)}
    if missing:
        return (
            "Enlighten Desktop cannot open its window: Qt needs system libraries that are not installed: "
            f"{', '.join(missing)}. On Debian or Ubuntu install them with: sudo apt install "
            f"{' '.join(dict.fromkeys(missing.values()))} (other distributions name the packages alike). "
            "The command line (enlighten-desktop enhance ...) works without them."
        )
    if xcb and not environ.get("DISPLAY"):
        return (
            "Enlighten Desktop cannot open its window: there is no display (DISPLAY is not set). Start it "
            "from a desktop session, or use the command line (enlighten-desktop enhance ...)."
        )
    return None
