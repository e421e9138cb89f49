"""``python -m training --help`` lists the training package's sub-commands and what each does (it printed a
bare usage line and exited 2)."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.test_cli import REPO


def test_training_help_lists_the_sub_commands_and_exits_0():
    run = subprocess.run(
        [sys.executable, "-m", "training", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    for command in ("train", "export", "quantize", "evaluate", "fetch-vgg16"):
        assert any(
            line.split()[:1] == [command] and len(line.split()) > 3 for line in run.stdout.splitlines()
        )
    bare = subprocess.run(
        [sys.executable, "-m", "training"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert bare.returncode == 2 and "commands:" in bare.stderr
