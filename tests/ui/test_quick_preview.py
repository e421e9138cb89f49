"""A big JPEG's preview is on screen before the photo is read at full resolution, upright as the full read."""

from __future__ import annotations

import numpy as np
from PIL import Image

from enlighten_desktop.engine import item
from tests.ui.conftest import qimage_array, wait_ready


def test_a_big_jpegs_preview_is_shown_before_its_full_resolution_read(make_window, qtbot, tmp_path, settings,
                                                                      monkeypatch) -> None:
    # Stored 1600 x 1200 and sideways (EXIF orientation 6: viewers turn it 90 degrees clockwise), with a
    # bright block in the stored top-left corner, which is the top-right corner upright.
    stored = np.full((1200, 1600, 3), 30, np.uint8)
    stored[:300, :400] = 230
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = tmp_path / "sideways.jpg"
    Image.fromarray(stored).save(photo, quality=92, exif=exif.tobytes())
    settings.preview_side = 256

    events: list[str] = []
    real_read = item.read_image

    def recording_read(*args, **kwargs):  # the engine's own read, noting when a full-resolution read starts
        events.append("full read")
        return real_read(*args, **kwargs)

    monkeypatch.setattr(item, "read_image", recording_read)
    window = make_window()
    loaded: list[tuple] = []
    shown: list[tuple[int, int]] = []
    window.session.photo_loaded.connect(lambda before, width, height: loaded.append((before, width, height)))

    def on_result(images) -> None:
        events.append("result shown")
        shown.append((images[0].width(), images[0].height()))

    window.session.result_ready.connect(on_result)
    wait_ready(qtbot, window, lambda: window.add_paths([photo]))

    assert events == ["result shown", "full read", "result shown"]  # the preview first, then the full result
    assert shown == [(192, 256), (1200, 1600)]
    (before, width, height), = loaded
    assert (width, height) == (1200, 1600)  # upright
    proxy = qimage_array(before[0]).astype(np.float32)
    assert proxy.shape == (256, 192, 3)
    assert proxy[:60, -44:].mean() > 200 and proxy[:60, :96].mean() < 60  # the bright block is top right
    # The proxy is the full-resolution original, reduced: same orientation, same picture.
    assert window.compare.primary.left is window.session.original.before  # the view swapped it in
    original = Image.fromarray(qimage_array(window.session.original.before[0]))
    assert original.size == (1200, 1600)
    reduced = np.asarray(original.resize((192, 256), Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(proxy - reduced).mean() < 3
