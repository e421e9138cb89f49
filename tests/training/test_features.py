"""Perceptual backbones: frozen, in eval mode, normalisation as buffers, VGG-16 from torchvision's format."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from training.features import BackboneUnavailableError, build_backbone, vgg16_relu5_1
from training.losses import sfp_loss


def _assert_frozen(backbone: nn.Module) -> None:
    assert all(not p.requires_grad for p in backbone.parameters())
    backbone.train()  # the trainer's .train() calls must not switch it
    assert not any(m.training for m in backbone.modules())
    assert {"mean", "std"} <= {name for name, _ in backbone.named_buffers()}


def test_efficientnet_lite0_is_frozen_eval_and_stride_16() -> None:
    backbone = build_backbone("efficientnet_lite0")
    _assert_frozen(backbone)
    assert backbone.tag == "efficientnet_lite0:blocks.10"
    image = torch.rand(2, 3, 64, 32) * 2 - 1
    features = backbone(image)
    assert features.shape == (2, 112, 4, 2)
    # eval mode: a sample's features do not depend on the rest of the batch (BatchNorm running stats)
    assert torch.allclose(backbone(image[:1]), features[:1], rtol=1e-4, atol=1e-4)
    # The SFP loss reaches the enhanced image through the frozen network, and only the image.
    enhanced = (image * 0.5 + 0.3).requires_grad_(True)
    sfp_loss(backbone, image, enhanced).backward()
    assert enhanced.grad is not None and enhanced.grad.abs().sum() > 0
    assert all(p.grad is None for p in backbone.parameters())


def _torchvision_style_vgg16(path: Path) -> dict[str, torch.Tensor]:
    """A state dict with torchvision's VGG-16 keys (random values): features.* convs and a classifier."""
    gen = torch.Generator().manual_seed(0)
    state: dict[str, torch.Tensor] = {}
    c_in, index = 3, 0
    for item in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if item == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(item, c_in, 3, 3, generator=gen) * 0.05
        state[f"features.{index}.bias"] = torch.randn(item, generator=gen) * 0.01
        c_in, index = item, index + 2
    state["classifier.0.weight"] = torch.zeros(4, 4)
    torch.save(state, path)
    return state


def test_vgg16_loads_torchvision_state_dict_up_to_relu5_1(tmp_path: Path) -> None:
    state = _torchvision_style_vgg16(tmp_path / "vgg16.pth")
    backbone = build_backbone("vgg16", vgg16_weights=tmp_path / "vgg16.pth")
    _assert_frozen(backbone)
    assert backbone.tag == "vgg16:relu5_1"
    assert torch.equal(backbone.body[24].weight, state["features.24.weight"])  # conv5_1
    features = backbone(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert features.shape == (1, 512, 2, 2) and features.min() >= 0  # after relu5_1


def test_vgg16_without_weights_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackboneUnavailableError, match="efficientnet_lite0"):
        vgg16_relu5_1(tmp_path / "missing.pth")
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(BackboneUnavailableError, match="not a torchvision VGG-16"):
        vgg16_relu5_1(tmp_path / "other.pth")
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("resnet")
