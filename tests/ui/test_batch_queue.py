"""The batch queue with the real engine: bad files fail alone, cancel stops within a tile, the queue
survives a crash, finished items are not redone."""

from __future__ import annotations

import shutil

from enlighten_desktop.ui.queue_model import QueueStatus
from tests.ui.conftest import RunCounter, write_photo

BATCH_MS = 30_000  # generous: the box is shared; these are not timing assertions


def statuses(window) -> list[str]:
    return [item.status for item in window.queue.items()]


def run_to_end(qtbot, window) -> None:
    with qtbot.waitSignal(window.runner.finished, timeout=BATCH_MS):
        window.queue_panel.export.click()


def test_a_corrupt_file_fails_alone_and_the_batch_goes_on(make_window, qtbot, tmp_path,
                                                           patched_dialogs) -> None:
    good = write_photo(tmp_path / "in" / "good.jpg")
    bad = tmp_path / "in" / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10)
    good2 = write_photo(tmp_path / "in" / "good2.jpg", seed=2)
    window = make_window()
    out = tmp_path / "out"
    window.queue_panel.options.folder.setText(str(out))
    window.add_paths([good, bad, good2])
    run_to_end(qtbot, window)

    assert statuses(window) == ["done", "failed", "done"]
    failed = window.queue.item(1)
    assert "bad.jpg" in failed.message  # a message a photographer can act on, naming the file
    # The results, and the hidden record of them that lets a later overwrite tell them from originals.
    assert sorted(p.name for p in out.iterdir()) == [
        ".enlighten-outputs.json", "good2_enlightened.jpg", "good_enlightened.jpg",
    ]
    assert good.read_bytes() and bad.exists()  # originals untouched
    assert "1 failed" in window.banner.text()
    window.queue_panel.open_folder.click()
    assert patched_dialogs.opened_urls == [str(out)]


def test_cancel_stops_the_running_item_within_a_tile(make_window, qtbot, tmp_path, settings) -> None:
    settings.tile = 32  # 8 x 6 = 48 tiles for the 256 x 192 photo
    # The first photo is the one on screen, whose result the queue reuses; the second one runs the model.
    shown = write_photo(tmp_path / "in" / "shown.jpg")
    slow = write_photo(tmp_path / "in" / "slow.jpg", seed=3)
    window = make_window()
    window.add_paths([shown, slow])
    # The on-screen preview of the photo shares the model: let it finish before counting batch runs.
    qtbot.waitUntil(lambda: window.session.display_current and window.session.result_is_full,
                    timeout=BATCH_MS)
    (model,) = window.models.loaded()
    counter = RunCounter(model)
    window.queue_panel.export.click()
    qtbot.waitUntil(lambda: counter.calls >= 2, timeout=BATCH_MS)
    window.queue_panel.cancel_all.click()
    at_cancel = counter.calls
    qtbot.waitUntil(lambda: statuses(window) == ["done", "cancelled"], timeout=BATCH_MS)
    assert counter.calls <= at_cancel + 1  # at most the tile that was already running
    assert counter.calls < 48
    assert not (tmp_path / "in" / "slow_enlightened.jpg").exists()

    window.queue_panel.retry.click()
    assert statuses(window) == ["done", "pending"]
    run_to_end(qtbot, window)
    assert statuses(window) == ["done", "done"] and (tmp_path / "in" / "slow_enlightened.jpg").is_file()


def test_the_photo_on_screen_is_written_from_its_result_without_running_the_model_again(
    make_window, qtbot, tmp_path, settings
) -> None:
    settings.tile = 32
    photo = write_photo(tmp_path / "in" / "shown.jpg")
    window = make_window()
    window.add_paths([photo])
    qtbot.waitUntil(lambda: window.session.display_current and window.session.result_is_full,
                    timeout=BATCH_MS)
    (model,) = window.models.loaded()
    counter = RunCounter(model)
    window.queue_panel.options.folder.setText(str(tmp_path / "reused"))
    run_to_end(qtbot, window)
    assert counter.calls == 0 and statuses(window) == ["done"]

    # The same photo and settings enhanced afresh (the file changed since it was shown: same pixels, new
    # stamp) give the very same bytes.
    photo.touch()
    window.queue_panel.options.folder.setText(str(tmp_path / "fresh"))
    window.queue.update(0, status=QueueStatus.PENDING)
    run_to_end(qtbot, window)
    assert counter.calls == 48
    reused, fresh = (tmp_path / name / "shown_enlightened.jpg" for name in ("reused", "fresh"))
    assert reused.read_bytes() == fresh.read_bytes()


