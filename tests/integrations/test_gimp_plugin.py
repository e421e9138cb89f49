"""integrations/gimp/enlighten-desktop/enlighten-desktop.py without GIMP: the gi.repository modules (Gimp,
GimpUi, Gegl, GLib, GObject) are stood in for; the TIFF hand-over, the real `enlighten-desktop edit --apply`
and the layer bookkeeping are real. GIMP 3 is not installable here, so the real host API is not exercised.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import tifffile

from enlighten_desktop.engine.filters import DEFAULT_FILTERS
from enlighten_desktop.engine.imageio import ImageMetadata, read_image, write_image
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import apply_strength, enhance, run_to_end

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "integrations" / "gimp" / "enlighten-desktop" / "enlighten-desktop.py"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in launcher is a shell script")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []


def stand_in_gi(log: Recorder) -> dict[str, types.ModuleType]:
    """Just enough of GIMP 3's introspected API for the plug-in to run; every call is recorded."""
    gimp, gegl, glib, gobject, gimpui = (types.ModuleType(n) for n in ("Gimp", "Gegl", "GLib", "GObject",
                                                                         "GimpUi"))

    class Layer:
        def __init__(self, name="layer", width=0, height=0, samples=b"", alpha=True, offsets=(0, 0)):
            self.name, self.width, self.height, self.alpha, self.offsets = name, width, height, alpha, offsets
            self.buffer = Buffer(samples)
            self.parent = None

        @staticmethod
        def new(image, name, width, height, kind, opacity, mode):
            log.calls.append(("Layer.new", name, width, height, kind, opacity, mode))
            return Layer(name, width, height, alpha=kind == "RGBA_IMAGE")

        def get_width(self): return self.width
        def get_height(self): return self.height
        def has_alpha(self): return self.alpha
        def get_name(self): return self.name
        def get_parent(self): return self.parent
        def get_buffer(self): return self.buffer
        def get_offsets(self): return True, *self.offsets

        def set_offsets(self, x, y):
            self.offsets = (x, y)

        def update(self, *area):
            log.calls.append(("update", self.name, *area))

    class Buffer:
        def __init__(self, samples: bytes) -> None:
            self.samples, self.formats = samples, []

        def get(self, rect, scale, babl_format, abyss):
            self.formats.append(babl_format)
            return self.samples

        def set(self, rect, babl_format, data):
            self.formats.append(babl_format)
            self.samples = bytes(data)

        def flush(self):
            log.calls.append(("flush",))

    gimp.Layer = Layer
    gimp.PlugIn = type("PlugIn", (), {})
    gimp.ImageType = types.SimpleNamespace(RGB_IMAGE="RGB_IMAGE", RGBA_IMAGE="RGBA_IMAGE")
    gimp.LayerMode = types.SimpleNamespace(NORMAL="NORMAL")
    gimp.PDBStatusType = types.SimpleNamespace(SUCCESS="SUCCESS", EXECUTION_ERROR="EXECUTION_ERROR",
                                               CANCEL="CANCEL")
    gimp.RunMode = types.SimpleNamespace(INTERACTIVE="INTERACTIVE", NONINTERACTIVE="NONINTERACTIVE")
    gimp.progress_init = lambda text: log.calls.append(("progress_init", text))
    gimp.progress_end = lambda: log.calls.append(("progress_end",))
    gimp.displays_flush = lambda: log.calls.append(("displays_flush",))
    gimp.main = lambda *args: pytest.fail("Gimp.main must only run when GIMP starts the plug-in")
    gegl.Rectangle = types.SimpleNamespace(new=lambda x, y, w, h: (x, y, w, h))
    gegl.AbyssPolicy = types.SimpleNamespace(CLAMP="CLAMP")
    glib.Error = lambda message="": ("GLib.Error", message)
    gobject.ParamFlags = types.SimpleNamespace(READWRITE="READWRITE")
    repository = types.ModuleType("gi.repository")
    for module in (gimp, gegl, glib, gobject, gimpui):
        setattr(repository, module.__name__, module)
    gi = types.ModuleType("gi")
    gi.require_version = lambda name, version: log.calls.append(("require_version", name, version))
    gi.repository = repository
    return {"gi": gi, "gi.repository": repository}


class FakeImage:
    def __init__(self, log: Recorder, layer) -> None:
        self.log, self.layers = log, [layer]

    def get_item_position(self, item):
        return self.layers.index(item)

    def insert_layer(self, layer, parent, position):
        self.log.calls.append(("insert_layer", layer.name, parent, position))
        self.layers.insert(position, layer)

    def undo_group_start(self):
        self.log.calls.append(("undo_group_start",))

    def undo_group_end(self):
        self.log.calls.append(("undo_group_end",))


class FakeProcedure:
    def new_return_values(self, status, error):
        return status, error[1]


class FakeConfig:
    def __init__(self, strength: float) -> None:
        self.strength = strength

    def get_property(self, name):
        assert name == "strength"
        return self.strength


@pytest.fixture
def log() -> Recorder:
    return Recorder()


