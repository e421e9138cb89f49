"""The training loop: schedule, one step's effect, exact resume, self-contained checkpoints, the CLI."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from training.__main__ import main
from training.checkpoint import load_checkpoint, load_generator
from training.config import OptimConfig, TrainConfig, load_config, to_dict
from training.losses import sfp_loss
from training.models.generator import count_parameters, default_attention
from training.trainer import _gan_step, _tone_loss, _warmup_step, build, learning_rate, schedule_steps, train


def test_learning_rate_is_constant_then_linear_to_zero() -> None:
    lrs = [learning_rate(s, base=1.0, constant_steps=3, decay_steps=4) for s in range(9)]
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert schedule_steps(OptimConfig(epochs_constant=100, epochs_decay=100), 250) == (25_000, 25_000)
    assert schedule_steps(OptimConfig(max_steps=1000, decay_fraction=0.3), 250) == (700, 300)


def _states_equal(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, dict):
            if not isinstance(y, dict) or not _states_equal(x, y):
                return False
        elif isinstance(x, torch.Tensor):
            if not torch.equal(x, y):
                return False
        elif isinstance(x, list):
            if len(x) != len(y) or not all(_states_equal({0: u}, {0: v}) for u, v in zip(x, y, strict=True)):
                return False
        elif x != y:
            return False
    return True


def test_one_step_changes_g_and_both_discriminators(tiny_config: TrainConfig, tmp_path: Path) -> None:
    config = replace(tiny_config, optim=OptimConfig(max_steps=1))
    initial, _ = build(config, torch.device("cpu"))
    train(config, tmp_path / "run")
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_000001.pt")
    for name, module in (
        ("generator", initial.g),
        ("d_global", initial.d_global),
        ("d_local", initial.d_local),
    ):
        before = module.state_dict()
        changed = [
            k for k, v in state[name].items() if v.is_floating_point() and not torch.equal(v, before[k])
        ]
        weights = [k for k in before if k.endswith("weight")]
        assert set(weights) <= set(changed), f"{name}: unchanged {set(weights) - set(changed)}"
    # The moving average starts with decay (1 + 0) / (10 + 0) = 0.1: mostly the new weights.
    before, after, ema = initial.g.state_dict(), state["generator"], state["generator_ema"]
    for k in ("down.0.0.conv.weight", "to_residual.weight"):
        assert torch.allclose(ema[k], 0.1 * before[k] + 0.9 * after[k], rtol=0, atol=1e-7)


def test_resume_continues_exactly_as_an_uninterrupted_run(tiny_config: TrainConfig, tmp_path: Path) -> None:
    # One warm-start step, then GAN steps; the crop grows from 32 to 48 at step 2 (curriculum).
    config = replace(
        tiny_config,
        data=replace(tiny_config.data, crop_schedule=((0, 32), (2, 48))),
        optim=OptimConfig(max_steps=3, warmup_steps=1),
    )
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(to_dict(config)))
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert main(["train", "--config", str(config_file), "--out", str(whole)]) == 0
    assert main(["train", "--config", str(config_file), "--out", str(split), "--stop-at", "2"]) == 0
    assert not (split / "checkpoints" / "step_000003.pt").exists()
    assert main(["train", "--resume", str(split)]) == 0

    step2 = load_checkpoint(whole / "checkpoints" / "step_000002.pt")
    a = load_checkpoint(whole / "checkpoints" / "last.pt")
    b = load_checkpoint(split / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 3
    assert not torch.equal(a["generator"]["to_residual.weight"], step2["generator"]["to_residual.weight"])
    for key in ("generator", "generator_ema", "d_global", "d_local", "opt_g", "opt_d_global", "opt_d_local"):
        assert _states_equal(a[key], b[key]), key
    assert load_config(split / "config.json") == config


def test_checkpoint_alone_rebuilds_the_generator(tiny_config: TrainConfig, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(tiny_config, run)
    generator, info = load_generator(run / "checkpoints" / "last.pt")
    assert not generator.training and info["ema"] and info["step"] == 3
    assert info["backbone"] == "efficientnet_lite0:blocks.10"
    assert info["params"] == count_parameters(generator) and info["model"]["width"] == 4
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert all(torch.equal(v, state["generator_ema"][k]) for k, v in generator.state_dict().items())
    raw, info_raw = load_generator(run / "checkpoints" / "last.pt", ema=False)
    assert not info_raw["ema"] and not torch.equal(raw.to_residual.weight, generator.to_residual.weight)
    image01 = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert generator(image01 * 2 - 1, default_attention(image01)).shape == (1, 3, 32, 48)

    with Image.open(run / "samples" / "step_000002.png") as sheet:
        assert sheet.size == (3 * 48, 2 * 48)  # input | output | attention, one row per crop of the batch
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert load_config(run / "config.json") == tiny_config


def test_an_existing_run_is_not_overwritten(tiny_config: TrainConfig, tmp_path: Path) -> None:
    config = replace(tiny_config, optim=OptimConfig(max_steps=1))
    train(config, tmp_path / "run")
    with pytest.raises(FileExistsError, match="--resume"):
        train(config, tmp_path / "run")


def test_tone_regulariser_pulls_the_gan_phase_toward_the_tone_curve(tiny_config: TrainConfig) -> None:
    # GAN and SFP terms off: only the tone term moves G, so its L1 to the curve must fall step after step.
    loss = replace(tiny_config.loss, w_gan_global=0, w_gan_local=0, w_sfp_global=0, w_sfp_local=0, w_tone=1.0)
    config = replace(tiny_config, loss=loss, optim=OptimConfig(lr=1e-2, max_steps=1))
    nets, opts = build(config, torch.device("cpu"))
    low = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 0.3 * 2 - 1
    normal = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    patches = torch.Generator().manual_seed(3)
    tone = [
        _gan_step(nets, opts, low, low, normal, config, nullcontext(), patches)["tone_l1"] for _ in range(4)
    ]
    assert all(b < a for a, b in zip(tone, tone[1:], strict=False)) and tone[-1] < tone[0] * 0.95, tone
    paper = _gan_step(nets, opts, low, low, normal, tiny_config, nullcontext(), patches)
    assert "tone_l1" not in paper  # w_tone = 0 (the paper): the term is not computed at all


def test_init_generator_starts_g_from_a_checkpoint_and_refuses_another_architecture(
    tiny_config: TrainConfig, tmp_path: Path
) -> None:
    train(replace(tiny_config, optim=OptimConfig(max_steps=1)), tmp_path / "first")
    checkpoint = tmp_path / "first" / "checkpoints" / "step_000001.pt"
    trained, _ = load_generator(checkpoint)
    nets, _ = build(replace(tiny_config, init_generator=str(checkpoint), seed=7), torch.device("cpu"))
    fresh, _ = build(replace(tiny_config, seed=7), torch.device("cpu"))
    for name, value in trained.state_dict().items():
        assert torch.equal(nets.g.state_dict()[name], value), name
        assert torch.equal(nets.ema.state_dict()[name], value), name
    name = "to_residual.weight"
    assert not torch.equal(fresh.g.state_dict()[name], trained.state_dict()[name])  # not the seed's weights
    wider = replace(tiny_config, init_generator=str(checkpoint), model=replace(tiny_config.model, width=8))
    with pytest.raises(ValueError, match="init-generator"):
        build(wider, torch.device("cpu"))


def test_a_fine_tuning_run_resumes_without_its_initial_checkpoint(
    tiny_config: TrainConfig, tmp_path: Path
) -> None:
    train(replace(tiny_config, optim=OptimConfig(max_steps=1)), tmp_path / "first")
    initial = tmp_path / "initial.pt"
    (tmp_path / "first" / "checkpoints" / "step_000001.pt").rename(initial)
    config = replace(tiny_config, init_generator=str(initial), optim=OptimConfig(max_steps=3))
    train(config, tmp_path / "uninterrupted")
    train(config, tmp_path / "resumed", stop_at=2)
    initial.unlink()  # moved or deleted after the run started: resuming must not need it
    train(config, tmp_path / "resumed", resume=True)
    a = load_checkpoint(tmp_path / "uninterrupted" / "checkpoints" / "step_000003.pt")
    b = load_checkpoint(tmp_path / "resumed" / "checkpoints" / "step_000003.pt")
    assert _states_equal(a["generator"], b["generator"])


def test_degraded_inputs_are_fitted_to_the_tone_curve_of_the_clean_crop(
    tiny_config: TrainConfig, tmp_path: Path
) -> None:
    config = replace(tiny_config, optim=OptimConfig(max_steps=1, warmup_steps=1))
    nets, opts = build(config, torch.device("cpu"))
    clean = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 0.3 * 2 - 1
    noisy = clean + 0.1 * torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        enhanced = nets.g(noisy, default_attention((noisy + 1.0) * 0.5))
        to_clean, to_noisy = (_tone_loss(target, enhanced, config.loss).item() for target in (clean, noisy))
    assert abs(to_clean - to_noisy) > 1e-3
    loss = _warmup_step(nets, opts, noisy, clean, clean, config, nullcontext())["warmup_l1"].item()
    assert loss == pytest.approx(to_clean, rel=1e-4)
    # And a whole run with degradation on: the clean crops travel with the batch.
    degraded = replace(config.data, degrade_noise=0.05, degrade_jpeg_quality=30)
    train(replace(config, data=degraded), tmp_path / "run")
    assert (tmp_path / "run" / "checkpoints" / "step_000001.pt").is_file()


def test_the_gan_step_preserves_the_features_of_the_clean_input_not_of_its_degradation(
    tiny_config: TrainConfig,
) -> None:
    nets, opts = build(tiny_config, torch.device("cpu"))
    clean = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 0.3 * 2 - 1
    noisy = clean + 0.1 * torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    normal = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        enhanced = nets.g(noisy, default_attention((noisy + 1.0) * 0.5))
        to_clean, to_noisy = (sfp_loss(nets.backbone, target, enhanced).item() for target in (clean, noisy))
    assert abs(to_clean - to_noisy) > 1e-4
    losses = _gan_step(nets, opts, noisy, clean, normal, tiny_config, nullcontext(), torch.Generator())
    assert losses["sfp_global"].item() == pytest.approx(to_clean, rel=1e-4)


@pytest.mark.parametrize("warmup", [False, True])
def test_no_harm_term_pulls_normal_light_crops_back_to_themselves(
    tiny_config: TrainConfig, warmup: bool
) -> None:
    """Beyond the paper, off by default: L1 between G's output for a normal-light crop and that crop, in the
    GAN step and in the supervised warm-start alike."""
    # Weighted well above the warm-start's tone term, which lifts these crops as it lifts dark ones.
    loss = replace(
        tiny_config.loss, w_gan_global=0, w_gan_local=0, w_sfp_global=0, w_sfp_local=0, w_no_harm=10.0
    )
    config = replace(tiny_config, loss=loss, optim=OptimConfig(lr=1e-2, max_steps=1))
    nets, opts = build(config, torch.device("cpu"))
    with torch.no_grad():  # make G start away from the identity, so there is harm to undo
        nets.g.to_residual.bias.fill_(0.3)
    low = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 0.3 * 2 - 1
    normal = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 - 1
    patches = torch.Generator().manual_seed(3)

    def step(config: TrainConfig) -> dict[str, torch.Tensor]:
        if warmup:
            return _warmup_step(nets, opts, low, low, normal, config, nullcontext())
        return _gan_step(nets, opts, low, low, normal, config, nullcontext(), patches)

    harm = [step(config)["no_harm_l1"].item() for _ in range(4)]
    assert all(b < a for a, b in zip(harm, harm[1:], strict=False)) and harm[-1] < harm[0] * 0.9, harm
    assert "no_harm_l1" not in step(tiny_config)


def test_a_run_with_the_papers_vgg16_at_stride_8_and_vary(
    tiny_config: TrainConfig, vgg16_weights_file: Path, tmp_path: Path
) -> None:
    """The paper's defaults end to end: VGG-16 relu5_1 at stride 8 (random weights in torchvision's layout
    here), vary on; the backbone's tag goes into the checkpoint."""
    loss = replace(tiny_config.loss, backbone="vgg16", vgg16_weights=str(vgg16_weights_file))
    config = replace(tiny_config, loss=loss, optim=OptimConfig(max_steps=1))
    assert config.data.vary == 0.5 and config.loss.vgg_stride == 8
    train(config, tmp_path / "run")
    info = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["info"]
    assert info["backbone"] == "vgg16:relu5_1/s8/imagenet_no_mean"


