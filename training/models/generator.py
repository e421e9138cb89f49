"""The one attention-guided U-Net generator of EnlightenGAN, shared by training and export.

Also home of the two input conventions every caller needs: the default attention map (``1 - luma601``) and the
padding of H and W to a multiple of 16 (and the crop that undoes it). See docs/MODEL_CONTRACT.md.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

SIZE_MULTIPLE = 16
"""H and W of the generator's input must be multiples of this (four 2x2 max-pools)."""

NormKind = Literal["batch", "layer", "none"]
NORM_KINDS: tuple[str, ...] = ("batch", "layer", "none")
INIT_KINDS: tuple[str, ...] = ("paper", "he")

_LUMA601 = (0.299, 0.587, 0.114)


def luma601(image01: torch.Tensor) -> torch.Tensor:
    """Y = 0.299 R + 0.587 G + 0.114 B of [N, 3, H, W] RGB in [0, 1]; returns [N, 1, H, W] in [0, 1]."""
    if image01.dim() != 4 or image01.shape[1] != 3:
        raise ValueError(f"expected [N, 3, H, W] RGB, got {tuple(image01.shape)}")
    r, g, b = image01[:, 0:1], image01[:, 1:2], image01[:, 2:3]
    return _LUMA601[0] * r + _LUMA601[1] * g + _LUMA601[2] * b


def default_attention(image01: torch.Tensor) -> torch.Tensor:
    """The paper's attention map A = 1 - Y (:func:`luma601`).

    image01: [N, 3, H, W] RGB in [0, 1]. Returns [N, 1, H, W] in [0, 1]: dark pixels get much attention.
    """
    return 1.0 - luma601(image01)


