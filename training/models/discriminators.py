"""Global and local PatchGAN discriminators of EnlightenGAN (no normalisation, 4x4 convs, LeakyReLU 0.2)."""

from __future__ import annotations

import torch
from torch import nn

from training.models.generator import init_weights

GLOBAL_STRIDED_LAYERS = 5
"""The global discriminator sees the whole crop: five stride-2 layers."""
LOCAL_STRIDED_LAYERS = 4
"""The local discriminator sees 32x32 patches: four stride-2 layers."""


class PatchDiscriminator(nn.Module):
    """``strided_layers`` stride-2 4x4 convs (channels base, 2 base, ... capped at ``max_channels``), then one
    stride-1 4x4 conv and a 4x4 conv to one channel; LeakyReLU(0.2) after every conv but the last.

    Padding is 2, as in the reference code: it keeps a 32x32 patch alive through four stride-2 layers.
    """

    def __init__(self, *, strided_layers: int, base: int = 64, max_channels: int = 512, in_channels: int = 3):
        super().__init__()
        if strided_layers < 1:
            raise ValueError(f"strided_layers must be >= 1, got {strided_layers}")
        layers: list[nn.Module] = []
        c_in = in_channels
        for i in range(strided_layers + 1):  # the last of these is the stride-1 layer
            c_out = min(base * 2**i, max_channels)
            stride = 2 if i < strided_layers else 1
            layers += [nn.Conv2d(c_in, c_out, 4, stride=stride, padding=2), nn.LeakyReLU(0.2)]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, 1, 4, stride=1, padding=2))
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, 3, H, W] in [-1, 1]. Returns unbounded patch scores [N, 1, h, w]."""
        return self.net(x)


def global_discriminator(*, base: int = 64) -> PatchDiscriminator:
    """The discriminator that sees the whole crop."""
    return PatchDiscriminator(strided_layers=GLOBAL_STRIDED_LAYERS, base=base)


def local_discriminator(*, base: int = 64) -> PatchDiscriminator:
    """The discriminator that sees the 32x32 patches."""
    return PatchDiscriminator(strided_layers=LOCAL_STRIDED_LAYERS, base=base)