def test_the_chroma_edge_term_weighs_colour_speckle_and_nothing_else(tiny_config: TrainConfig) -> None:
    from training.models.generator import luma601

    generator = torch.Generator().manual_seed(4)
    # Flat crops: the target and the output have no edges, so every edge the noise adds counts in full.
    low = torch.full((2, 3, 32, 32), -0.6)
    output = torch.zeros(2, 3, 32, 32)
    speckle = 0.05 * torch.randn(2, 3, 32, 32, generator=generator)
    colour_only = speckle - luma601(speckle)
    grey_only = luma601(speckle).expand(-1, 3, -1, -1)  # the same change in R, G and B: chroma untouched
    plain = replace(tiny_config.loss, w_tone_chroma_edges=0.0)
    weighted = replace(plain, w_tone_chroma_edges=8.0)

    def rise(loss_config, noise: torch.Tensor) -> float:
        return (_tone_loss(low, output + noise, loss_config) - _tone_loss(low, output, loss_config)).item()

    assert rise(weighted, grey_only) == pytest.approx(rise(plain, grey_only), abs=1e-6)
    assert rise(weighted, colour_only) > rise(plain, colour_only) + 0.05


def test_the_chroma_term_pulls_colour_toward_the_targets_and_ignores_luma(tiny_config: TrainConfig) -> None:
    from training.models.generator import luma601

    low = torch.full((2, 3, 32, 32), -0.6)
    output = torch.zeros(2, 3, 32, 32)
    # Flat offsets: no edge term sees them, only the L1 terms.
    tint = torch.tensor([0.06, -0.03, -0.04]).view(1, 3, 1, 1).expand(2, 3, 32, 32)
    colour_only = tint - luma601(tint)
    grey_only = luma601(tint).expand(-1, 3, -1, -1)
    plain = replace(tiny_config.loss, w_tone_chroma=0.0, w_tone_edges=4.0)
    weighted = replace(plain, w_tone_chroma=4.0)

    def rise(loss_config, change: torch.Tensor) -> float:
        return (_tone_loss(low, output + change, loss_config) - _tone_loss(low, output, loss_config)).item()

    assert rise(weighted, grey_only) == pytest.approx(rise(plain, grey_only), abs=1e-6)
    assert rise(weighted, colour_only) > rise(plain, colour_only) + 0.05


def test_the_generator_init_comes_from_the_config(tiny_config: TrainConfig) -> None:
    he = replace(tiny_config, model=replace(tiny_config.model, norm="none", g_init="he"))
    nets, _ = build(he, torch.device("cpu"))
    assert nets.g.to_residual.weight.abs().sum() == 0
    paper, _ = build(replace(he, model=replace(he.model, g_init="paper")), torch.device("cpu"))
    assert paper.g.to_residual.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown g_init"):
        replace(tiny_config.model, g_init="xavier")
