"""Build the frozen app with the real spec and run it, so that a missing hidden import, data file, Qt plug-in
or provider library fails CI instead of a user's install. About a minute to build on 2 cores (measured 33-47 s
on a busy 2-core box); needs the ``packaging`` extra (PyInstaller)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from enlighten_desktop.engine.imageio import read_image
from scripts.make_selftest_reference import make_reference

pytest.importorskip("PyInstaller", reason="the packaging extra (PyInstaller) is not installed")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
SHIPPED_MODEL = ROOT / "resources" / "models" / "enlightengan.onnx"


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The onedir bundle built into a temporary folder; returns its executable."""
    work = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
         str(ROOT / "packaging" / "enlighten_desktop.spec")],
        check=True, cwd=ROOT,
    )
    exe = work / "dist" / "enlighten-desktop" / ("enlighten-desktop" + (".exe" if os.name == "nt" else ""))
    assert exe.is_file()
    return exe


def run_app(exe: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    # A temporary HOME: the frozen app must find everything inside its own bundle, never in this checkout.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("ENLIGHTEN_RESOURCES", None)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=home, timeout=300)


def test_frozen_selftest_passes(frozen_app: Path, contract_model_path: Path, tmp_path: Path) -> None:
    reference = make_reference(model_path=contract_model_path, out_dir=tmp_path / "reference").parent
    done = run_app(frozen_app, "selftest", "--model", str(contract_model_path), "--reference", str(reference),
                   home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # The sample came from inside the bundle, and the report names the provider that really ran.
    assert f"Sample: {frozen_app.parent}" in done.stdout
    assert "Provider that ran: CPUExecutionProvider" in done.stdout


@pytest.mark.skipif(not SHIPPED_MODEL.is_file(), reason="the shipped model is not in resources/models yet")
def test_frozen_selftest_with_the_shipped_model(frozen_app: Path, tmp_path: Path) -> None:
    done = run_app(frozen_app, "selftest", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_frozen_enhance_processes_real_photos(
    frozen_app: Path, contract_model_path: Path, tmp_path: Path
) -> None:
    """A 16-bit zlib TIFF and a JPEG: Pillow, tifffile and imagecodecs' codecs all work frozen."""
    photos = [SAMPLES / "rocket_night.tif", SAMPLES / "cat_dusk.jpg"]
    done = run_app(frozen_app, "enhance", *map(str, photos), "-o", str(tmp_path / "out"), "--model",
                   str(contract_model_path), home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for photo in photos:
        source = read_image(photo)
        result = read_image(tmp_path / "out" / f"{photo.stem}_enlightened{photo.suffix}")
        assert result.rgb.shape == source.rgb.shape and result.metadata.bits == source.metadata.bits
        assert result.rgb.mean() > source.rgb.mean() + 0.05  # visibly brighter


def test_gui_starts_frozen(frozen_app: Path, contract_model_path: Path, tmp_path: Path) -> None:
    """The window opens (offscreen platform plug-in), loads the model chosen in its settings for the photo
    it was given, and keeps running until it is closed."""
    settings = tmp_path / "config" / "Enlighten" / "Enlighten Desktop.conf"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[model]\npath={contract_model_path}\n", encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen"}
    log = tmp_path / "app.log"
    with log.open("w") as stream:
        app = subprocess.Popen([str(frozen_app), str(SAMPLES / "cat_dusk.jpg")], env=env, cwd=tmp_path,
                               stdout=stream, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while app.poll() is None and "Loaded" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert app.poll() is None, log.read_text()
        finally:
            app.terminate()
            app.wait(timeout=30)
    output = log.read_text()
    assert f"Loaded {contract_model_path}" in output, output
    assert "Traceback" not in output, output


def test_bundle_leaves_out_the_training_stack(frozen_app: Path) -> None:
    internal = frozen_app.parent / "_internal"
    names = {path.name.split(".")[0].lower() for path in internal.iterdir()}
    assert not names & {"torch", "torchvision", "tensorboard", "scipy", "training", "onnx", "matplotlib"}
    qt_modules = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.*") if p.is_file()}
    assert qt_modules <= {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtNetwork"}, qt_modules
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
