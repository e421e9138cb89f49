"""integrations/darktable/enlighten.lua under a real Lua 5.4 interpreter, with darktable's API stood in for
(tests/integrations/darktable_host.lua) and the real `enlighten-desktop edit` doing the work.

darktable itself is not installable here; what its real API does differently is not covered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "integrations" / "darktable" / "enlighten.lua"
HOST = Path(__file__).with_name("darktable_host.lua")
# The reference Lua bundled by lupa (tests/integrations/run_lua.py), not a system package.
LUA = [sys.executable, str(Path(__file__).with_name("run_lua.py")), "5.4"]

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="the stand-in host runs POSIX shell commands"),
]


def launcher(folder: Path, body: str) -> Path:
    """An executable standing where enlighten-desktop would be installed."""
    path = folder / "enlighten-desktop"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def real_cli(tmp_path, contract_model_path) -> Path:
    """The real command line (this checkout, the contract test model, small tiles)."""
    return launcher(tmp_path, f'PYTHONPATH="{REPO}" exec "{sys.executable}" -m enlighten_desktop "$@" '
                              f'--model "{contract_model_path}" --tile 32')


@pytest.fixture
def shoot(tmp_path) -> dict[str, Path]:
    """A film roll holding a raw file, and darktable's 16-bit TIFF export of it in its temp folder."""
    roll, temp = tmp_path / "2025-11-02 Lisbon", tmp_path / "darktable-export"
    roll.mkdir()
    temp.mkdir()
    raw = roll / "DSC_0042.NEF"
    raw.write_bytes(b"raw sensor data, never to be touched")
    exported = temp / "DSC_0042.tif"
    pixels = np.rint(np.random.default_rng(4).uniform(0.02, 0.25, (48, 64, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(exported, pixels, photometric="rgb", metadata=None)
    return {"roll": roll, "raw": raw, "exported": exported}


def run_host(executable: Path, shoot: dict[str, Path], *, mode: str = "apply", strength: int = 100):
    run = subprocess.run([*LUA, str(HOST), str(SCRIPT), str(executable), mode, str(strength),
                          str(shoot["roll"]), shoot["raw"].name, str(shoot["exported"])],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return [line.split("\t") for line in run.stdout.splitlines()]


def test_apply_mode_imports_the_enhanced_16_bit_copy_grouped_with_the_untouched_raw(real_cli, shoot):
    exported_pixels = tifffile.imread(shoot["exported"])
    raw_bytes = shoot["raw"].read_bytes()
    events = run_host(real_cli, shoot, strength=60)

    result = shoot["roll"] / "DSC_0042_enlightened.tif"
    assert ["supported", "true", "false"] in events
    command = next(e[1] for e in events if e[0] == "command")
    assert command.endswith(f"edit '{shoot['exported']}' --apply --strength 0.60")
    assert ["import", str(result)] in events
    assert ["group", str(result), str(shoot["raw"])] in events
    assert ["tag", "Trips|Lisbon", str(result)] in events
    assert not any(e[0] == "tag" and e[1].startswith("darktable") for e in events)
    assert shoot["raw"].read_bytes() == raw_bytes
    assert not shoot["exported"].exists()  # moved beside the raw
    saved = tifffile.imread(result)
    assert saved.dtype == np.uint16 and saved.mean() > exported_pixels.mean() * 1.1
    assert events[-1] == ["print", "Enlighten Desktop: 1 imported, 0 not saved, 0 failed"]


def test_a_second_export_does_not_overwrite_the_first_result(real_cli, shoot):
    (shoot["roll"] / "DSC_0042_enlightened.tif").write_bytes(b"an earlier result")
    events = run_host(real_cli, shoot)
    assert ["import", str(shoot["roll"] / "DSC_0042_enlightened_01.tif")] in events
    assert (shoot["roll"] / "DSC_0042_enlightened.tif").read_bytes() == b"an earlier result"


def test_review_closed_without_saving_discards_the_copy_and_imports_nothing(tmp_path, shoot):
    # Stands in for the review window: the user closes it without saving (exit status 3).
    review = launcher(tmp_path, 'echo "$@" > "$(dirname "$0")/args"; exit 3')
    events = run_host(review, shoot, mode="review")
    assert (tmp_path / "args").read_text().split() == ["edit", str(shoot["exported"])]  # no --apply
    assert not any(e[0] in ("import", "group", "error") for e in events)
    assert not shoot["exported"].exists()
    assert sorted(p.name for p in shoot["roll"].iterdir()) == ["DSC_0042.NEF"]
    assert events[-1] == ["print", "Enlighten Desktop: 0 imported, 1 not saved, 0 failed"]


def test_a_failed_edit_is_reported_and_leaves_the_roll_as_it_was(real_cli, shoot):
    shoot["exported"].write_bytes(b"II*\0 truncated export")
    events = run_host(real_cli, shoot)
    errors = [e for e in events if e[0] == "error"]
    assert errors and "exited with 1" in errors[0][1]
    assert not any(e[0] == "import" for e in events)
    assert sorted(p.name for p in shoot["roll"].iterdir()) == ["DSC_0042.NEF"]
    assert events[-1] == ["print", "Enlighten Desktop: 0 imported, 0 not saved, 1 failed"]
