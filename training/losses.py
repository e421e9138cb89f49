"""EnlightenGAN's losses: relativistic average LSGAN (global), LSGAN (local patches), self-feature-preserving
loss, the local patches they share, and the tone-curve target of the optional supervised warm-start."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.config import LossConfig
from training.features import FeatureExtractor
from training.models.generator import luma601


def relativistic_lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Global discriminator loss, halved as in the authors' code:
    (mean((D(r) - mean D(f) - 1)^2) + mean((D(f) - mean D(r))^2)) / 2.

    real, fake: discriminator scores of any (matching batch) shape. Returns a scalar.
    """
    return 0.5 * (((real - fake.mean() - 1.0) ** 2).mean() + ((fake - real.mean()) ** 2).mean())


def relativistic_lsgan_g(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Generator's global loss, the mirror image of the discriminator's and halved like it (the authors'
    code), so it weighs half the local term against the self-feature-preserving loss:
    (mean((D(f) - mean D(r) - 1)^2) + mean((D(r) - mean D(f))^2)) / 2."""
    return 0.5 * (((fake - real.mean() - 1.0) ** 2).mean() + ((real - fake.mean()) ** 2).mean())


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Local discriminator loss, averaged over all patches and halved as in the authors' code:
    (mean((D(r) - 1)^2) + mean(D(f)^2)) / 2."""
    return 0.5 * (((real - 1.0) ** 2).mean() + (fake**2).mean())


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Generator's local loss: mean((D(f) - 1)^2)."""
    return ((fake - 1.0) ** 2).mean()


def sfp_loss(backbone: FeatureExtractor, low: torch.Tensor, enhanced: torch.Tensor) -> torch.Tensor:
    """Self-feature-preserving loss: MSE between affine-free instance-normalised backbone features of the
    INPUT ``low`` and of the OUTPUT ``enhanced`` (both [N, 3, H, W] in [-1, 1]). Gradients reach ``enhanced``
    only; the input's features are a constant target."""
    with torch.no_grad():
        target = F.instance_norm(backbone(low).float())
    features = F.instance_norm(backbone(enhanced).float())
    return F.mse_loss(features, target)


def sample_patch_corners(
    n_patches: int, batch: int, height: int, width: int, size: int, *, generator: torch.Generator
) -> torch.Tensor:
    """Random top-left corners for ``n_patches`` square patches of side ``size`` in each of ``batch`` images.

    Returns an int64 tensor [n_patches, batch, 2] of (y, x).
    """
    if size > height or size > width:
        raise ValueError(f"patch size {size} does not fit a {height}x{width} crop")
    y = torch.randint(0, height - size + 1, (n_patches, batch), generator=generator)
    x = torch.randint(0, width - size + 1, (n_patches, batch), generator=generator)
    return torch.stack([y, x], dim=-1)


def crop_patches(images: torch.Tensor, corners: torch.Tensor, size: int) -> torch.Tensor:
    """Cut patches from images [N, C, H, W] at corners [P, N, 2].

    Returns [P * N, C, size, size], patch-major (all images' first patch, then their second, ...)."""
    patches = [
        images[i, :, int(y) : int(y) + size, int(x) : int(x) + size]
        for per_patch in corners
        for i, (y, x) in enumerate(per_patch.tolist())
    ]
    return torch.stack(patches)


def _s_curve(x: torch.Tensor, amount: float | torch.Tensor) -> torch.Tensor:
    """x in [0, 1] with the smoothstep S-curve x^2 (3 - 2x) mixed in by ``amount`` (0: unchanged)."""
    return x + amount * (x * x * (3.0 - 2.0 * x) - x)


def _gamma_to_mean(x: torch.Tensor, target_mean: float, min_gamma: float) -> torch.Tensor:
    """Per image, the gamma in [min_gamma, 1] that brings the mean luma of x ([N, 3, H, W] in [0, 1])
    to about target_mean. Returns [N]."""
    mean = luma601(x).mean(dim=(1, 2, 3)).clamp(1e-3, 0.999)
    return (torch.log(torch.tensor(target_mean)) / torch.log(mean)).clamp(min_gamma, 1.0)


def edge_l1(image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 between the horizontal and the vertical neighbour differences of ``image`` and ``target``
    ([N, C, H, W]): zero for any constant offset, large when fine detail is blurred away or invented."""
    dx = (image[..., :, 1:] - image[..., :, :-1]) - (target[..., :, 1:] - target[..., :, :-1])
    dy = (image[..., 1:, :] - image[..., :-1, :]) - (target[..., 1:, :] - target[..., :-1, :])
    return 0.5 * (dx.abs().mean() + dy.abs().mean())


KEEP_COLOUR_LUMA_FLOOR = 0.02
"""Luma below which the colour-keeping tone curve holds its gain (see :func:`tone_curve_target`)."""


LOCAL_CONTRAST_EPS = 1e-2
"""Edge threshold of :func:`local_contrast`'s guided filter (a luma variance, 0-1 scale): a window whose luma
varies more than this (an edge such as a lamp against the night) is kept in the base layer, so it gets no
boost and no halo; texture below it is boosted. 1e-2 is a luma standard deviation of 0.1."""


def guided_filter(guide: torch.Tensor, source: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """The guided filter of ``source`` [N, C, H, W] by ``guide`` [N, 1, H, W] (He et al., TPAMI 2013): per
    window, the best linear function of the guide; edges of the guide stay sharp in the output, variation of
    the source that the guide does not share (noise) is smoothed away. ``eps`` is the guide's edge threshold
    (a variance)."""

    def box(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(t, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)

    mean_guide, mean_source = box(guide), box(source)
    variance = box(guide * guide) - mean_guide * mean_guide
    a = (box(guide * source) - mean_guide * mean_source) / (variance + eps)
    return box(a) * guide + box(mean_source - a * mean_guide)


def guided_base(luma: torch.Tensor, radius: int, eps: float = LOCAL_CONTRAST_EPS) -> torch.Tensor:
    """The guided filter of ``luma`` [N, 1, H, W] by itself: a box-smoothed base layer that follows strong
    edges instead of blurring across them."""
    return guided_filter(luma, luma, radius, eps)


CHROMA_EPS = 1e-3
"""Luma edge threshold (a variance; a luma standard deviation of about 0.03) of :func:`smooth_chroma`: colour
edges that come with a luma edge at least this strong stay sharp; colour speckle on flat luma is smoothed."""


def smooth_chroma(image: torch.Tensor, radius: int) -> torch.Tensor:
    """``image`` [N, 3, H, W] in [0, 1] with its chroma (RGB minus luma) guided-filtered by its luma over
    ``radius`` pixels, the luma kept exactly: lifted night shots show their sensor noise as coloured
    blotches, which a viewer reads as damage, while the same noise in luma reads as grain (and NIQE, which
    scores luma only, is blind to the chroma)."""
    luma = luma601(image)
    chroma = guided_filter(luma, image - luma, radius, CHROMA_EPS)
    return (luma + chroma).clamp(0.0, 1.0)


def noise_sigma(luma: torch.Tensor) -> torch.Tensor:
    """Per image, the noise standard deviation of ``luma`` [N, 1, H, W] estimated from the finest diagonal
    Haar detail (Donoho's median absolute deviation, robust to edges and texture). Returns [N, 1, 1, 1]."""
    y = luma[..., : luma.shape[-2] // 2 * 2, : luma.shape[-1] // 2 * 2]
    diagonal = (y[..., 0::2, 0::2] - y[..., 1::2, 0::2] - y[..., 0::2, 1::2] + y[..., 1::2, 1::2]) / 2
    return (diagonal.abs().flatten(1).median(dim=1).values / 0.6745).view(-1, 1, 1, 1)


def local_contrast(image: torch.Tensor, amount: float, radius: int, coring: float = 0.0) -> torch.Tensor:
    """Edge-aware local contrast ("clarity") of ``image`` [N, 3, H, W] in [0, 1]: the luma's detail over
    :func:`guided_base` is amplified by 1 + ``amount`` and RGB is scaled with the luma, so hue is kept.

    ``coring`` > 0 spares noise: detail d is boosted as d^3 / (d^2 + k^2) with k = ``coring`` times the
    image's :func:`noise_sigma`, so swings at the noise level get almost no boost while texture well above
    it gets the full one. A clean, JPEG-smoothed frame (sigma about 0) is boosted in full."""
    luma = luma601(image)
    detail = luma - guided_base(luma, radius)
    if coring > 0:
        k2 = (coring * noise_sigma(luma)).square()
        detail = detail.pow(3) / (detail.square() + k2).clamp_min(1e-12)
    boosted = (luma + amount * detail).clamp(0.0, 1.0)
    return (image * boosted / luma.clamp_min(1e-4)).clamp(0.0, 1.0)


def tone_curve_target(
    low: torch.Tensor,
    *,
    target_mean: float = 0.45,
    min_gamma: float = 0.25,
    black_percentile: float = 0.0,
    contrast: float = 0.0,
    fixed_gamma: float = 0.0,
    keep_colour: float = 0.0,
    local_amount: float = 0.0,
    local_radius: int = 16,
    local_coring: float = 0.0,
    chroma_radius: int = 0,
) -> torch.Tensor:
    """A smooth global tone curve of each input, applied to each channel: one gamma per image, chosen so the
    image's mean luma reaches about ``target_mean`` and kept in [``min_gamma``, 1] so the curve never darkens
    and never blows up the shadows.

    Two optional steps keep the lifted image from looking veiled, both scaled by how much the image is
    lifted (none for an image that needs no lift): the luma at ``black_percentile`` (in %) is set to black
    before the gamma, and a smoothstep S-curve mixed in by ``contrast`` in [0, 1] restores mid-tone contrast.

    ``fixed_gamma`` > 0 replaces the per-image gamma by one curve for every image, applied in full: the
    target is then a function of each pixel alone. A fully convolutional generator sees only a neighbourhood,
    not the image's mean, so it cannot tell which per-image gamma applies; it guesses region by region, and
    the borders between its guesses show as contour lines. A pointwise curve it can fit exactly.

    A curve applied to each channel pulls the channels together and washes colour out (a blue night sky
    turns grey). ``keep_colour`` in [0, 1] (fixed curves only) mixes in the colour-keeping form: the curve
    applied to luma and RGB scaled by curve(Y) / Y, which keeps hue and saturation. Below luma
    :data:`KEEP_COLOUR_LUMA_FLOOR` that gain is held constant, so near-black is lifted linearly: its noise is
    not multiplied by the curve's steep foot and blacks stay dark.

    ``local_amount`` > 0 then adds edge-aware local contrast over ``local_radius`` pixels
    (:func:`local_contrast`). A global curve flattens texture in the lifted shadows; this restores it without
    the halos an unsharp mask draws around light sources; ``local_coring`` keeps it off the noise of noisy
    night shots. ``chroma_radius`` > 0 finally smooths the target's colour noise (:func:`smooth_chroma`).

    low: [N, 3, H, W] in [-1, 1]. Returns the curved images [N, 3, H, W] in [-1, 1], with no gradient.
    """
    x = ((low.detach().float() + 1.0) * 0.5).clamp(0.0, 1.0)
    if fixed_gamma > 0:
        curved = _s_curve(x.pow(fixed_gamma), contrast)
        if keep_colour > 0:
            luma = luma601(x).clamp_min(KEEP_COLOUR_LUMA_FLOOR)
            gain = _s_curve(luma.pow(fixed_gamma), contrast) / luma
            curved = torch.lerp(curved, (x * gain).clamp(0.0, 1.0), keep_colour)
    else:
        lift = ((1.0 - _gamma_to_mean(x, target_mean, min_gamma)) / (1.0 - min_gamma)).view(-1, 1, 1, 1)
        if black_percentile > 0:
            black = torch.quantile(luma601(x).flatten(1), black_percentile / 100.0, dim=1).view(-1, 1, 1, 1)
            black = black * lift
            x = ((x - black) / (1.0 - black)).clamp(0.0, 1.0)
        x = x.pow(_gamma_to_mean(x, target_mean, min_gamma).view(-1, 1, 1, 1))
        curved = _s_curve(x, contrast * lift)
    if local_amount > 0:
        curved = local_contrast(curved, local_amount, local_radius, local_coring)
    if chroma_radius > 0:
        curved = smooth_chroma(curved, chroma_radius)
    return curved * 2.0 - 1.0


def tone_target(low: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    """:func:`tone_curve_target` with a run's ``tone_*`` settings: the target its warm-start and tone term fit
    G to. low: [N, 3, H, W] in [-1, 1]; returns [N, 3, H, W] in [-1, 1]."""
    return tone_curve_target(
        low,
        target_mean=cfg.tone_target_mean,
        min_gamma=cfg.tone_min_gamma,
        black_percentile=cfg.tone_black_percentile,
        contrast=cfg.tone_contrast,
        fixed_gamma=cfg.tone_fixed_gamma,
        keep_colour=cfg.tone_keep_colour,
        local_amount=cfg.tone_local_contrast,
        local_radius=cfg.tone_local_radius,
        local_coring=cfg.tone_local_coring,
        chroma_radius=cfg.tone_chroma_radius,
    )