def test_the_queue_survives_a_crash_and_finished_items_are_not_redone(make_window, qtbot, tmp_path,
                                                                       settings) -> None:
    photos = [write_photo(tmp_path / "in" / f"p{i}.jpg", seed=i) for i in range(3)]
    first = make_window()
    first.add_paths(photos)
    state_file = settings.queue_state_path
    crash_image: list[bytes] = []

    def snapshot_when_second_runs() -> bool:
        # What a crash at this instant would leave on disk: item 1 done, item 2 running.
        if statuses(first)[:2] == ["done", "running"] and not crash_image:
            crash_image.append(state_file.read_bytes())
        return bool(crash_image)

    first.queue_panel.export.click()
    qtbot.waitUntil(snapshot_when_second_runs, timeout=BATCH_MS)
    first.close()
    shutil.copyfile(state_file, tmp_path / "after-quit.json")
    state_file.write_bytes(crash_image[0])
    done_output = tmp_path / "in" / "p0_enlightened.jpg"
    written = done_output.stat().st_mtime_ns

    second = make_window()
    assert [item.source for item in second.queue.items()] == [p.resolve() for p in photos]
    assert statuses(second) == ["done", "pending", "pending"]  # the interrupted item is to be redone
    assert second.queue.item(0).output == done_output.resolve() or second.queue.item(0).output == done_output
    run_to_end(qtbot, second)
    assert statuses(second) == ["done", "done", "done"]
    assert done_output.stat().st_mtime_ns == written  # not redone
    assert all((tmp_path / "in" / f"p{i}_enlightened.jpg").is_file() for i in range(3))


def test_pause_keeps_items_pending_and_remove_drops_them(make_window, qtbot, tmp_path, settings) -> None:
    settings.tile = 32
    photos = [write_photo(tmp_path / "in" / f"q{i}.jpg", seed=i) for i in range(3)]
    window = make_window()
    window.add_paths(photos)
    window.queue_panel.export.click()
    qtbot.waitUntil(lambda: statuses(window)[0] == "running", timeout=BATCH_MS)
    window.queue_panel.pause.click()
    qtbot.waitUntil(lambda: window.runner.current is None, timeout=BATCH_MS)
    assert statuses(window) == ["pending", "pending", "pending"] and not window.runner.running
    window.queue_panel.table.selectRow(1)
    window.queue_panel.remove.click()
    assert [item.source.name for item in window.queue.items()] == ["q0.jpg", "q2.jpg"]
    run_to_end(qtbot, window)
    assert statuses(window) == ["done", "done"]
    assert not (tmp_path / "in" / "q1_enlightened.jpg").exists()


def test_a_restored_photo_that_was_deleted_is_marked_failed_and_the_rest_still_runs(
    make_window, qtbot, tmp_path, settings
) -> None:
    photos = [write_photo(tmp_path / "in" / f"p{i}.jpg", seed=i) for i in range(2)]
    first = make_window()
    first.add_paths(photos)
    first.close()
    photos[0].unlink()
    second = make_window()
    assert statuses(second) == ["failed", "pending"]
    assert "p0.jpg was not found" in second.queue.item(0).message
    run_to_end(qtbot, second)
    assert statuses(second) == ["failed", "done"]
    assert (tmp_path / "in" / "p1_enlightened.jpg").is_file()


def test_photos_opened_over_a_restored_queue_are_the_ones_shown(make_window, qtbot, tmp_path) -> None:
    restored = [write_photo(tmp_path / "in" / f"r{i}.jpg", seed=i) for i in range(2)]
    first = make_window()
    first.add_paths(restored)
    first.close()
    second = make_window()
    assert second.session.path == restored[0].resolve()  # the restored queue opens on its first photo
    opened = write_photo(tmp_path / "new" / "opened.jpg", seed=5)
    second.add_paths([opened])
    assert second.session.path == opened.resolve()
    assert second.queue_panel.table.currentIndex().row() == second.queue.row_of(opened.resolve())
    second.add_paths([restored[1]])  # already queued: shown all the same, not queued twice
    assert second.session.path == restored[1].resolve() and second.queue.rowCount() == 3
