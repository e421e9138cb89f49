"""The write path forced to fail at every byte offset it writes (``os.write`` taking only so many bytes, as on
a full disk), and the batch around it: the file that was there stays byte for byte, no partial file or
temporary is left, the item fails with a plain reason and the batch goes on."""

from __future__ import annotations

import fcntl
import logging
import os
import sys

import pytest
from PIL import Image

from enlighten_desktop.engine.batch import run_batch
from enlighten_desktop.engine.batch_state import BatchState
from enlighten_desktop.engine.errors import ImageWriteError
from enlighten_desktop.engine.imageio import read_image, write_image
from enlighten_desktop.engine.item import ItemResult
from enlighten_desktop.engine.outputs import OutputOptions
from enlighten_desktop.engine.safewrite import check_writable_folder, clean_stale_temporaries
from tests.engine.test_batch import run_all, save_photo
from tests.faults import DiskFullAfter, sha256, temporaries


@pytest.fixture
def photo(tmp_path):
    return save_photo(tmp_path / "photo.jpg")


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_a_save_cut_short_at_any_byte_keeps_the_file_it_was_replacing(tmp_path, monkeypatch, suffix):
    source = read_image(save_photo(tmp_path / "in.png", size=(24, 16)))
    target = tmp_path / f"photo{suffix}"
    write_image(target, source.rgb * 0.5, metadata=source.metadata)  # the file a save replaces
    before = sha256(target)
    size = write_image(tmp_path / f"full{suffix}", source.rgb, metadata=source.metadata).stat().st_size
    for room in range(size):
        monkeypatch.setattr(os, "write", DiskFullAfter(room))
        with pytest.raises(ImageWriteError, match=f"Cannot save photo{suffix} in .*: the disk is full"):
            write_image(target, source.rgb, metadata=source.metadata, overwrite=True)
        assert sha256(target) == before, room
        assert temporaries(tmp_path) == [], room
    monkeypatch.setattr(os, "write", DiskFullAfter(size))  # exactly enough room: saved, and it decodes
    write_image(target, source.rgb, metadata=source.metadata, overwrite=True)
    assert read_image(target).rgb.shape == (16, 24, 3)



def image_size(path):
    with Image.open(path) as image:
        return image.size

def test_a_write_that_takes_no_bytes_is_a_failure_not_a_silent_stop(tmp_path, monkeypatch, photo):
    source = read_image(photo)
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(ImageWriteError, match="accepted no more bytes"):
        write_image(tmp_path / "out.jpg", source.rgb, metadata=source.metadata)
    assert not (tmp_path / "out.jpg").exists() and temporaries(tmp_path) == []


def test_a_failed_save_fails_its_item_alone_and_the_batch_goes_on(cpu_model, tmp_path, monkeypatch):
    photos = [
        save_photo(tmp_path / "in" / name, seed=i) for i, name in enumerate(("a.jpg", "b.png", "c.png"))
    ]
    before = {p: sha256(p) for p in photos}
    out = tmp_path / "out"
    steps = run_batch(cpu_model, [(p, p.parent) for p in photos], OutputOptions(folder=out), tile=32)
    results = []
    for event in steps:
        # The disk is full only while the second photo is saved: from the first photo's result (the second is
        # written after it, while the third runs) to the second one's.
        if isinstance(event, ItemResult):
            results.append(event)
            if event.source.name == "a.jpg":
                monkeypatch.setattr(os, "write", DiskFullAfter(100))
            else:
                monkeypatch.undo()
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert results[1].message == f"Cannot save b_enlightened.png in {out}: the disk is full."
    assert not (out / "b_enlightened.png").exists() and temporaries(out) == []
    assert all(image_size(r.output) == (48, 40) for r in results if r.status == "done")
    assert {p: sha256(p) for p in photos} == before


def test_a_state_file_that_can_no_longer_be_saved_is_reported_and_the_batch_goes_on(
    cpu_model, tmp_path, caplog
):
    photos = [save_photo(tmp_path / "in" / f"p{i}.png", seed=i) for i in range(3)]
    state = BatchState(path=tmp_path / "out" / "state.json", settings={"s": 1})
    state.save()
    state.path.chmod(0o444)  # as if the disk had filled: every later save of the state fails
    with caplog.at_level(logging.ERROR):
        results = run_all(
            cpu_model, [(p, p.parent) for p in photos], OutputOptions(folder=tmp_path / "out"), state=state
        )
    assert [r.status for r in results] == ["done"] * 3
    assert "cannot be resumed if interrupted" in caplog.text and "read-only" in caplog.text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX flock marks a temporary file in use")
def test_leftover_temporaries_of_a_killed_save_are_removed_but_one_in_use_is_not(tmp_path, photo):
    dead = tmp_path / ".enlighten-0123abcd-photo.jpg.tmp"  # what kill -9 mid-save leaves: often 0 bytes
    dead.touch()
    legacy = tmp_path / ".photo.jpg.89abcdef.tmp"  # the name earlier versions used
    legacy.touch()
    busy = tmp_path / ".enlighten-fedcba98-other.png.tmp"
    busy.write_bytes(b"being written")
    mine = tmp_path / "holiday.enlighten.tmp"  # the user's, whatever it looks like
    mine.touch()
    with open(busy, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_SH)  # a save in progress (another run) holds it
        assert set(clean_stale_temporaries(tmp_path)) == {dead, legacy}
    assert busy.exists() and mine.exists()


def test_the_next_save_in_a_folder_cleans_its_leftovers(tmp_path, photo):
    folder = tmp_path / "out"
    folder.mkdir()
    dead = folder / ".enlighten-0123abcd-x.jpg.tmp"
    dead.touch()
    source = read_image(photo)
    write_image(folder / "x.jpg", source.rgb, metadata=source.metadata)
    assert not dead.exists()


def test_a_writable_folder_passes_even_when_a_concurrent_save_cleans_the_probe_away(tmp_path, monkeypatch):
    # The batch prepares the next photo (this probe) while the photo before is saved into the same folder,
    # and that save removes the unlocked temporaries it finds: seen in CI as "Cannot save in ...: No such
    # file or directory" for a photo that was then never enhanced.
    real_open = os.open

    def open_then_clean(path, flags, mode=0o777):
        descriptor = real_open(path, flags, mode)
        if flags & os.O_EXCL:  # the probe being made (the cleaner opens files too, to test their locks)
            assert clean_stale_temporaries(tmp_path) == [tmp_path / os.path.basename(path)]
        return descriptor

    monkeypatch.setattr(os, "open", open_then_clean)
    check_writable_folder(tmp_path)
    assert list(tmp_path.iterdir()) == []
