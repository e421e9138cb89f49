"""Issue 14's fault cases through the app, with real Qt (offscreen), the real engine and ONNX Runtime, on real
files: the queue's export and "export current" onto a nearly full disk (a 2 MB tmpfs, mounted when the tests
run as root), and an output name that would replace an original. Originals stay byte for byte, nothing partial
is left, the row or the banner says why, and the rest of the queue is done."""

from __future__ import annotations

from PIL import Image

from enlighten_desktop.engine.imageio import read_image
from tests.faults import sha256, temporaries
from tests.ui.conftest import READY_MS, wait_ready, write_photo
from tests.ui.test_batch_queue import run_to_end, statuses


def test_queue_export_onto_a_disk_that_fills_fails_those_rows_and_goes_on(
    make_window, qtbot, tmp_path, small_disk
) -> None:
    big = {"width": 512, "height": 384}  # a result of about 60 KB
    photos = [
        write_photo(tmp_path / "in" / "big1.jpg", seed=1, **big),
        write_photo(tmp_path / "in" / "small.jpg", width=32, height=32),
        write_photo(tmp_path / "in" / "big2.jpg", seed=2, **big),
    ]
    before = {p: sha256(p) for p in photos}
    out = small_disk.root / "out"
    out.mkdir()
    small_disk.fill(leave=16384)  # room for the small result (and its record), not for the large ones
    window = make_window()
    window.queue_panel.options.folder.setText(str(out))
    window.add_paths(photos)
    run_to_end(qtbot, window)

    assert statuses(window) == ["failed", "done", "failed"]
    for row, name in ((0, "big1"), (2, "big2")):
        assert (
            window.queue.item(row).message
            == f"Cannot save {name}_enlightened.jpg in {out}: the disk is full."
        )
    assert read_image(out / "small_enlightened.jpg").rgb.shape == (32, 32, 3)
    assert not (out / "big1_enlightened.jpg").exists() and not (out / "big2_enlightened.jpg").exists()
    assert temporaries(out) == [] and {p: sha256(p) for p in photos} == before


def test_export_current_onto_a_full_disk_says_so_and_leaves_nothing(
    make_window, qtbot, photo, small_disk
) -> None:
    before = sha256(photo)
    out = small_disk.root / "out"
    out.mkdir()
    small_disk.fill(leave=8192)  # half the room the result needs: the save stops part way
    window = make_window()
    window.queue_panel.options.folder.setText(str(out))
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))
    with qtbot.waitSignal(window.session.failed, timeout=READY_MS) as failed:
        window.export_current()
    assert failed.args[0] == f"Cannot save night_enlightened.jpg in {out}: the disk is full."
    assert failed.args[0] in window.banner.text()
    assert list(out.iterdir()) == [] and sha256(photo) == before


def test_an_output_name_that_is_another_photo_fails_that_row_and_replaces_nothing(
    make_window, qtbot, tmp_path
) -> None:
    jpeg = write_photo(tmp_path / "in" / "q0.jpg")
    png = tmp_path / "in" / "q0.png"
    Image.open(write_photo(tmp_path / "other" / "q0.jpg", seed=3)).save(png)
    other = write_photo(tmp_path / "in" / "q1.jpg", seed=4)
    before = {p: sha256(p) for p in (jpeg, png)}
    window = make_window()
    options = window.queue_panel.options
    options.template.setText("{stem}")
    options.format.setCurrentIndex(options.format.findData("PNG"))
    window.add_paths([jpeg, png, other])
    run_to_end(qtbot, window)

    # q0.jpg would be saved as q0.png, and q0.png over itself: both are photos of the queue.
    assert statuses(window) == ["failed", "failed", "done"]
    assert f"{png} is an original photo of this batch" in window.queue.item(0).message
    assert {p: sha256(p) for p in (jpeg, png)} == before
    assert read_image(tmp_path / "in" / "q1.png").rgb.shape[:2] == (192, 256)
