#!/usr/bin/env python3
"""GIMP 3 plug-in: Filters > Light and Shadow > Enlighten (low-light)...

Sends the active layer through Enlighten Desktop at 16 bits per channel and adds the result as a new layer
above it; the original layer is left as it was. The layer's pixels are read from its GEGL buffer as
perceptual (sRGB-curve) 16-bit RGB(A), written to an uncompressed 16-bit TIFF in a private temporary folder,
enhanced by ``enlighten-desktop edit TIFF --apply --strength S`` (which keeps the file's format and bit
depth), read back and set into the new layer's buffer. No 8-bit step anywhere.

Install: copy the folder ``enlighten-desktop`` (this file inside it, same name, executable on Linux/macOS)
into a plug-ins folder listed in Edit > Preferences > Folders > Plug-ins, e.g.
``~/.config/GIMP/3.0/plug-ins/`` or ``%APPDATA%\\GIMP\\3.0\\plug-ins\\``, then restart GIMP.
The ``enlighten-desktop`` command must be on the PATH, or named by the ENLIGHTEN_DESKTOP environment variable.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from array import array

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GimpUi, GLib, GObject  # noqa: E402 - after require_version

PROCEDURE = "plug-in-enlighten-desktop"
EXECUTABLE_VARIABLE = "ENLIGHTEN_DESKTOP"

# --- uncompressed 16-bit TIFF, the hand-over format (pure Python: GIMP's Python has no numpy) -------------
_SHORT, _LONG = 3, 4
_EXTRA_SAMPLES_UNASSOCIATED_ALPHA = 2


def write_tiff16(path: str, width: int, height: int, channels: int, samples: bytes) -> None:
    """Write ``samples`` (height x width x channels native-endian uint16, RGB or RGBA with straight alpha)
    as a little-endian, uncompressed, single-strip TIFF."""
    if channels not in (3, 4):
        raise ValueError("only RGB and RGBA layers are handed over")
    if len(samples) != width * height * channels * 2:
        raise ValueError("sample data does not match the layer size")
    data = array("H", samples)
    if sys.byteorder == "big":
        data.byteswap()
    pixels = data.tobytes()
    tags = [
        (256, _LONG, 1, width), (257, _LONG, 1, height), (258, _SHORT, channels, None),
        (259, _SHORT, 1, 1), (262, _SHORT, 1, 2), (273, _LONG, 1, None), (277, _SHORT, 1, channels),
        (278, _LONG, 1, height), (279, _LONG, 1, len(pixels)), (284, _SHORT, 1, 1),
    ]
    if channels == 4:
        tags.append((338, _SHORT, 1, _EXTRA_SAMPLES_UNASSOCIATED_ALPHA))
    ifd_offset = 8
    ifd_size = 2 + 12 * len(tags) + 4
    bits_offset = ifd_offset + ifd_size
    pixels_offset = bits_offset + 2 * channels
    entries = b""
    for tag, kind, count, value in tags:
        if tag == 258:
            value = bits_offset  # one 16 per channel, stored after the IFD
        elif tag == 273:
            value = pixels_offset
        short = kind == _SHORT and count == 1
        packed = struct.pack("<H", value) + b"\0\0" if short else struct.pack("<I", value)
        entries += struct.pack("<HHI", tag, kind, count) + packed
    with open(path, "wb") as fh:
        fh.write(b"II*\0" + struct.pack("<I", ifd_offset))
        fh.write(struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0))
        fh.write(struct.pack(f"<{channels}H", *([16] * channels)))
        fh.write(pixels)


def read_tiff16(path: str) -> tuple[int, int, int, bytes]:
    """(width, height, channels, native-endian uint16 samples) of an uncompressed 16-bit TIFF, as
    ``enlighten-desktop edit`` writes it back (little- or big-endian, one or more strips)."""
    with open(path, "rb") as fh:
        content = fh.read()
    order = {b"II": "<", b"MM": ">"}.get(content[:2])
    if order is None or struct.unpack_from(order + "H", content, 2)[0] != 42:
        raise ValueError(f"{path} is not a classic TIFF")
    (ifd,) = struct.unpack_from(order + "I", content, 4)
    (count,) = struct.unpack_from(order + "H", content, ifd)
    tags: dict[int, list[int]] = {}
    for index in range(count):
        tag, kind, n, raw = struct.unpack_from(order + "HHI4s", content, ifd + 2 + 12 * index)
        size = {_SHORT: 2, _LONG: 4}.get(kind)
        if size is None:
            continue
        fmt = order + ("H" if kind == _SHORT else "I") * n
        where = raw if size * n <= 4 else content[struct.unpack(order + "I", raw)[0]:][: size * n]
        tags[tag] = list(struct.unpack(fmt, where[: size * n]))
    width, height, channels = tags[256][0], tags[257][0], tags.get(277, [1])[0]
    if tags.get(259, [1])[0] != 1 or set(tags.get(258, [16])) != {16} or tags.get(284, [1])[0] != 1:
        raise ValueError(f"{path} is not an uncompressed, chunky 16-bit TIFF")
    pieces = zip(tags[273], tags[279], strict=True)  # StripOffsets, StripByteCounts
    strips = b"".join(content[offset: offset + size] for offset, size in pieces)
    data = array("H", strips[: width * height * channels * 2])
    if (order == "<") != (sys.byteorder == "little"):
        data.byteswap()
    return width, height, channels, data.tobytes()


# --- the hand-over ----------------------------------------------------------------------------------------
def find_executable() -> str:
    """The enlighten-desktop command: $ENLIGHTEN_DESKTOP, else the one on the PATH."""
    named = os.environ.get(EXECUTABLE_VARIABLE)
    found = named if named and os.path.isfile(named) else shutil.which("enlighten-desktop")
    if not found:
        raise RuntimeError(
            "enlighten-desktop was not found. Install Enlighten Desktop, or set the environment variable "
            f"{EXECUTABLE_VARIABLE} to the full path of enlighten-desktop (.exe on Windows); restart GIMP."
        )
    return found


def enhance_pixels(samples: bytes, width: int, height: int, channels: int, *, strength: float,
                   executable: str) -> bytes:
    """Enhance 16-bit RGB(A) ``samples`` through ``executable edit --apply``; returns samples of the same
    layout (alpha unchanged). Raises RuntimeError with the command's own message when it fails."""
    with tempfile.TemporaryDirectory(prefix="gimp-enlighten-") as folder:
        path = os.path.join(folder, "layer.tif")
        write_tiff16(path, width, height, channels, samples)
        command = [executable, "edit", path, "--apply", "--strength", f"{strength:.3f}"]
        hidden = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console window flashing up on Windows
        run = subprocess.run(command, capture_output=True, text=True, creationflags=hidden)
        if run.returncode != 0:
            message = (run.stderr or run.stdout).strip().splitlines()
            raise RuntimeError(message[-1] if message else f"enlighten-desktop exited with {run.returncode}")
        result = read_tiff16(path)
    if result[:3] != (width, height, channels):
        raise RuntimeError("enlighten-desktop returned an image of another size")
    return result[3]


