"""Unpaired training crops: a folder of low-light images and a folder of normal-light images.

Every sample is a pure function of (seed, global sample index k): which images, where the crop falls, whether
it is flipped. The index of sample j of step s on rank r is ``s * global_batch + r * local_batch + j``
(:class:`StepSampler`), so a resumed run sees exactly the batches an uninterrupted one would, whatever the
number of loader workers, and torchrun ranks split each global batch without overlap.
"""

from __future__ import annotations

import fnmatch
import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset, Sampler

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)
_MAX_RETRIES = 32
DEGRADED_SHARE = 0.5
"""Share of low crops degraded when degradation is on: the rest teach G to leave clean input clean."""
CHROMA_SCALE_RANGE = (0.5, 2.0)
"""Factor range (drawn log-uniformly) of the chroma scaling of recoloured low crops (``colour_augment``)."""
_LUMA601 = np.array([0.299, 0.587, 0.114], np.float32)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name; a clear error when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    return files


def crop_at_step(step: int, crop: int, schedule: Sequence[tuple[int, int]] = ()) -> int:
    """Crop side for ``step``: from the last schedule entry (first_step, side) with first_step <= step,
    else ``crop``."""
    side = crop
    for first_step, entry in sorted(schedule):
        if step >= first_step:
            side = entry
    return side


def sampling_weights(files: Sequence[Path], rules: Sequence[tuple[str, float]]) -> np.ndarray | None:
    """Per-file probabilities from (filename glob, weight) rules, first match wins, unmatched weigh 1.

    Returns None when there are no rules (uniform epochs without replacement are used then)."""
    if not rules:
        return None
    matches = [next((w for pattern, w in rules if fnmatch.fnmatch(f.name, pattern)), 1.0) for f in files]
    weights = np.array(matches, np.float64)
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(f"sampling weights must be >= 0 with a positive sum, got rules {list(rules)}")
    return weights / weights.sum()


def to_tensor(pixels01: np.ndarray) -> torch.Tensor:
    """[H, W, 3] RGB in [0, 1] -> [3, H, W] float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(pixels01.transpose(2, 0, 1), dtype=np.float32) * 2.0 - 1.0)


def _pixels01(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def recolour(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[H, W, 3] in [0, 1] with its channels permuted at random and its chroma scaled by a factor drawn
    log-uniformly from CHROMA_SCALE_RANGE around the (permuted) luma, clipped to [0, 1]."""
    permuted = pixels[..., rng.permutation(3)]
    luma = permuted @ _LUMA601
    scale = float(np.exp(rng.uniform(*np.log(CHROMA_SCALE_RANGE))))
    return np.clip(luma[..., None] + scale * (permuted - luma[..., None]), 0.0, 1.0).astype(np.float32)