def _reflect_index(length: int, size: int, device: torch.device) -> torch.Tensor:
    """Indices 0 .. size-1 of a signal of ``length`` samples mirrored without repeating the edge sample,
    turning back as often as needed (``numpy.pad(mode="reflect")``): 0 1 2 1 0 1 2 1 0 ... for length 3."""
    index = torch.arange(size, device=device)
    if length == 1:
        return torch.zeros_like(index)
    period = 2 * (length - 1)
    index = index % period
    return torch.where(index < length, index, period - index)


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom and right of ``x`` [N, C, H, W] so that H and W are multiples of ``multiple``, by the
    one rule of docs/MODEL_CONTRACT.md: reflection without repeating the edge pixel, turning back where the
    pad is longer than the image (the app's engine and ``training evaluate`` pad the same way).

    Returns the padded tensor and the original (H, W) for :func:`crop_to`.
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h or pad_w:
        x = x[..., _reflect_index(h, h + pad_h, x.device), :][..., _reflect_index(w, w + pad_w, x.device)]
    return x, (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`: keep the top-left ``size`` = (H, W) of ``x`` [N, C, H', W']."""
    return x[..., : size[0], : size[1]]


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel separately (ConvNeXt style), with a per-channel affine.

    Why this alternative to BatchNorm: its output for a pixel depends neither on the other images in the batch
    (so train and eval behave the same, even at batch 4) nor on other pixels (so tiled inference equals
    whole-image inference exactly, which GroupNorm or InstanceNorm would break: their statistics change
    with the tile).
    """

    def __init__(self, channels: int, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype  # statistics in float32 also under mixed precision
        x = x.float()
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        x = (x - mean) * torch.rsqrt(var + self.eps)
        return (x * self.weight[:, None, None] + self.bias[:, None, None]).to(dtype)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return LayerNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose one of {NORM_KINDS}")


class _ConvAct(nn.Module):
    """3x3 conv (padding 1) -> LeakyReLU(0.2) -> norm, the paper's order.

    ``gate`` (an attention map) multiplies the block's output, after the norm, as the authors' code gates
    level 5. (Without a norm this equals gating the conv output: LeakyReLU commutes with a gain >= 0.)
    """

    def __init__(self, c_in: int, c_out: int, *, norm: str | None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self.norm = _norm(norm, c_out) if norm is not None else nn.Identity()

    def forward(self, x: torch.Tensor, gate: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm(self.act(self.conv(x)))
        return x if gate is None else x * gate


class _UpBlock(nn.Module):
    """Bilinear 2x upsample, 3x3 conv halving the channels, concat with the attention-weighted skip,
    then two conv blocks."""

    def __init__(self, c_in: int, *, norm: str, last_norm: bool = True) -> None:
        super().__init__()
        c_out = c_in // 2
        self.reduce = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv1 = _ConvAct(c_in, c_out, norm=norm)
        self.conv2 = _ConvAct(c_out, c_out, norm=norm if last_norm else None)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = torch.cat([self.reduce(x), skip * attention], dim=1)
        return self.conv2(self.conv1(x))


class AttentionUNet(nn.Module):
    """EnlightenGAN's generator: enhanced = R * A + I, with A max-pooled to every scale.

    Like the official code, the attention map is concatenated to the image as a 4th input channel; it also
    gates the first conv of level 5 (A/16) and every skip connection (A, A/2, A/4, A/8).

    Args:
        width: base channel count (32 = the paper: 32, 64, 128, 256, 512 over five levels).
        norm: ``"batch"`` (the paper) or ``"layer"`` (per-pixel channel LayerNorm, see :class:`LayerNorm2d`).
        init: ``"paper"`` (:func:`init_weights`) or ``"he"`` (:func:`init_weights_he`).
    """

    def __init__(self, *, width: int = 32, norm: NormKind = "batch", init: str = "paper") -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        if init not in INIT_KINDS:
            raise ValueError(f"unknown init {init!r}; choose one of {INIT_KINDS}")
        _norm(norm, 1)  # fail early on an unknown kind
        self.width = width
        self.norm = norm
        c = [width * 2**i for i in range(5)]
        self.down = nn.ModuleList()
        for level, c_out in enumerate(c):
            c_in = 4 if level == 0 else c[level - 1]
            pair = [_ConvAct(c_in, c_out, norm=norm), _ConvAct(c_out, c_out, norm=norm)]
            self.down.append(nn.ModuleList(pair))
        self.up = nn.ModuleList(
            [_UpBlock(c[level], norm=norm, last_norm=level > 1) for level in range(4, 0, -1)]
        )
        self.to_residual = nn.Conv2d(c[0], 3, 1)
        if init == "he":
            init_weights_he(self)
        else:
            init_weights(self)

    def forward(self, image: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """image: [N, 3, H, W] in [-1, 1]; attention: [N, 1, H, W] in [0, 1]; H, W multiples of 16.

        Returns enhanced [N, 3, H, W] in the [-1, 1] scale of ``image``, not clamped.
        """
        _check_inputs(image, attention)
        attentions = [attention]
        for _ in range(4):
            attentions.append(F.max_pool2d(attentions[-1], 2))
        x = torch.cat([image, attention], dim=1)
        skips = []
        for level, (conv1, conv2) in enumerate(self.down):
            if level > 0:
                x = F.max_pool2d(x, 2)
            x = conv1(x, gate=attentions[4] if level == 4 else None)
            x = conv2(x)
            skips.append(x)
        # Decoder: deepest first; level-5 output is not a skip.
        for up, skip, gate in zip(self.up, skips[3::-1], attentions[3::-1], strict=True):
            x = up(x, skip, gate)
        residual = self.to_residual(x)
        return residual * attention + image


def _check_inputs(image: torch.Tensor, attention: torch.Tensor) -> None:
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"image must be [N, 3, H, W], got {tuple(image.shape)}")
    n, _, h, w = image.shape
    if tuple(attention.shape) != (n, 1, h, w):
        raise ValueError(f"attention must be [N, 1, H, W] = {(n, 1, h, w)}, got {tuple(attention.shape)}")
    if h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
        raise ValueError(
            f"H and W must be multiples of {SIZE_MULTIPLE}, got {h}x{w}; pad with pad_to_multiple() first"
        )


def init_weights(module: nn.Module) -> None:
    """The paper's init: conv weights N(0, 0.02); norm weights N(1, 0.02); all biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, LayerNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def init_weights_he(generator: AttentionUNet) -> None:
    """He initialisation for LeakyReLU(0.2), biases 0, the output layer at zero (G starts as the identity).

    Without normalisation layers the paper's N(0, 0.02) shrinks the signal at every one of the generator's
    convolutions, so the network starts as an almost constant map and, like a deep linear network from a small
    start, learns its input-output modes one at a time, strongest first: brightness long before colour (a
    network trained so kept one or two colour directions in its last features; scripts/colour_patches.py).
    He's scale keeps each layer's output variance equal to its input's, so every mode is there from the start.
    """
    for m in generator.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, a=0.2, mode="fan_in", nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, LayerNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    nn.init.zeros_(generator.to_residual.weight)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (buffers such as BatchNorm running statistics excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def widen(generator: AttentionUNet, width: int, *, seed: int = 0) -> AttentionUNet:
    """A norm-free generator of ``width`` (a multiple of ``generator.width``) computing the same function.

    Why (Net2Net's widening): it lets a wider network start from trained weights, so that a fine-tune measures
    what the extra channels add rather than a second training from scratch. Every channel of a widened tensor
    is one of the old channels repeated ``k = width / generator.width`` times; a convolution reading widened
    channels splits each old weight over the k copies. The split is drawn at random per weight (shares
    summing to 1, scattered around 1 / k): equal shares would give the copies equal gradients, so they would
    stay copies for ever. Exact up to float rounding; BatchNorm or LayerNorm
    generators are refused (a widened channel LayerNorm would see other statistics).
    """
    if generator.norm != "none":
        raise ValueError(f"only a norm-free generator can be widened exactly, not norm {generator.norm!r}")
    if width % generator.width or width < generator.width:
        raise ValueError(f"width {width} is not a multiple of the generator's width {generator.width}")
    k = width // generator.width
    rng = torch.Generator().manual_seed(seed)
    old = generator.state_dict()
    wide = AttentionUNet(width=width, norm="none")

    def repeated(channels: int) -> torch.Tensor:
        return torch.arange(channels * k) % channels

    def concatenated(first: int, second: int) -> torch.Tensor:
        return torch.cat([repeated(first), first + repeated(second)])

    def shares(shape: tuple[int, ...], old_in: torch.Tensor) -> torch.Tensor:
        """Per weight, the share of its old weight one input copy carries; the copies of an input sum to 1."""
        old_channels = int(old_in.max()) + 1
        copies = len(old_in) // old_channels
        if copies == 1:
            return torch.ones(shape)
        jitter = (torch.rand(shape, generator=rng) - 0.5) / copies
        # Subtract, per old input channel, the jitter's mean over its copies, so that the shares sum to 1.
        sums = torch.zeros(shape[0], old_channels, *shape[2:]).index_add_(1, old_in, jitter)
        return 1.0 / copies + jitter - sums[:, old_in] / copies

    def convert(name: str, old_out: torch.Tensor, old_in: torch.Tensor) -> dict[str, torch.Tensor]:
        weight = old[f"{name}.weight"][old_out][:, old_in]
        return {
            f"{name}.weight": weight * shares(tuple(weight.shape), old_in),
            f"{name}.bias": old[f"{name}.bias"][old_out],
        }

    c = [generator.width * 2**i for i in range(5)]
    state: dict[str, torch.Tensor] = {}
    for level in range(5):
        first_in = torch.arange(4) if level == 0 else repeated(c[level - 1])
        state |= convert(f"down.{level}.0.conv", repeated(c[level]), first_in)
        state |= convert(f"down.{level}.1.conv", repeated(c[level]), repeated(c[level]))
    for index, level in enumerate(range(4, 0, -1)):
        c_out = c[level] // 2
        state |= convert(f"up.{index}.reduce", repeated(c_out), repeated(c[level]))
        state |= convert(f"up.{index}.conv1.conv", repeated(c_out), concatenated(c_out, c_out))
        state |= convert(f"up.{index}.conv2.conv", repeated(c_out), repeated(c_out))
    state |= convert("to_residual", torch.arange(3), repeated(c[0]))
    wide.load_state_dict(state)
    return wide