# --- GIMP -------------------------------------------------------------------------------------------------
def _failure(procedure, message: str):
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(message))


def enlighten_layer(image, drawable, strength: float, executable: str):
    """Add the enhanced copy of ``drawable`` as a new layer just above it, at the same offsets."""
    width, height = drawable.get_width(), drawable.get_height()
    channels = 4 if drawable.has_alpha() else 3
    babl_format = "R'G'B'A u16" if channels == 4 else "R'G'B' u16"
    rect = Gegl.Rectangle.new(0, 0, width, height)
    samples = bytes(drawable.get_buffer().get(rect, 1.0, babl_format, Gegl.AbyssPolicy.CLAMP))
    enhanced = enhance_pixels(samples, width, height, channels, strength=strength, executable=executable)
    kind = Gimp.ImageType.RGBA_IMAGE if channels == 4 else Gimp.ImageType.RGB_IMAGE
    layer = Gimp.Layer.new(image, f"{drawable.get_name()} (enlightened)", width, height, kind, 100.0,
                           Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, drawable.get_parent(), image.get_item_position(drawable))
    _, x, y = drawable.get_offsets()
    layer.set_offsets(x, y)
    buffer = layer.get_buffer()
    buffer.set(rect, babl_format, enhanced)
    buffer.flush()
    layer.update(0, 0, width, height)
    return layer


class EnlightenDesktop(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        procedure.set_image_types("RGB*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("_Enlighten (low-light)...")
        procedure.add_menu_path("<Image>/Filters/Light and Shadow")
        procedure.set_documentation(
            "Brighten a low-light photo with Enlighten Desktop",
            "Adds the active layer, brightened by Enlighten Desktop at 16 bits per channel, as a new layer "
            "above it.",
            name,
        )
        procedure.set_attribution("Enlighten Desktop", "Enlighten Desktop", "2026")
        procedure.add_double_argument("strength", "_Strength", "0 = original, 1 = full effect",
                                      0.0, 1.0, 1.0, GObject.ParamFlags.READWRITE)
        return procedure

    def run(self, procedure, run_mode, image, drawables, config, run_data):
        if len(drawables) != 1 or not isinstance(drawables[0], Gimp.Layer):
            return _failure(procedure, "Select exactly one layer to enlighten.")
        if run_mode == Gimp.RunMode.INTERACTIVE:
            GimpUi.init(PROCEDURE)
            dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config)
            dialog.fill(None)
            accepted = dialog.run()
            dialog.destroy()
            if not accepted:
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        Gimp.progress_init("Enlightening...")
        image.undo_group_start()
        try:
            enlighten_layer(image, drawables[0], config.get_property("strength"), find_executable())
        except (RuntimeError, OSError, ValueError) as err:
            return _failure(procedure, str(err))
        finally:
            image.undo_group_end()
            Gimp.progress_end()
        Gimp.displays_flush()
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


if __name__ == "__main__":
    Gimp.main(EnlightenDesktop.__gtype__, sys.argv)