class UnpairedCrops(Dataset):
    """``dataset[k]`` -> {"low": [3, c, c], "normal": [3, c, c], "low_target": [3, c, c]} in [-1, 1], c the
    crop side of k's step.

    ``"low"`` is what the generator sees, ``"low_target"`` the crop its self-feature-preserving loss compares
    with. They differ in two ways, both with the clean, undarkened crop as the target:

    - the authors' "vary": with probability ``vary`` the input is the crop divided by t, t drawn from
      {``vary_min``, ``vary_min`` + 0.01, ..., ``vary_max``};
    - with ``degrade_noise`` or ``degrade_jpeg_quality`` set (not in the paper), for :data:`DEGRADED_SHARE` of
      the samples the input also gets Gaussian noise (sigma drawn up to ``degrade_noise``, 0-1 scale) and then
      a JPEG re-encode (quality drawn from [``degrade_jpeg_quality``, 90]).

    With ``colour_augment`` > 0 (not in the paper), that share of the low crops is recoloured before anything
    else, input and target alike: R, G and B permuted at random and the chroma (RGB minus luma) scaled by a
    factor drawn log-uniformly from :data:`CHROMA_SCALE_RANGE`. The training photos' colours are mostly
    muted; without this a generator turns the hues of saturated colours it never saw (a dark red toy comes
    out orange).

    Every image is first resized (bicubic, antialiased) so its short side is ``short_side`` (0: kept; always
    at least the crop). Low images are visited in per-epoch random order (or drawn by ``low_weights``);
    normal images (``normal_dir`` and ``normal_extra_dir`` together) are drawn at random. One epoch is
    max(low images, normal images) samples, as in the authors' code. Unreadable files are skipped with a
    warning (once per file) and replaced by another draw.
    """

    def __init__(
        self,
        *,
        low_dir: str | Path,
        normal_dir: str | Path,
        global_batch: int,
        seed: int = 0,
        crop: int = 320,
        crop_schedule: Sequence[tuple[int, int]] = (),
        low_weights: Sequence[tuple[str, float]] = (),
        short_side: int = 0,
        hflip: bool = True,
        vflip: bool = False,
        vary: float = 0.0,
        vary_min: float = 2.0,
        vary_max: float = 4.0,
        normal_extra_dir: str | Path | None = None,
        degrade_noise: float = 0.0,
        degrade_jpeg_quality: int = 0,
        colour_augment: float = 0.0,
    ) -> None:
        self.low = list_images(low_dir)
        self.normal = list_images(normal_dir) + (list_images(normal_extra_dir) if normal_extra_dir else [])
        self.low_p = sampling_weights(self.low, low_weights)
        self.global_batch = global_batch
        self.seed = seed
        self.crop = crop
        self.crop_schedule = tuple(crop_schedule)
        self.short_side = short_side
        self.hflip = hflip
        self.vflip = vflip
        self.vary = vary
        self.vary_steps = (round(vary_min * 100), round(vary_max * 100))
        self.degrade_noise = degrade_noise
        self.degrade_jpeg_quality = degrade_jpeg_quality
        self.colour_augment = colour_augment
        self._bad: set[Path] = set()
        self._perm_epoch, self._perm = -1, np.arange(0)

    def __len__(self) -> int:
        """Samples in one epoch: max(low images, normal images), as in the authors' code."""
        return max(len(self.low), len(self.normal))

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, k])
        side = crop_at_step(k // self.global_batch, self.crop, self.crop_schedule)
        low = self._load(self.low, self._low_index(k, rng), rng)
        normal = self._load(self.normal, int(rng.integers(len(self.normal))), rng)
        target = _pixels01(self._crop(low, side, rng))
        # Drawn only when on, so runs without it keep their exact sample streams.
        if self.colour_augment > 0 and rng.random() < self.colour_augment:
            target = recolour(target, rng)
        pixels = target
        if self.vary > 0 and rng.random() < self.vary:
            pixels = target / (int(rng.integers(self.vary_steps[0], self.vary_steps[1] + 1)) / 100.0)
        if (self.degrade_noise > 0 or self.degrade_jpeg_quality > 0) and rng.random() < DEGRADED_SHARE:
            pixels = self._degrade(pixels, rng)
        normal_crop = _pixels01(self._crop(normal, side, rng))
        return {
            "low": to_tensor(pixels),
            "normal": to_tensor(normal_crop),
            "low_target": to_tensor(target),
        }

    def _degrade(self, pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """[H, W, 3] in [0, 1] with noise, quantised to 8 bits as a camera's file is, then JPEG re-encoded."""
        if self.degrade_noise > 0:
            pixels = pixels + rng.normal(0.0, rng.uniform(0.0, self.degrade_noise), pixels.shape)
        image = Image.fromarray(np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8))
        if self.degrade_jpeg_quality > 0:
            encoded = io.BytesIO()
            image.save(encoded, "JPEG", quality=int(rng.integers(self.degrade_jpeg_quality, 91)))
            image = Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")
        return _pixels01(image)

    def _low_index(self, k: int, rng: np.random.Generator) -> int:
        if self.low_p is not None:
            return int(rng.choice(len(self.low), p=self.low_p))
        epoch = k // len(self.low)
        if epoch != self._perm_epoch:
            self._perm_epoch = epoch
            self._perm = np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.low))
        return int(self._perm[k % len(self.low)])

    def _load(self, files: list[Path], index: int, rng: np.random.Generator) -> Image.Image:
        for _ in range(_MAX_RETRIES):
            path = files[index]
            if path not in self._bad:
                try:
                    with Image.open(path) as image:
                        return ImageOps.exif_transpose(image).convert("RGB")
                except _DECODE_ERRORS as exc:
                    self._bad.add(path)
                    log.warning("skipping unreadable image %s: %s", path, exc)
            index = int(rng.integers(len(files)))
        raise RuntimeError(
            f"{_MAX_RETRIES} draws in a row found only unreadable images in {files[0].parent} "
            f"({len(self._bad)} bad files seen)"
        )

    def _crop(self, image: Image.Image, side: int, rng: np.random.Generator) -> Image.Image:
        w, h = image.size
        short = max(self.short_side, side) if self.short_side else max(min(w, h), side)
        if min(w, h) != short:
            scale = short / min(w, h)
            w, h = max(short, round(w * scale)), max(short, round(h * scale))
            image = image.resize((w, h), Image.Resampling.BICUBIC)
        x, y = int(rng.integers(w - side + 1)), int(rng.integers(h - side + 1))
        image = image.crop((x, y, x + side, y + side))
        if self.hflip and rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if self.vflip and rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        return image


class StepSampler(Sampler[int]):
    """Endless sample indices for one rank, from ``start_step`` on: rank r's share of step s is
    ``s * global_batch + r * local_batch + [0, local_batch)``.

    Use it with a DataLoader whose batch_size is ``local_batch``."""

    def __init__(self, *, global_batch: int, rank: int = 0, world_size: int = 1, start_step: int = 0) -> None:
        if global_batch % world_size:
            raise ValueError(f"batch size {global_batch} is not divisible by {world_size} ranks")
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.start_step = start_step

    def __iter__(self) -> Iterator[int]:
        step = self.start_step
        while True:
            first = step * self.global_batch + self.rank * self.local_batch
            yield from range(first, first + self.local_batch)
            step += 1
