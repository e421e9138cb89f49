"""Losses on hand-computed cases, the local patches, and the warm-start tone curve."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from training.features import FeatureExtractor
from training.losses import (
    crop_patches,
    edge_l1,
    local_contrast,
    lsgan_d,
    lsgan_g,
    noise_sigma,
    relativistic_lsgan_d,
    relativistic_lsgan_g,
    sample_patch_corners,
    sfp_loss,
    smooth_chroma,
    tone_curve_target,
)
from training.models.generator import luma601


def test_relativistic_lsgan_by_hand_is_halved_as_in_the_authors_code() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])  # mean real 2, mean fake 1
    # D: (((1-1-1)^2 + (3-1-1)^2)/2 + ((0-2)^2 + (2-2)^2)/2) / 2 = (1 + 2) / 2
    assert relativistic_lsgan_d(real, fake).item() == pytest.approx(1.5)
    # G: (((0-2-1)^2 + (2-2-1)^2)/2 + ((1-1)^2 + (3-1)^2)/2) / 2 = (5 + 2) / 2
    assert relativistic_lsgan_g(real, fake).item() == pytest.approx(3.5)
    # Scores of any shape: the averages run over every element of the patch maps.
    assert relativistic_lsgan_d(real.view(2, 1, 1, 1), fake.view(2, 1, 1, 1)).item() == pytest.approx(1.5)


def test_lsgan_by_hand() -> None:
    # D, halved as in the authors' backward_D_basic: ((0.5 + 0.5) / 2
    assert lsgan_d(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])).item() == pytest.approx(0.5)
    # G (not halved there): mean((D(f) - 1)^2)
    assert lsgan_g(torch.tensor([0.0, 1.0, 3.0])).item() == pytest.approx((1 + 0 + 4) / 3)


def _identity_backbone() -> FeatureExtractor:
    return FeatureExtractor(body=nn.Identity(), tag="identity", stride=1)


def test_sfp_compares_instance_normalised_features_of_input_and_output() -> None:
    backbone = _identity_backbone()
    low = torch.tensor([-1.0, 1.0]).view(1, 1, 1, 2).expand(1, 3, 1, 2).contiguous()
    # Instance norm maps each channel's two values to (-1, 1) and (1, -1): squared difference 4 everywhere.
    assert sfp_loss(backbone, low, low.flip(-1)).item() == pytest.approx(4.0, rel=1e-4)
    # A per-channel gain and offset (a global brightening) leaves normalised features unchanged.
    image = torch.rand(2, 3, 8, 8) * 2 - 1
    brighter = image * torch.tensor([0.5, 0.6, 0.7]).view(1, 3, 1, 1) + 0.3
    assert sfp_loss(backbone, image, brighter).item() < 1e-6
    assert sfp_loss(backbone, image, torch.rand(2, 3, 8, 8)).item() > 0.5


def test_sfp_gradient_reaches_the_output_only() -> None:
    low = torch.rand(1, 3, 4, 4, requires_grad=True)
    out = torch.rand(1, 3, 4, 4, requires_grad=True)
    sfp_loss(_identity_backbone(), low, out).backward()
    assert low.grad is None and out.grad is not None and out.grad.abs().sum() > 0


def test_patches_are_cut_at_the_same_places_from_every_image_set() -> None:
    gen = torch.Generator().manual_seed(0)
    corners = sample_patch_corners(6, 2, 40, 50, 32, generator=gen)
    assert corners.shape == (6, 2, 2)
    assert corners[..., 0].max() <= 8 and corners[..., 1].max() <= 18 and corners.min() >= 0
    images = torch.arange(2 * 40 * 50, dtype=torch.float32).view(2, 1, 40, 50)
    patches = crop_patches(images, corners, 32)
    assert patches.shape == (12, 1, 32, 32)
    y, x = corners[3, 1].tolist()  # fourth patch of the second image, patch-major order
    assert torch.equal(patches[3 * 2 + 1], images[1, :, y : y + 32, x : x + 32])
    with pytest.raises(ValueError, match="does not fit"):
        sample_patch_corners(1, 1, 16, 64, 32, generator=gen)


def test_tone_curve_lifts_dark_images_to_the_target_mean_and_leaves_bright_ones() -> None:
    dark = torch.full((1, 3, 4, 4), 0.1) * 2 - 1  # luma 0.1: gamma log(0.45)/log(0.1) = 0.347
    assert ((tone_curve_target(dark) + 1) / 2).mean().item() == pytest.approx(0.45, abs=1e-4)
    bright = torch.rand(1, 3, 4, 4) * 0.4 + 0.5  # luma above 0.45: gamma clamps to 1, identity
    assert torch.allclose(tone_curve_target(bright), bright, atol=1e-6)
    # One gamma for all channels: order of channel values is kept (no colour inversion).
    colour = torch.tensor([0.02, 0.05, 0.1]).view(1, 3, 1, 1) * 2 - 1
    curved = tone_curve_target(colour).flatten()
    assert curved[0] < curved[1] < curved[2]


def test_black_point_and_contrast_act_only_as_far_as_the_image_is_lifted() -> None:
    gen = torch.Generator().manual_seed(0)
    dark = torch.rand(1, 3, 32, 32, generator=gen) * 0.15 + 0.02  # needs the strongest lift
    curved = (tone_curve_target(dark * 2 - 1, black_percentile=1.0, contrast=0.5, min_gamma=0.2) + 1) / 2
    plain = (tone_curve_target(dark * 2 - 1, min_gamma=0.2) + 1) / 2
    luma = (0.299 * curved[:, 0] + 0.587 * curved[:, 1] + 0.114 * curved[:, 2]).flatten()
    plain_luma = (0.299 * plain[:, 0] + 0.587 * plain[:, 1] + 0.114 * plain[:, 2]).flatten()
    # The darkest 1% go (nearly: this image is lifted by 82% of the most) to black; the plain curve
    # leaves them a veiled grey.
    assert luma.min().item() < 0.03 and plain_luma.min().item() > 0.25
    assert curved.std().item() > plain.std().item()  # more contrast than the gamma alone
    bright = torch.rand(1, 3, 8, 8, generator=gen) * 0.4 + 0.55  # no lift needed: left as it is
    assert torch.allclose(
        tone_curve_target(bright * 2 - 1, black_percentile=1.0, contrast=0.5), bright * 2 - 1, atol=1e-6
    )


def test_a_fixed_gamma_is_one_pointwise_curve_for_every_image() -> None:
    # The same pixel value maps to the same target whatever image it sits in (no image-wide statistic).
    value = torch.tensor([0.1, 0.3, 0.6]).view(1, 3, 1, 1)
    dark_image = torch.cat([value, torch.full((1, 3, 1, 1), 0.02)], dim=3) * 2 - 1
    bright_image = torch.cat([value, torch.full((1, 3, 1, 1), 0.9)], dim=3) * 2 - 1
    in_dark = tone_curve_target(dark_image, fixed_gamma=0.3, contrast=0.6)[..., 0]
    in_bright = tone_curve_target(bright_image, fixed_gamma=0.3, contrast=0.6)[..., 0]
    assert torch.equal(in_dark, in_bright)
    y = torch.tensor([0.1, 0.3, 0.6]) ** 0.3
    expected = y + 0.6 * (y * y * (3 - 2 * y) - y)
    assert torch.allclose((in_dark.flatten() + 1) / 2, expected, atol=1e-6)


def test_edge_l1_ignores_offsets_and_counts_blurred_detail() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 16, 16) * 2 - 1
    assert edge_l1(target + 0.3, target).item() == pytest.approx(0.0, abs=1e-6)
    blurred = nn.functional.avg_pool2d(target, 3, stride=1, padding=1, count_include_pad=False)
    # Blurring changes the values a little but the neighbour differences a lot: the edge term sees it.
    assert edge_l1(blurred, target) > 0.5 * (target[..., :, 1:] - target[..., :, :-1]).abs().mean()
    # By hand: a step of height 1 between the two columns of a 2x2 image, missing in the output.
    step = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
    assert edge_l1(torch.zeros_like(step), step).item() == pytest.approx(0.5)


def test_keep_colour_keeps_the_channel_ratios_and_lifts_near_black_linearly() -> None:
    rgb = torch.tensor([0.02, 0.05, 0.12])  # a dark blue sky: luma about 0.049
    image = rgb.view(1, 3, 1, 1) * 2 - 1
    per_channel = (tone_curve_target(image, fixed_gamma=0.3, contrast=0.6).flatten() + 1) / 2
    keeping = (tone_curve_target(image, fixed_gamma=0.3, contrast=0.6, keep_colour=1.0).flatten() + 1) / 2
    assert torch.allclose(keeping / keeping[2], rgb / rgb[2], atol=1e-5)  # same hue and saturation
    assert (per_channel[2] / per_channel[0]) < 0.5 * (rgb[2] / rgb[0])  # the per-channel curve washes it out
    # Its luma follows the curve of the input's luma.
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    y = luma**0.3
    assert (0.299 * keeping[0] + 0.587 * keeping[1] + 0.114 * keeping[2]).item() == pytest.approx(
        (y + 0.6 * (y * y * (3 - 2 * y) - y)).item(), abs=1e-5
    )
    # Below the floor the gain is constant: twice the input, twice the output (no steep foot).
    black = torch.tensor([0.004, 0.004, 0.004]).view(1, 3, 1, 1)
    once, twice = (
        (tone_curve_target(b * 2 - 1, fixed_gamma=0.3, contrast=0.6, keep_colour=1.0).flatten() + 1) / 2
        for b in (black, 2 * black)
    )
    assert torch.allclose(twice, 2 * once, atol=1e-5)
    half = (tone_curve_target(image, fixed_gamma=0.3, contrast=0.6, keep_colour=0.5).flatten() + 1) / 2
    assert torch.allclose(half, (keeping + per_channel) / 2, atol=1e-5)


def test_local_contrast_boosts_faint_texture_and_leaves_strong_edges_without_halo() -> None:
    amount, radius = 1.6, 4
    ramp = torch.arange(64.0)
    texture = 0.3 + 0.01 * torch.sin(ramp * 1.3)[None, :].expand(64, 64)  # faint texture on grey
    tinted = texture[None, None] * torch.tensor([1.2, 1.0, 0.6]).view(1, 3, 1, 1)
    out = local_contrast(tinted, amount, radius)
    inner = (..., slice(16, 48), slice(16, 48))
    detail_in = tinted[inner] - tinted[inner].mean(dim=(-2, -1), keepdim=True)
    detail_out = out[inner] - out[inner].mean(dim=(-2, -1), keepdim=True)
    gain = detail_out.abs().mean() / detail_in.abs().mean()
    assert 2.3 < gain.item() < 1 + amount + 0.05  # about 1 + amount: the base layer is the local mean
    assert torch.allclose(out[0, 0] / out[0, 1], torch.full((64, 64), 1.2), atol=1e-4)  # hue kept
    # A lamp against the night (a step of 0.55): the guided base follows the edge, so the rings beside it stay
    # under an eighth of the step, where an unsharp mask of the same radius overshoots by two thirds of it.
    lamp = torch.where(ramp < 32, 0.05, 0.6)[None, :].expand(64, 64)
    lamp_rgb = lamp[None, None].expand(1, 3, 64, 64)
    lamp_out = local_contrast(lamp_rgb, amount, radius)
    assert (lamp_out - lamp_rgb).abs().max().item() < 0.07
    box = torch.nn.functional.avg_pool2d(lamp[None, None], 2 * radius + 1, 1, radius, count_include_pad=False)
    unsharp = (lamp + amount * (lamp - box[0, 0])).clamp(0, 1)
    assert (unsharp - lamp).abs().max().item() > 0.35


def test_tone_target_local_contrast_is_off_by_default_and_changes_only_texture() -> None:
    flat = torch.full((1, 3, 32, 32), -0.8)
    curve = tone_curve_target(flat, fixed_gamma=0.3, contrast=0.6, keep_colour=0.5)
    assert torch.allclose(
        tone_curve_target(flat, fixed_gamma=0.3, contrast=0.6, keep_colour=0.5, local_amount=1.6),
        curve,
        atol=1e-5,
    )  # nothing to boost in a flat field
    textured = flat + 0.02 * torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    plain = tone_curve_target(textured, fixed_gamma=0.3, contrast=0.6)
    clear = tone_curve_target(textured, fixed_gamma=0.3, contrast=0.6, local_amount=1.6)
    assert clear.std() > 1.5 * plain.std()
    assert clear.mean().item() == pytest.approx(plain.mean().item(), abs=0.02)  # brightness unchanged


def test_coring_spares_noise_and_still_boosts_a_clean_frame_in_full() -> None:
    generator = torch.Generator().manual_seed(1)
    noise = 0.03 * torch.randn(1, 1, 96, 96, generator=generator)
    assert noise_sigma(0.4 + noise).item() == pytest.approx(0.03, rel=0.15)
    noisy = (0.4 + noise).expand(1, 3, 96, 96)
    plain = local_contrast(noisy, 1.6, 8)
    # Without coring the grain is amplified like texture (x 2.5); one sigma of coring cuts the extra by a
    # third, two sigmas by two thirds.
    assert plain.std() > 2.3 * noisy.std()
    assert local_contrast(noisy, 1.6, 8, coring=1.0).std() < 2.0 * noisy.std()
    assert local_contrast(noisy, 1.6, 8, coring=2.0).std() < 1.6 * noisy.std()
    ramp = torch.arange(96.0)
    clean = (0.3 + 0.02 * torch.sin(ramp * 1.3))[None, None, None, :].expand(1, 3, 96, 96)
    assert noise_sigma(clean[:, :1]).item() < 1e-3
    assert torch.allclose(local_contrast(clean, 1.6, 8, coring=1.0), local_contrast(clean, 1.6, 8), atol=2e-3)


def test_smooth_chroma_removes_colour_speckle_keeps_luma_and_colour_edges() -> None:
    generator = torch.Generator().manual_seed(2)
    # Left half a dull red, right half a brighter blue (a colour edge WITH a luma edge); on top, per-pixel
    # colour noise that leaves the luma nearly flat (the speckle of a lifted night shot).
    image = torch.empty(1, 3, 64, 64)
    image[..., :32] = torch.tensor([0.45, 0.2, 0.2]).view(1, 3, 1, 1)
    image[..., 32:] = torch.tensor([0.3, 0.5, 0.9]).view(1, 3, 1, 1)
    speckle = 0.05 * torch.randn(1, 3, 64, 64, generator=generator)
    speckle -= luma601(speckle)  # chroma only
    noisy = (image + speckle).clamp(0, 1)
    smoothed = smooth_chroma(noisy, 4)
    assert torch.allclose(luma601(smoothed), luma601(noisy), atol=1e-5)
    interior = (..., slice(8, 56), slice(4, 28))
    assert (smoothed - image)[interior].abs().mean() < 0.3 * (noisy - image)[interior].abs().mean()
    # The colour edge stays where it is: two pixels from it each side still has its own colour.
    assert torch.allclose(smoothed[0, :, 8:56, 29].mean(dim=1), image[0, :, 0, 0], atol=0.03)
    assert torch.allclose(smoothed[0, :, 8:56, 34].mean(dim=1), image[0, :, 0, 63], atol=0.03)


def test_tone_target_chroma_smoothing_is_off_by_default() -> None:
    low = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(3)) * 0.4 - 1.0
    plain = tone_curve_target(low, fixed_gamma=0.3)
    assert torch.equal(plain, tone_curve_target(low, fixed_gamma=0.3, chroma_radius=0))
    smoothed = tone_curve_target(low, fixed_gamma=0.3, chroma_radius=3)
    assert not torch.allclose(plain, smoothed, atol=1e-3)
    assert torch.allclose(luma601((smoothed + 1) / 2), luma601((plain + 1) / 2), atol=1e-4)
