"""Batches on real files: inputs, naming and mirroring, no overwrite, a corrupt file failing alone, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enlighten_desktop.bench import synthetic_photo
from enlighten_desktop.engine.attention import default_attention
from enlighten_desktop.engine.batch import BatchState, batch_settings, collect_inputs, run_batch
from enlighten_desktop.engine.errors import CancelledError
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.imageio import read_image
from enlighten_desktop.engine.item import ItemResult, process_item
from enlighten_desktop.engine.outputs import NewFiles, OutputOptions, output_path
from enlighten_desktop.engine.pipeline import CancelToken, run_to_end


def save_photo(path: Path, *, seed: int = 0, size: tuple[int, int] = (48, 40)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.rint(synthetic_photo(*size, seed=seed) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def run_all(model, items, options, **kwargs) -> list[ItemResult]:
    return run_to_end(run_batch(model, items, options, tile=32, **kwargs))


@pytest.fixture
def shoot(tmp_path):
    """A folder of photos as a photographer has it: sub-folders, an earlier result, a note."""
    root = tmp_path / "shoot"
    save_photo(root / "a.jpg", seed=1)
    save_photo(root / "b.png", seed=2)
    save_photo(root / "day2" / "c.png", seed=3)
    save_photo(root / "a_enlightened.jpg", seed=4)
    save_photo(root / "a_enlightened_attention.png", seed=4)
    (root / "notes.txt").write_text("not a photo")
    return root


def test_folders_yield_supported_photos_but_not_our_outputs(shoot):
    flat = collect_inputs([shoot], recursive=False)
    assert [f.name for f, _ in flat] == ["a.jpg", "b.png"]
    deep = collect_inputs([shoot], recursive=True)
    assert [f.relative_to(shoot).as_posix() for f, _ in deep] == ["a.jpg", "b.png", "day2/c.png"]
    assert {root for _, root in deep} == {shoot}
    explicit = collect_inputs([shoot / "notes.txt", shoot / "a.jpg", shoot / "a.jpg"], recursive=False)
    assert explicit == [(shoot / "notes.txt", shoot), (shoot / "a.jpg", shoot)]


def test_an_output_folder_inside_the_input_is_not_read_back(shoot):
    options = OutputOptions(folder=shoot / "out")
    save_photo(shoot / "out" / "old.png")
    assert all("out" not in f.parts for f, _ in collect_inputs([shoot], recursive=True, options=options))


def test_names_follow_the_template_and_mirror_sub_folders(tmp_path):
    root = tmp_path / "in"
    assert output_path(root / "x" / "y" / "p.jpg", root, OutputOptions(folder=tmp_path / "out")) == (
        tmp_path / "out" / "x" / "y" / "p_enlightened.jpg"
    )
    assert output_path(root / "p.JPG", root, OutputOptions(format=Format.PNG)) == root / "p_enlightened.png"
    assert output_path(root / "p.heic", root, OutputOptions()) == root / "p_enlightened.tif"
    named = OutputOptions(template="bright-{stem}")
    assert output_path(root / "p.tiff", root, named) == root / "bright-p.tiff"


def test_a_corrupt_file_in_the_middle_fails_alone(cpu_model, shoot, tmp_path):
    broken = shoot / "b.png"
    broken.write_bytes(broken.read_bytes()[:60])  # truncated mid-file
    options = OutputOptions(folder=tmp_path / "out")
    results = run_all(cpu_model, collect_inputs([shoot], recursive=True, options=options), options)
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert "b.png" in results[1].message
    assert (tmp_path / "out" / "a_enlightened.jpg").is_file()
    written = np.asarray(Image.open(tmp_path / "out" / "day2" / "c_enlightened.png"), dtype=np.float32)
    original = np.asarray(Image.open(shoot / "day2" / "c.png"), dtype=np.float32)
    assert written.shape == original.shape and written.mean() > original.mean() + 20


def test_existing_outputs_are_skipped_unless_overwrite(cpu_model, shoot, tmp_path):
    items = [(shoot / "b.png", shoot)]
    first = run_all(cpu_model, items, OutputOptions())
    target = first[0].output
    written = target.read_bytes()
    again = run_all(cpu_model, items, OutputOptions())
    assert again[0].status == "skipped" and "already exists" in again[0].message
    forced = run_all(cpu_model, items, OutputOptions(overwrite=True), strength=0.5)
    assert forced[0].status == "done" and target.read_bytes() != written


def test_overwrite_leaves_a_result_edited_since_it_was_written(cpu_model, shoot):
    items = [(shoot / "b.png", shoot)]
    (first,) = run_all(cpu_model, items, OutputOptions())
    first.output.write_bytes(b"precious edit")  # retouched by the user: no longer this program's result
    (forced,) = run_all(cpu_model, items, OutputOptions(overwrite=True))
    assert forced.status == "failed" and "was not written by Enlighten Desktop" in forced.message
    assert first.output.read_bytes() == b"precious edit"


def test_strength_zero_writes_the_original_and_attention_is_saved(cpu_model, shoot):
    (result,) = run_all(cpu_model, [(shoot / "b.png", shoot)], OutputOptions(save_attention=True), strength=0)
    assert np.array_equal(np.asarray(Image.open(result.output)), np.asarray(Image.open(shoot / "b.png")))
    saved = read_image(shoot / "b_enlightened_attention.png")
    assert saved.metadata.bits == 16
    expected = default_attention(read_image(shoot / "b.png").rgb)
    np.testing.assert_allclose(saved.rgb[..., 1], expected, atol=1 / 65535)


def test_an_attention_edit_painted_at_preview_size_brightens_and_protects_where_painted(cpu_model, tmp_path):
    photo = save_photo(tmp_path / "in" / "p.png", size=(192, 128))
    edit = np.zeros((64, 96), dtype=np.float32)  # painted on a half-size preview
    # The photo darkens towards the top left, where the default attention is already near 1.
    edit[44:56, 70:90] = 0.8  # brighten: photo rows 88-112, columns 140-180
    edit[4:16, 4:20] = -0.8  # protect: photo rows 8-32, columns 8-40
    written = {}
    for name, given in (("plain", None), ("edited", edit)):
        steps = process_item(cpu_model, photo, NewFiles(OutputOptions(folder=tmp_path / name)),
                             tile=32, attention_edit=given)
        written[name] = np.asarray(Image.open(run_to_end(steps).output), dtype=np.float32)
    plain, edited = written["plain"], written["edited"]
    brightened, protected = (slice(90, 110), slice(142, 178)), (slice(10, 30), slice(10, 38))
    # In 8-bit levels; measured +26 (attention there was ~0.8 already, so the edit is clipped at 1) and -91.
    assert edited[brightened].mean() > plain[brightened].mean() + 10
    assert edited[protected].mean() < plain[protected].mean() - 40
    far = (slice(96, 128), slice(0, 48))  # beyond the model's reach from both strokes
    assert np.array_equal(edited[far], plain[far])


def test_an_interrupted_batch_resumes_without_redoing_finished_items(cpu_model, shoot, tmp_path):
    options = OutputOptions(folder=tmp_path / "out", overwrite=True)
    items = collect_inputs([shoot], recursive=True, options=options)
    settings = batch_settings(cpu_model, options, strength=1.0, tile=32)
    state_file = tmp_path / "out" / "state.json"
    token = CancelToken()
    steps = run_batch(cpu_model, items, options, state=BatchState.open(state_file, settings=settings),
                      tile=32, cancel=token)
    finished = []
    for event in steps:
        if isinstance(event, ItemResult):
            token.cancel()  # quit after the first photo
            finished.append(event)
            break
    with pytest.raises(CancelledError):  # after the photo enhanced meanwhile is written, if there was one
        finished += list(steps)
    assert 1 <= len(finished) < len(items) and {r.status for r in finished} == {"done"}
    outputs = {r.output: r.output.stat().st_mtime_ns for r in finished}
    resumed = run_all(cpu_model, items, options, state=BatchState.open(state_file, settings=settings))
    assert [r.status for r in resumed] == ["done"] * 3
    assert all("earlier run" in r.message for r in resumed[:len(finished)])
    assert "earlier run" not in (resumed[-1].message or "")
    assert {path: path.stat().st_mtime_ns for path in outputs} == outputs
    other = BatchState.open(state_file, settings={**settings, "strength": 0.5})
    assert not other.is_done(shoot / "a.jpg")


def test_the_original_is_never_replaced_even_with_overwrite(cpu_model, shoot):
    before = (shoot / "b.png").read_bytes()
    options = OutputOptions(template="{stem}", overwrite=True)
    assert [f.name for f, _ in collect_inputs([shoot], recursive=False, options=options)] == [
        "a.jpg", "a_enlightened.jpg", "a_enlightened_attention.png", "b.png",
    ]
    (result,) = run_all(cpu_model, [(shoot / "b.png", shoot)], options)
    assert result.status == "failed" and "original" in result.message
    assert (shoot / "b.png").read_bytes() == before


def test_the_next_photo_is_read_and_the_one_before_written_beside_the_model(cpu_model, shoot, tmp_path,
                                                                            monkeypatch):
    import threading

    from enlighten_desktop.engine import item, outputs

    where: list[tuple[str, str]] = []

    def noted(stage, call):
        def run(*args, **kwargs):
            where.append((stage, threading.current_thread().name))
            return call(*args, **kwargs)
        return run

    monkeypatch.setattr(item, "read_image", noted("read", item.read_image))
    monkeypatch.setattr(outputs, "write_image", noted("write", outputs.write_image))
    options = OutputOptions(folder=tmp_path / "out")
    items = collect_inputs([shoot / "a.jpg", shoot / "b.png", shoot / "day2" / "c.png"], recursive=False,
                           options=options)
    events = list(run_batch(cpu_model, items, options, tile=32))
    results = [e for e in events if isinstance(e, ItemResult)]
    assert [r.source.name for r in results] == ["a.jpg", "b.png", "c.png"]  # in order, all written
    assert all(r.status == "done" and r.output.is_file() for r in results)
    assert {stage: name.split("_")[0] for stage, name in where} == {"read": "enlighten-read",
                                                                    "write": "enlighten-write"}
    # Photo a is written while b runs: its result comes after b's first progress.
    order = [e.source.name if isinstance(e, ItemResult) else None for e in events]
    assert order.index("a.jpg") > next(i for i, e in enumerate(events) if getattr(e, "index", 0) == 1)
