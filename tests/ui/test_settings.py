"""Settings are typed, remembered across instances, and isolated from the user's own settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from enlighten_desktop.engine.filters import Filters
from enlighten_desktop.engine.formats import Format
from enlighten_desktop.engine.outputs import OutputOptions
from enlighten_desktop.ui.models import EngineConfig
from enlighten_desktop.ui.settings import AppSettings


def test_values_survive_a_new_instance_on_the_same_store(tmp_path: Path) -> None:
    ini = str(tmp_path / "s.ini")
    first = AppSettings(store=QSettings(ini, QSettings.Format.IniFormat))
    first.provider = "cpu"
    first.strength = 0.35
    first.recursive = False
    first.model_path = tmp_path / "m.onnx"
    first.set_output_options(OutputOptions(folder=tmp_path / "out", format=Format.TIFF, bits=16, quality=80,
                                           template="{stem}-lit"))
    first.store.sync()

    second = AppSettings(store=QSettings(ini, QSettings.Format.IniFormat))
    assert second.provider == "cpu"
    assert second.strength == 0.35
    assert second.recursive is False
    assert second.model_path == tmp_path / "m.onnx"
    assert second.output_options() == OutputOptions(folder=tmp_path / "out", format=Format.TIFF, bits=16,
                                                     quality=80, template="{stem}-lit")


def test_defaults_and_garbage_fall_back_to_typed_defaults(tmp_path: Path) -> None:
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    store.setValue("model/tile", "not a number")
    store.setValue("adjust/strength", 7)
    store.setValue("adjust/smoothing", 9)
    store.setValue("adjust/luminance_noise", -3)
    settings = AppSettings(store=store)
    assert settings.tile is None  # the engine's automatic tile, not a number copied from it
    assert settings.strength == 1.0  # clamped to [0, 1]
    assert settings.smoothing == 4.0  # clamped to what the engine accepts
    # Automatic shadow smoothing, photo colour and colour noise reduction on unless turned off; the garbage
    # clamped into filters the engine accepts once the level counts.
    assert settings.filters == Filters(auto_smoothing=True, photo_colour=1.0, colour_noise=1.0,
                                       luminance_noise=0.0)
    store.setValue("adjust/auto_smoothing", False)
    store.setValue("adjust/photo_colour", 2.5)
    assert settings.filters == Filters(smoothing=4.0, photo_colour=1.0, colour_noise=1.0, luminance_noise=0.0)
    assert settings.provider == "auto"
    assert settings.model_path is None
    assert settings.output_options() == OutputOptions()
    assert settings.engine_config() == EngineConfig()  # one set of defaults, built in one place


def test_a_model_given_on_the_command_line_overrides_the_chosen_one(tmp_path: Path) -> None:
    settings = AppSettings(store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.model_path = tmp_path / "chosen.onnx"
    assert settings.engine_config().model_path == tmp_path / "chosen.onnx"
    assert settings.engine_config(model_path=tmp_path / "given.onnx").model_path == tmp_path / "given.onnx"
