"""One path from a photo to a file: the command line, the app's "export current" and "export queue" and the
editor hand-off's in-place save write the same bytes for the same photo and settings."""

from __future__ import annotations

import io
import shutil

from enlighten_desktop.cli import main
from enlighten_desktop.engine.outputs import OutputOptions
from tests.ui.conftest import wait_ready, write_photo

BATCH_MS = 30_000


def run_cli(*args: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(list(args), out=out, err=err) == 0, err.getvalue()


def test_cli_app_exports_and_in_place_edit_write_identical_bytes(make_window, qtbot, tmp_path, settings,
                                                                 contract_model_path) -> None:
    settings.preview_side = 128  # a preview first, then the full-size run that the exports reuse
    photo = write_photo(tmp_path / "in" / "night.jpg")
    model, tile = str(contract_model_path), str(settings.tile)

    run_cli("enhance", str(photo), "-o", str(tmp_path / "cli"), "--model", model, "--tile", tile)
    edited = tmp_path / "edit" / "night.jpg"
    edited.parent.mkdir()
    shutil.copyfile(photo, edited)
    run_cli("edit", str(edited), "--apply", "--model", model, "--tile", tile)

    window = make_window()
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))
    window.queue_panel.options.set_options(OutputOptions(folder=tmp_path / "current"))
    with qtbot.waitSignal(window.session.exported, timeout=BATCH_MS):
        window.export_current()
    window.queue_panel.options.set_options(OutputOptions(folder=tmp_path / "queue"))
    with qtbot.waitSignal(window.runner.finished, timeout=BATCH_MS):
        window.queue_panel.export.click()

    written = {name: (tmp_path / name / "night_enlightened.jpg").read_bytes()
               for name in ("cli", "current", "queue")}
    written["edit"] = edited.read_bytes()
    assert written["cli"] != photo.read_bytes()  # enhanced, not copied
    assert all(data == written["cli"] for data in written.values()), {k: len(v) for k, v in written.items()}
