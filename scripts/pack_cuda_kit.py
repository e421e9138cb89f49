"""Pack what the CUDA check needs on a GPU machine lent by the device tool, in parts one call can carry.

    .venv/bin/python scripts/pack_cuda_kit.py [--python 3.12] [--part-mib 40] [--out .device_cuda]

The GPU machines cannot reach the network and their Python (3.12) has neither ``onnxruntime-gpu`` nor the
app's image libraries (imagecodecs, pillow-heif, rawpy); one call carries at most 64 MiB with the repository
(about 17 MiB), while the ``onnxruntime-gpu`` wheel alone is 244 MiB (its CUDA provider library is 284 MB).
So the wheels are downloaded here (pip, by name and exact version: the app itself never downloads) into one
tar file, cut into parts of ``--part-mib``; each device call carries one part and appends it to a file on the
warm machine (``scripts/device_cuda_check.sh receive``), and the last call installs and runs the check
(``scripts/device_cuda_check.sh run``). ``onnxruntime-gpu`` 1.31.1 needs CUDA 13 and cuDNN 9, which the GPU
machines' image brings with PyTorch. Prints the calls to make. ``--here`` packs only ``onnxruntime-gpu`` for
this machine's Python (its virtual environment has the rest), to test the chain here: without CUDA libraries
the check shows the fallback to the CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ("onnxruntime-gpu==1.31.1", "imagecodecs==2026.10.10", "pillow-heif==1.8.1", "rawpy==0.28.0")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64")


def download(folder: Path, python: str, wheels: tuple[str, ...]) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", python, "--implementation", "cp", "-d", str(folder), *wheels]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command, check=True)
    return sorted(folder.glob("*.whl"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--here", action="store_true", help="pack for this machine, to test the chain")
    parser.add_argument("--part-mib", type=int, default=40, help="size of each carried part")
    parser.add_argument("--out", type=Path, default=ROOT / ".device_cuda")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("part_*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as temp:
        kit = Path(temp) / "kit.tar"
        with tarfile.open(kit, "w") as archive:
            python = f"{sys.version_info.major}.{sys.version_info.minor}" if args.here else "3.12"
            for wheel in download(Path(temp), python, WHEELS[:1] if args.here else WHEELS):
                archive.add(wheel, arcname=wheel.name)
        data = kit.read_bytes()
    size = args.part_mib << 20
    parts = [data[start:start + size] for start in range(0, len(data), size)]
    for index, part in enumerate(parts):
        (args.out / f"part_{index:02d}").write_bytes(part)
    (args.out / "kit.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")
    relative = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    sys.stdout.write(f"{len(data) / 2**20:.0f} MiB in {len(parts)} parts under {relative}. Device calls, "
                     "each within 30 s of the one before (the machine stays warm that long):\n")
    script = "bash scripts/device_cuda_check.sh"
    for index in range(len(parts)):
        part = f"{relative}/part_{index:02d}"
        sys.stdout.write(f'  run(command="{script} receive {part}", carry=["{part}"])\n')
    sys.stdout.write(f'  run(command="{script} run", carry=["{relative}/kit.sha256"], timeout_s=400)\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
