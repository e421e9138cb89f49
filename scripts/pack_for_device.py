"""Pack what a GPU training run needs into a git-ignored folder small enough to travel with the repository.

The device tool copies the working tree plus carried ignored paths, 64 MiB in all, to a machine without
network; the training images (92 MB) and the VGG-16 weights (59 MB) do not fit as they are. This writes:

- ``train_low/`` and ``train_normal/``: every image as lossy WebP, first oriented by its EXIF tag and
  downscaled (bicubic) to a short side of 400 px exactly as ``training.data.UnpairedCrops`` does with
  ``--short-side 400`` (the paper's ~600x400), so the trainer's own resize is a no-op on them; smaller images
  are kept at their size and the trainer upscales them as it does the originals. The folder names are those
  of the real data, so a checkpoint's "trained_on" reads the same; file stems are kept, so the sorted file
  order, and with it every seeded draw, is that of the original folders;
- ``vgg16_conv5_1_fp16.pt``: torchvision's VGG-16 ``features.0`` .. ``features.24`` (conv1_1 .. conv5_1, all
  the self-feature-preserving loss uses) in fp16; scripts/device_weights.py turns it back into fp32 there;
- ``PACK.json``: what was packed and how.

It prints the pack's size and what travels with it (tracked and untracked-not-ignored files) against the
tool's limit, and fails when that is over ``--budget-mib``.

    python scripts/pack_for_device.py [--low ../shared/data/train_low] [--normal ../shared/data/train_normal]

``--extra FOLDER`` packs that one folder instead, the same way, into ``.device_pack_extra/FOLDER_NAME``, for a
call of its own: ``train_normal_sice`` (9.6 MiB at the normal images' quality) does not fit beside the main
pack in one call.
A call that carries it leaves it on the machine, and the next call (within the machine's idle time) carries
the main pack and trains with ``--normal-extra .device_pack_extra/train_normal_sice``:

    python scripts/pack_for_device.py --extra ../shared/data/train_normal_sice
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image, ImageOps

from training.data import list_images
from training.vgg_weights import default_weights_path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / ".device_pack"
EXTRA_PACK = ROOT / ".device_pack_extra"
MANIFEST = "PACK.json"
VGG_FILE = "vgg16_conv5_1_fp16.pt"
LAST_VGG_INDEX = 24  # conv5_1 in torchvision's VGG-16 `features`
MIB = 2**20


def resized(image: Image.Image, short_side: int) -> Image.Image:
    """``image`` downscaled as ``UnpairedCrops._crop`` resizes it (same sizes, same filter); smaller images
    are returned as they are, since the trainer upscales them from the original anyway."""
    w, h = image.size
    if min(w, h) <= short_side:
        return image
    scale = short_side / min(w, h)
    size = (max(short_side, round(w * scale)), max(short_side, round(h * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


def pack_images(source: Path, target: Path, *, short_side: int, quality: int) -> int:
    """Write every image of ``source`` as ``target/<stem>.webp``; returns the bytes written."""
    files = list_images(source)
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        raise SystemExit(f"{source} holds files that differ only in their suffix: they would collide as WebP")
    target.mkdir(parents=True)
    total = 0
    for path in files:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        out = target / f"{path.stem}.webp"
        resized(image, short_side).save(out, "WEBP", quality=quality, method=6)
        total += out.stat().st_size
    return total


def pack_vgg(source: Path, target: Path) -> int:
    """The convolutions up to conv5_1 of a torchvision VGG-16 state dict, in fp16; returns the bytes."""
    state = torch.load(source, map_location="cpu", weights_only=True)
    kept = {
        k: v.half()
        for k, v in state.items()
        if k.startswith("features.") and int(k.split(".")[1]) <= LAST_VGG_INDEX
    }
    if f"features.{LAST_VGG_INDEX}.weight" not in kept:
        raise SystemExit(f"{source} has no features.{LAST_VGG_INDEX} (conv5_1): not a VGG-16 state dict")
    torch.save(kept, target)
    return target.stat().st_size


def git_bytes(*args: str) -> int:
    """Bytes of the files ``git ls-files ARGS`` lists (what the device tool sends besides carried paths)."""
    listed = subprocess.run(["git", "ls-files", "-z", *args], cwd=ROOT, capture_output=True, check=True)
    paths = [ROOT / p for p in listed.stdout.decode().split("\0") if p]
    return sum(p.lstat().st_size for p in paths if p.is_file() or p.is_symlink())


def main(argv: list[str]) -> int:
    data = ROOT.parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--low", type=Path, default=data / "train_low")
    parser.add_argument("--normal", type=Path, default=data / "train_normal")
    parser.add_argument("--vgg16-weights", type=Path, default=default_weights_path())
    parser.add_argument("--extra", type=Path, help="pack only this folder, for a call of its own (see above)")
    parser.add_argument("--out", type=Path, help=f"default: {PACK} ({EXTRA_PACK} with --extra; git-ignored)")
    parser.add_argument("--short-side", type=int, default=400)
    # Dark frames compress well, so they keep more quality for their bytes; at these two settings the pack
    # and the repository stay under 60 MiB (58.6 with the repository as of 2026-12-02; PSNR against the
    # resized originals, every tenth image: low median 42.5 dB, worst 36.9; normal 34.1, worst 32.3).
    # Normal at 80 (35.8 / 33.7 dB) adds 2.6 MiB, which the repository's growth to 18.8 MiB no longer leaves.
    parser.add_argument("--quality-low", type=int, default=88, help="WebP quality of the low-light images")
    parser.add_argument("--quality-normal", type=int, default=75,
                        help="WebP quality of the normal images (and of --extra's)")
    parser.add_argument("--budget-mib", type=float, default=60.0, help="fail above this travelling size")
    args = parser.parse_args(argv)
    out = args.out or (EXTRA_PACK if args.extra else PACK)

    if out.exists():
        if not (out / MANIFEST).is_file():
            raise SystemExit(f"{out} exists and is not a pack written by this script: not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if args.extra:
        folders = {args.extra.name: (args.extra, args.quality_normal)}
    else:
        folders = {
            "train_low": (args.low, args.quality_low),
            "train_normal": (args.normal, args.quality_normal),
        }
    sizes = {
        name: pack_images(source, out / name, short_side=args.short_side, quality=quality)
        for name, (source, quality) in folders.items()
    }
    manifest = {
        "sources": {name: str(source) for name, (source, _) in folders.items()},
        "images": {name: len(list((out / name).iterdir())) for name in folders},
        "short_side": args.short_side,
        "webp_quality": {name: quality for name, (_, quality) in folders.items()},
    }
    if not args.extra:
        sizes[VGG_FILE] = pack_vgg(args.vgg16_weights, out / VGG_FILE)
        manifest["vgg16"] = f"{args.vgg16_weights.name}: features.0..{LAST_VGG_INDEX} in fp16"
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    pack = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    tracked, untracked = git_bytes(), git_bytes("--others", "--exclude-standard")
    travels = pack + tracked + untracked
    for name, size in sizes.items():
        sys.stdout.write(f"{name:<24} {size / MIB:6.2f} MiB\n")
    sys.stdout.write(f"{'pack ' + str(out):<24} {pack / MIB:6.2f} MiB  {manifest['images']}\n")
    sys.stdout.write(f"{'tracked files':<24} {tracked / MIB:6.2f} MiB\n")
    sys.stdout.write(f"{'untracked, not ignored':<24} {untracked / MIB:6.2f} MiB\n")
    limits = f"(limit 64 MiB, budget {args.budget_mib:g})"
    sys.stdout.write(f"{'travels with a call':<24} {travels / MIB:6.2f} MiB {limits}\n")
    if travels > args.budget_mib * MIB:
        sys.stderr.write("over budget: lower --quality-normal / --quality-low\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
