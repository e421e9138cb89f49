"""The Lightroom Classic plug-in's export post-process action under Lua 5.1 (Lightroom's Lua), with the SDK
stood in for (tests/integrations/lightroom_host.lua) and the real `enlighten-desktop edit` doing the work.

Lightroom itself cannot run here: its rendering, catalog and the real SDK objects are not exercised.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "integrations" / "lightroom" / "EnlightenDesktop.lrplugin"
HOST = Path(__file__).with_name("lightroom_host.lua")
# The reference Lua bundled by lupa (tests/integrations/run_lua.py), not a system package.
LUA = [sys.executable, str(Path(__file__).with_name("run_lua.py")), "5.1"]

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="the stand-in host runs POSIX shell commands"),
]


@pytest.fixture
def real_cli(tmp_path, contract_model_path) -> Path:
    path = tmp_path / "Enlighten Desktop.app" / "enlighten-desktop"  # a space, as in a macOS bundle path
    path.parent.mkdir()
    path.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m enlighten_desktop "$@" '
                    f'--model "{contract_model_path}" --tile 32\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def rendered(tmp_path) -> Path:
    """What Lightroom rendered for the export: a 16-bit TIFF named as Lightroom names it."""
    path = tmp_path / "Export" / "IMG_0815 It's dark.tif"  # an apostrophe: the quoting is exercised
    path.parent.mkdir()
    pixels = np.rint(np.random.default_rng(8).uniform(0.02, 0.25, (40, 56, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(path, pixels, photometric="rgb", compression="zlib", metadata=None)
    return path


def run_host(executable: Path, strength: float, lr_format: str, rendered_file: str):
    command = [*LUA, str(HOST), str(PLUGIN), str(executable), str(strength), lr_format, rendered_file]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return [line.split("\t") for line in run.stdout.splitlines()]


def test_each_rendered_photo_is_enhanced_in_place_at_its_bit_depth(real_cli, rendered):
    before = tifffile.imread(rendered)
    events = run_host(real_cli, 0.75, "TIFF", str(rendered))
    assert ["default", "strength", "1"] in events or ["default", "strength", "1.0"] in events
    assert ["section", "Enlighten Desktop", "slider", "enlighten_strength", "enlighten_executable"] in events
    assert ["render", "TIFF", "8"] in events  # the user's own TIFF settings are kept
    command = next(e[1] for e in events if e[0] == "execute")
    assert command.endswith("--apply --strength 0.75")
    assert not any(e[0] == "done" for e in events)  # nothing reported as failed
    after = tifffile.imread(rendered)
    assert after.dtype == np.uint16 and after.mean() > before.mean() * 1.1


def test_formats_the_command_cannot_rewrite_are_rendered_as_16_bit_tiff(real_cli, rendered):
    events = run_host(real_cli, 1.0, "PSD", str(rendered))
    assert ["render", "TIFF", "16"] in events


def test_a_failing_command_fails_that_rendition_with_a_readable_message(tmp_path, rendered):
    before = rendered.read_bytes()
    events = run_host(tmp_path / "not-installed", 1.0, "TIFF", str(rendered))
    done = [e for e in events if e[0] == "done"]
    assert done and done[0][1] == "false" and "exit status 127" in done[0][2]
    assert rendered.read_bytes() == before


def test_a_failed_render_is_passed_on_without_running_anything(real_cli):
    events = run_host(real_cli, 1.0, "TIFF", "-")
    assert ["done", "false", "-"] in events and not any(e[0] == "execute" for e in events)
