"""Perceptual backbones: frozen, in eval mode, normalisation as buffers, VGG-16 from torchvision's format."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from training.config import LossConfig
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


def test_vgg16_loads_torchvision_state_dict_up_to_relu5_1(vgg16_weights_file: Path) -> None:
    state = torch.load(vgg16_weights_file, weights_only=True)
    backbone = build_backbone("vgg16", vgg16_weights=vgg16_weights_file, vgg_stride=16)
    _assert_frozen(backbone)
    assert backbone.tag == "vgg16:relu5_1/s16"
    assert torch.equal(backbone.body[24].weight, state["features.24.weight"])  # conv5_1
    features = backbone(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert features.shape == (1, 512, 2, 2) and features.min() >= 0  # after relu5_1


def test_vgg16_default_is_the_authors_stride_8(vgg16_weights_file: Path) -> None:
    """Their vgg_maxpooling is off: the 4th pool is skipped, so a 320 crop gives 40x40 relu5_1 features and a
    32 px patch 4x4 (torchvision's full VGG: 20x20 and 2x2)."""
    backbone = build_backbone("vgg16", vgg16_weights=vgg16_weights_file)
    assert backbone.tag == "vgg16:relu5_1/s8" and backbone.stride == 8
    assert backbone(torch.zeros(1, 3, 320, 320)).shape == (1, 512, 40, 40)
    assert backbone(torch.zeros(6, 3, 32, 32)).shape == (6, 512, 4, 4)
    assert LossConfig().vgg_stride == 8 and LossConfig().backbone == "vgg16"


def test_vgg16_input_normalisations(vgg16_weights_file: Path) -> None:
    """imagenet: (x - mean) / std as torchvision's weights were trained; imagenet_no_mean: x / std, the
    counterpart of the authors' un-centred caffe input. A mid-grey image is fed as about 0 and about 2.2."""
    grey = torch.zeros(1, 3, 16, 16)  # 0.5 in [0, 1]
    for name, expected in (("imagenet", (0.5 - 0.456) / 0.224), ("imagenet_no_mean", 0.5 / 0.224)):
        backbone = build_backbone("vgg16", vgg16_weights=vgg16_weights_file, vgg_input=name)
        fed = (grey + 1.0) * 0.5 - backbone.mean
        assert (fed / backbone.std)[0, 1, 0, 0].item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="normalisation"):
        build_backbone("vgg16", vgg16_weights=vgg16_weights_file, vgg_input="caffe")


def test_vgg16_without_weights_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackboneUnavailableError, match="efficientnet_lite0"):
        vgg16_relu5_1(tmp_path / "missing.pth")
    monkeypatch.setenv("ENLIGHTEN_TRAINING_CACHE", str(tmp_path / "empty_cache"))
    with pytest.raises(BackboneUnavailableError, match="fetch-vgg16"):
        vgg16_relu5_1()
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(BackboneUnavailableError, match="not a torchvision VGG-16"):
        vgg16_relu5_1(tmp_path / "other.pth")
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("resnet")
