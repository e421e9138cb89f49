"""Render resources/icons/enlighten.svg into the platform icon files the installers need, and commit them:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

packaging/icons/enlighten.ico (Windows executable and installer: 16-256 px) and enlighten.icns (macOS
bundle: 16-1024 px). Linux desktop files use the SVG itself. Rerun it when the SVG changes.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "enlighten.svg"
OUT = ROOT / "packaging" / "icons"


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    """The SVG drawn at size x size px, transparent background, as a Pillow RGBA image."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(BytesIO(bytes(buffer.data()))).convert("RGBA")


def main() -> int:
    QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not a valid SVG")
    OUT.mkdir(parents=True, exist_ok=True)
    big = render(renderer, 1024)
    render(renderer, 256).save(OUT / "enlighten.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    # Pillow builds every ICNS size from the largest image it is given.
    big.save(OUT / "enlighten.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
