"""Global and local PatchGAN discriminators follow the paper's layer description."""

from __future__ import annotations

import torch
from torch import nn

from training.models.discriminators import global_discriminator, local_discriminator
from training.models.generator import count_parameters


def _expected_params(channels: list[int]) -> int:
    """4x4 convs with bias between consecutive channel counts."""
    return sum(c_in * c_out * 16 + c_out for c_in, c_out in zip(channels, channels[1:], strict=False))


def test_layer_structure_and_parameter_counts() -> None:
    # global: 5 strided layers 64..512 (capped), a stride-1 512 layer, a 1-channel output; local: 4 strided.
    for d, channels, strided in (
        (global_discriminator(), [3, 64, 128, 256, 512, 512, 512, 1], 5),
        (local_discriminator(), [3, 64, 128, 256, 512, 512, 1], 4),
    ):
        convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
        assert [c.out_channels for c in convs] == channels[1:]
        assert [c.stride[0] for c in convs] == [2] * strided + [1, 1]
        assert all(c.kernel_size == (4, 4) for c in convs)
        assert not any(isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) for m in d.modules())
        slopes = {m.negative_slope for m in d.modules() if isinstance(m, nn.LeakyReLU)}
        assert slopes == {0.2}
        assert count_parameters(d) == _expected_params(channels)


def test_output_is_a_score_map_for_crops_and_patches() -> None:
    d_global, d_local = global_discriminator(base=8), local_discriminator(base=8)
    assert d_global(torch.zeros(2, 3, 64, 64)).shape[:2] == (2, 1)
    scores = d_local(torch.rand(6, 3, 32, 32))
    assert scores.shape[:2] == (6, 1) and scores.shape[-1] > 1  # a 32x32 patch still gives a patch map
