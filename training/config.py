"""Training configuration as frozen dataclasses; serialised to JSON in every run folder and checkpoint."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.features import BACKBONES, VGG_INPUTS, VGG_STRIDES
from training.models.generator import INIT_KINDS, NORM_KINDS


@dataclass(frozen=True)
class ModelConfig:
    """The generator's architecture (all that export needs to rebuild it)."""

    width: int = 32  # base channels; 32 = the paper (8.6 M parameters), 16 is about 4x cheaper
    norm: str = "batch"  # "batch" (paper) or "layer" (same in train and eval, tiling-exact)
    d_base: int = 64  # discriminators' base channels
    g_init: str = "paper"  # generator init: "paper" (N(0, 0.02)) or "he" (for --norm none: init_weights_he)

    def __post_init__(self) -> None:
        if self.norm not in NORM_KINDS:
            raise ValueError(f"unknown norm {self.norm!r}; choose one of {NORM_KINDS}")
        if self.g_init not in INIT_KINDS:
            raise ValueError(f"unknown g_init {self.g_init!r}; choose one of {INIT_KINDS}")
        if self.width < 1 or self.d_base < 1:
            raise ValueError(f"width and d_base must be positive, got {self.width}, {self.d_base}")


@dataclass(frozen=True)
class DataConfig:
    """Two folders of unpaired images and how crops are cut from them."""

    low: str = ""
    normal: str = ""
    crop: int = 320
    # (first step, crop side) pairs for a crop-size curriculum, e.g. ((0, 128), (3000, 256)); empty: `crop`.
    crop_schedule: tuple[tuple[int, int], ...] = ()
    # (filename glob, weight) pairs for the low folder, first match wins, e.g. (("nightlfx_*", 4.0),).
    low_weights: tuple[tuple[str, float], ...] = ()
    # The authors' data pipeline: every image is resized so its short side is this (they trained on about
    # 600x400 images; 0 keeps each image's own size), random crops, horizontal AND vertical flips.
    short_side: int = 400
    hflip: bool = True
    vflip: bool = True
    # The authors' "vary" (on by default in their base_options): with probability `vary` a low crop is
    # darkened by a factor t drawn from {vary_min, vary_min + 0.01, ..., vary_max}; G and the attention map
    # see the darkened crop while the self-feature-preserving targets are the undarkened one, which is what
    # pulls outputs brighter than their input (without it the SFP minimum is the identity). 0: off.
    vary: float = 0.5
    vary_min: float = 2.0
    vary_max: float = 4.0
    # Not in the paper: a second normal-light folder (e.g. train_normal_sice) drawn from with `normal`.
    normal_extra: str = ""
    workers: int = 0
    # Degraded inputs, clean targets (data.UnpairedCrops): half the low crops get Gaussian noise (sigma drawn
    # up to degrade_noise) and/or a JPEG re-encode (quality drawn from [degrade_jpeg_quality, 90]), while the
    # tone target is still computed from the clean crop, so G learns to smooth them away. 0: off.
    degrade_noise: float = 0.0
    degrade_jpeg_quality: int = 0
    # Share of the low crops recoloured, input and target alike (channels permuted, chroma scaled:
    # data.recolour): the training photos' colours are mostly muted. 0: off.
    colour_augment: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.vary <= 1.0 or not 1.0 <= self.vary_min <= self.vary_max:
            raise ValueError(
                f"vary must be a probability and 1 <= vary_min <= vary_max, got {self.vary}, "
                f"{self.vary_min} and {self.vary_max}"
            )
        if not 0.0 <= self.colour_augment <= 1.0:
            raise ValueError(f"colour_augment must be a probability, got {self.colour_augment}")
        if self.short_side < 0:
            raise ValueError(f"short_side must be >= 0 (0: keep sizes), got {self.short_side}")
        if self.degrade_noise < 0 or not 0 <= self.degrade_jpeg_quality <= 90:
            raise ValueError(
                f"degrade_noise must be >= 0 and degrade_jpeg_quality in 0..90, got {self.degrade_noise} "
                f"and {self.degrade_jpeg_quality}"
            )


