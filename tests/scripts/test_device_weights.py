"""The GPU-run kit's file formats: scripts/pack_for_device.py resizes as the trainer does, and the generator
weights survive scripts/device_weights.py's fp16 parts and scripts/device_unpack.py's rebuilt checkpoint."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training.checkpoint import last_path, load_generator, save_checkpoint
from training.config import ModelConfig, TrainConfig, to_dict
from training.data import UnpairedCrops
from training.models.generator import AttentionUNet, default_attention

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, _SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # device_unpack imports device_weights by name, as when run from scripts/
    spec.loader.exec_module(module)
    return module


device_weights = _load("device_weights")
device_unpack = _load("device_unpack")
pack_for_device = _load("pack_for_device")


def _checkpoint(path: Path) -> dict:
    """A width-8 BatchNorm run's checkpoint with BatchNorm statistics and a moving average unlike G."""
    torch.manual_seed(0)
    generator = AttentionUNet(width=8, norm="batch").train()
    with torch.no_grad():
        x = torch.rand(2, 3, 32, 32) * 2 - 1
        generator(x, default_attention((x + 1) / 2))
    ema = copy.deepcopy(generator)
    with torch.no_grad():
        for p in ema.parameters():
            p.mul_(0.5)
    config = TrainConfig(model=ModelConfig(width=8))
    state = {
        "step": 1234,
        "config": to_dict(config),
        "generator": generator.state_dict(),
        "generator_ema": ema.state_dict(),
        "info": {"backbone": "vgg16:relu5_1/s8/imagenet_no_mean", "params": 1, "trained_on": "test"},
    }
    save_checkpoint(state, path)
    return state


def test_split_parts_round_trip_in_fp16_with_buffers_exact(tmp_path: Path, monkeypatch) -> None:
    state = _checkpoint(tmp_path / "full.pt")
    monkeypatch.setattr(device_weights, "PART_BYTES", 400_000)  # several parts, as width 32 needs two
    files = device_weights.split(tmp_path / "full.pt", tmp_path, "run")
    meta = json.loads((tmp_path / "run.meta.json").read_text())
    assert len(meta["parts"]["raw"]) > 1 and len(meta["parts"]["ema"]) == len(meta["parts"]["raw"])
    assert all(f.stat().st_size < 600_000 for f in files)
    params = device_weights.parameter_names(state["config"]["model"])
    joined = device_weights.join(tmp_path, "run")
    assert joined["step"] == 1234 and joined["info"] == state["info"]
    for key in ("generator", "generator_ema"):
        assert joined[key].keys() == state[key].keys()
        for name, original in state[key].items():
            back = joined[key][name]
            assert back.dtype == original.dtype
            expected = original.half().float() if name in params else original  # buffers travel as they are
            assert torch.equal(back, expected), name


def test_unpacked_run_folder_loads_both_weight_sets(tmp_path: Path) -> None:
    state = _checkpoint(tmp_path / "full.pt")
    returned = tmp_path / "returned"
    returned.mkdir()
    device_weights.split(tmp_path / "full.pt", returned, "paper")
    (returned / "paper.log").write_text("log\n")
    run = tmp_path / "run"
    path = device_unpack.unpack(returned, "paper", run)
    assert path.name == "step_001234.pt" and last_path(run).is_file()
    assert (run / "config.json").is_file() and (run / "train.log").read_text() == "log\n"
    for ema, key in ((False, "generator"), (True, "generator_ema")):
        generator, info = load_generator(path, ema=ema)
        assert info["step"] == 1234 and info["ema"] == ema
        for name, value in generator.state_dict().items():
            assert torch.allclose(value, state[key][name], rtol=1e-3, atol=1e-6), (key, name)
    with pytest.raises(SystemExit):
        device_unpack.unpack(returned, "paper", run)


def test_packed_images_give_the_trainers_crops(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    folders = {name: (tmp_path / name, tmp_path / f"packed_{name}") for name in ("low", "normal")}
    sizes = {"low": [(600, 500), (300, 350)], "normal": [(500, 700), (420, 420)]}
    for name, (source, packed) in folders.items():
        source.mkdir()
        packed.mkdir()
        for i, size in enumerate(sizes[name]):
            image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
            image.save(source / f"{i}.png")
            # Losslessly, so that only the resize is compared.
            pack_for_device.resized(image, 400).save(packed / f"{i}.png")
    for name, (_, packed) in folders.items():
        for path in packed.iterdir():
            with Image.open(path) as image:
                assert min(image.size) == min(400, min(sizes[name][int(path.stem)]))

    def crops(index: int) -> UnpairedCrops:
        return UnpairedCrops(
            low_dir=folders["low"][index],
            normal_dir=folders["normal"][index],
            global_batch=2,
            crop=64,
            short_side=400,
            vary=0.5,
        )

    original, packed = crops(0), crops(1)
    for k in range(8):
        a, b = original[k], packed[k]
        for key in a:
            assert torch.equal(a[key], b[key]), (k, key)


def test_an_extra_folder_packs_alone_for_a_call_of_its_own(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    extra = tmp_path / "train_normal_sice"
    extra.mkdir()
    for stem, size in (("s1", (640, 480)), ("s2", (300, 200))):
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(extra / f"{stem}.png")
    out = tmp_path / "pack_extra"
    assert pack_for_device.main(["--extra", str(extra), "--out", str(out), "--budget-mib", "1000"]) == 0
    # Only that folder, named as the source so that --normal-extra reads the same name; no VGG-16 copy.
    assert sorted(p.name for p in out.iterdir()) == ["PACK.json", "train_normal_sice"]
    packed = {p.stem: p for p in (out / "train_normal_sice").iterdir()}
    assert sorted(packed) == ["s1", "s2"]
    with Image.open(packed["s1"]) as image:
        assert image.format == "WEBP" and image.size == (533, 400)
    manifest = json.loads((out / "PACK.json").read_text())
    assert manifest["images"] == {"train_normal_sice": 2}
    assert manifest["sources"] == {"train_normal_sice": str(extra)}
    assert "vgg16" not in manifest