@pytest.fixture
def plugin(monkeypatch, log):
    for name, module in stand_in_gi(log).items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("enlighten_gimp_plugin", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert ("require_version", "Gimp", "3.0") in log.calls
    return module


@pytest.fixture
def launcher(tmp_path, contract_model_path, monkeypatch) -> Path:
    path = tmp_path / "bin" / "enlighten-desktop"
    path.parent.mkdir()
    path.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m enlighten_desktop "$@" '
                    f'--model "{contract_model_path}" --tile 32\n')
    path.chmod(0o755)
    monkeypatch.setenv("ENLIGHTEN_DESKTOP", str(path))
    return path


def rgba16(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(9)
    pixels = np.rint(rng.uniform(0.02, 0.3, (height, width, 4)) * 65535).astype(np.uint16)
    pixels[..., 3] = rng.integers(0, 65536, (height, width))
    return pixels


def test_the_hand_over_tiff_is_read_by_the_engine_sample_for_sample(plugin, tmp_path):
    pixels = rgba16(20, 30)
    path = tmp_path / "layer.tif"
    plugin.write_tiff16(str(path), 30, 20, 4, pixels.tobytes())
    np.testing.assert_array_equal(tifffile.imread(path), pixels)
    loaded = read_image(path)
    assert loaded.metadata.bits == 16 and loaded.metadata.compression == "none"
    np.testing.assert_array_equal(np.rint(loaded.alpha * 65535), pixels[..., 3])


def test_the_engine_s_rewrite_is_read_back_sample_for_sample(plugin, tmp_path):
    pixels = rgba16(300, 40)  # tall enough for several strips
    metadata = ImageMetadata(format="TIFF", bits=16, icc_profile=None, exif=None, xmp=None,
                             compression="none")
    path = write_image(tmp_path / "out.tif", pixels[..., :3] / 65535, alpha=pixels[..., 3] / 65535,
                       metadata=metadata)
    width, height, channels, samples = plugin.read_tiff16(str(path))
    assert (width, height, channels) == (40, 300, 4)
    np.testing.assert_array_equal(np.frombuffer(samples, np.uint16).reshape(300, 40, 4), pixels)


def test_the_layer_comes_back_enhanced_at_16_bits_as_a_new_layer_above_it(plugin, log, launcher,
                                                                          contract_model_path):
    pixels = rgba16(36, 52)
    layer = plugin.Gimp.Layer("Night street", 52, 36, pixels.tobytes(), alpha=True, offsets=(5, 7))
    image = FakeImage(log, layer)
    status = plugin.EnlightenDesktop().run(FakeProcedure(), "NONINTERACTIVE", image, [layer], FakeConfig(0.5),
                                           None)
    assert status == ("SUCCESS", "")

    new = image.layers[0]
    assert new is not layer and new.name == "Night street (enlightened)" and new.offsets == (5, 7)
    assert ("insert_layer", new.name, None, 0) in log.calls  # just above the source layer
    assert layer.buffer.formats == ["R'G'B'A u16"] and new.buffer.formats == ["R'G'B'A u16"]
    assert layer.buffer.samples == pixels.tobytes()  # the source layer is untouched
    result = np.frombuffer(new.buffer.samples, np.uint16).reshape(36, 52, 4)
    np.testing.assert_array_equal(result[..., 3], pixels[..., 3])
    original = pixels[..., :3].astype(np.float32) / 65535
    model = EnhancerModel.load(contract_model_path, provider="cpu")
    enhanced = run_to_end(enhance(model, original, tile=32, filters=DEFAULT_FILTERS)).enhanced
    expected = apply_strength(original, enhanced, 0.5)
    assert np.abs(result[..., :3] / 65535 - expected).max() <= 0.51 / 65535
    names = [call[0] for call in log.calls]
    assert names.index("undo_group_start") < names.index("insert_layer") < names.index("undo_group_end")


def test_without_enlighten_desktop_installed_the_user_is_told_how_and_nothing_is_added(plugin, log,
                                                                                    monkeypatch, tmp_path):
    monkeypatch.delenv("ENLIGHTEN_DESKTOP", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    layer = plugin.Gimp.Layer("Night", 16, 16, rgba16(16, 16).tobytes())
    image = FakeImage(log, layer)
    status, message = plugin.EnlightenDesktop().run(FakeProcedure(), "NONINTERACTIVE", image, [layer],
                                                    FakeConfig(1.0), None)
    assert status == "EXECUTION_ERROR" and "ENLIGHTEN_DESKTOP" in message
    assert image.layers == [layer] and ("undo_group_end",) in log.calls and ("progress_end",) in log.calls


def test_a_failing_edit_reports_the_command_s_own_message(plugin, log, tmp_path, monkeypatch):
    broken = tmp_path / "enlighten-desktop"
    broken.write_text("#!/bin/sh\necho 'Error: The bundled model is not installed.' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("ENLIGHTEN_DESKTOP", str(broken))
    layer = plugin.Gimp.Layer("Night", 16, 16, rgba16(16, 16).tobytes())
    image = FakeImage(log, layer)
    status, message = plugin.EnlightenDesktop().run(FakeProcedure(), "NONINTERACTIVE", image, [layer],
                                                    FakeConfig(1.0), None)
    assert (status, message) == ("EXECUTION_ERROR", "Error: The bundled model is not installed.")
    assert image.layers == [layer]
