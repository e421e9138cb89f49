"""Where the bundled resources (models, icons, samples) live, frozen or not.

A PyInstaller build unpacks data files under ``sys._MEIPASS`` and the spec copies ``resources/`` there
under the same name; an unfrozen run (source checkout or editable install) finds ``resources/`` at the
repository root, one level above this package. ``ENLIGHTEN_RESOURCES`` overrides both (useful for a
system-wide install that keeps the models elsewhere).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES_ENV = "ENLIGHTEN_RESOURCES"


def resources_dir() -> Path:
    """The folder holding ``models/``, ``icons/`` and ``samples/``."""
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def models_dir() -> Path:
    return resources_dir() / "models"


def icons_dir() -> Path:
    return resources_dir() / "icons"


def samples_dir() -> Path:
    return resources_dir() / "samples"