@dataclass(frozen=True)
class LossConfig:
    backbone: str = "vgg16"  # the paper; "efficientnet_lite0" needs no download (training/features.py)
    vgg16_weights: str | None = None  # None: the file `python -m training fetch-vgg16` caches
    vgg_stride: int = 8  # relu5_1 at stride 8, the 4th max-pool skipped, as in the authors' code
    # How images are fed to torchvision's weights (features.VGG_INPUTS): x / std, measured by
    # scripts/vgg_input_measure.py to ask more for brightness against content damage than (x - mean) / std.
    vgg_input: str = "imagenet_no_mean"
    patches: int = 5  # random local patches besides the one the reference code always takes: 1 + 5
    patch_size: int = 32
    w_gan_global: float = 1.0
    w_gan_local: float = 1.0
    w_sfp_global: float = 1.0
    w_sfp_local: float = 1.0
    # Not in the paper: L1 between G's output for a NORMAL-light crop (with its own attention map) and that
    # crop, so well-exposed photos come back unchanged. 0: off.
    w_no_harm: float = 0.0
    # Not in the paper. The supervised warm-start (optim.warmup_steps) fits G to a tone curve of its input
    # (losses.tone_curve_target: per-image gamma to tone_target_mean, or one tone_fixed_gamma for every
    # image; optional black point and S-curve); w_tone > 0 keeps that L1 term in the GAN phase too, against
    # collapse to the identity on short CPU runs. w_tone 0 and no warm-start = the paper.
    tone_target_mean: float = 0.45
    tone_min_gamma: float = 0.25
    tone_black_percentile: float = 0.0
    tone_contrast: float = 0.0
    tone_fixed_gamma: float = 0.0  # > 0: one pointwise curve for every image (see losses.tone_curve_target)
    tone_keep_colour: float = 0.0  # 0..1, with tone_fixed_gamma: mix of the hue-keeping luma curve
    tone_local_contrast: float = 0.0  # edge-aware local contrast added to the target (losses.local_contrast)
    tone_local_radius: int = 16
    tone_local_coring: float = 0.0  # spares detail below this many noise sigmas (losses.local_contrast)
    tone_chroma_radius: int = 0  # > 0: radius smoothing the target's colour noise (losses.smooth_chroma)
    w_tone: float = 0.0
    # Weight of an L1 on the horizontal and vertical pixel differences, added to every tone-curve L1: plain L1
    # lets the generator blur fine detail at little cost, and NIQE (like the eye) punishes the blur.
    w_tone_edges: float = 0.0
    # The same on the chroma (RGB minus luma) alone: colour speckle is a small share of the RGB differences,
    # so the plain edge term lets the network keep it; this weighs it on its own.
    w_tone_chroma_edges: float = 0.0
    # An L1 on the chroma (RGB minus luma) itself: the edge terms above weigh luma far more than colour, and
    # networks trained without this under-fit the target's colour (hues turned, about a fifth of the chroma
    # lost on dim phone photos: docs/TRAINING.md).
    w_tone_chroma: float = 0.0

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose one of {BACKBONES}")
        if self.vgg_stride not in VGG_STRIDES or self.vgg_input not in VGG_INPUTS:
            raise ValueError(
                f"vgg_stride must be one of {VGG_STRIDES} and vgg_input one of {VGG_INPUTS}, got "
                f"{self.vgg_stride} and {self.vgg_input!r}"
            )
        if not 0.0 <= self.tone_keep_colour <= 1.0:
            raise ValueError(f"tone_keep_colour must be in [0, 1], got {self.tone_keep_colour}")
        if self.tone_local_contrast < 0 or self.tone_local_radius < 1 or self.tone_local_coring < 0:
            raise ValueError(
                "tone_local_contrast and tone_local_coring must be >= 0 and tone_local_radius >= 1, got "
                f"{self.tone_local_contrast}, {self.tone_local_coring} and {self.tone_local_radius}"
            )
        if self.tone_chroma_radius < 0:
            raise ValueError(f"tone_chroma_radius must be >= 0, got {self.tone_chroma_radius}")
        if self.tone_keep_colour > 0 and self.tone_fixed_gamma <= 0:
            raise ValueError("tone_keep_colour needs a fixed curve (tone_fixed_gamma > 0)")


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # Paper: constant lr for `epochs_constant`, then linear decay to 0 over `epochs_decay`.
    epochs_constant: int = 100
    epochs_decay: int = 100
    # Step-based schedule for short runs: when set it replaces the epochs; lr decays over the last
    # `decay_fraction` of the steps.
    max_steps: int | None = None
    decay_fraction: float = 0.5
    # Supervised warm-start of G toward a smooth global tone curve of the input before the GAN phase.
    warmup_steps: int = 0


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch_size: int = 4  # global batch (split over torchrun ranks)
    seed: int = 0
    amp: bool = True  # mixed precision; only used on CUDA
    ema_decay: float = 0.999  # 0 disables the moving average of G
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 500
    threads: int | None = None  # torch CPU threads; None: torch's default
    # Fine-tuning: G (and its moving average) start from this checkpoint's generator, the moving average when
    # it kept one; discriminators and optimizers start fresh. The architecture must match `model`.
    init_generator: str | None = None

    def __post_init__(self) -> None:
        sides = [self.data.crop] + [side for _, side in self.data.crop_schedule]
        patch = self.loss.patch_size
        # The backbones work at stride 8 or 16 and the SFP loss instance-normalises their features, which
        # needs at least 2x2 of them: patches of 32 px or more.
        if patch < 32 or patch % 16:
            raise ValueError(f"patch_size must be a multiple of 16 and at least 32, got {patch}")
        if any(side % 16 or side < patch for side in sides):
            raise ValueError(f"crop sides {sides} must be multiples of 16 and at least patch_size {patch}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {self.batch_size}")


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain JSON-compatible data."""
    return dataclasses.asdict(config)


def _coerce(tp: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _coerce(inner[0], value)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v) for v in value)
        return tuple(_coerce(a, v) for a, v in zip(args, value, strict=True))
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild the dataclass ``cls`` from :func:`to_dict` output; unknown keys are a clear error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    return cls(**{k: _coerce(hints[k], v) for k, v in data.items()})


def save_config(config: TrainConfig, path: Path) -> None:
    path.write_text(json.dumps(to_dict(config), indent=2) + "\n")


def load_config(path: Path) -> TrainConfig:
    return from_dict(TrainConfig, json.loads(Path(path).read_text()))
