"""The attention U-Net: contract shapes, attention at every scale, padding, parameter count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.models.generator import (
    AttentionUNet,
    count_parameters,
    crop_to,
    default_attention,
    pad_to_multiple,
    widen,
)


def _inputs(n: int = 2, h: int = 32, w: int = 48, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    image01 = torch.rand(n, 3, h, w, generator=g)
    return image01 * 2 - 1, default_attention(image01)


def test_paper_width_has_the_papers_parameter_count() -> None:
    # 8,636,675 = the official sid_unet_resize with self-attention (4 input channels); counting only.
    assert count_parameters(AttentionUNet()) == 8_636_675
    assert count_parameters(AttentionUNet(norm="layer")) == 8_636_675
    # Without normalisation the scale and shift of every normalised channel are gone: 2 x 2,912 (10 encoder
    # convs 2 x (32 + 64 + 128 + 256 + 512), decoder 480 + 448: the last conv has no norm).
    assert count_parameters(AttentionUNet(norm="none")) == 8_636_675 - 2 * 2_912


def test_output_shape_and_zero_attention_returns_input_exactly() -> None:
    gen = AttentionUNet(width=8).eval()
    image, attention = _inputs()
    with torch.no_grad():
        out = gen(image, attention)
        assert out.shape == image.shape
        assert not torch.equal(out, image)
        assert torch.equal(gen(image, torch.zeros_like(attention)), image)


def test_default_attention_is_one_minus_luma601() -> None:
    image01 = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5]).reshape(4, 3, 1, 1)
    expected = torch.tensor([1 - 0.299, 1 - 0.587, 1 - 0.114, 0.5]).reshape(4, 1, 1, 1)
    assert torch.allclose(default_attention(image01), expected)


def test_attention_gates_level5_and_every_skip_at_its_own_scale() -> None:
    """Zero attention on one 16x16 block must zero what the skips (and level 5's first conv) carry there."""
    gen = AttentionUNet(width=4).eval()
    image, attention = _inputs(n=1, h=32, w=32)
    attention = attention.clone()
    attention[..., 16:32, 0:16] = 0.0  # one aligned block: at scale 1/s it is rows 16/s.., cols ..16/s
    captured: dict[str, torch.Tensor] = {}
    hooks = [
        up.conv1.register_forward_pre_hook(lambda m, a, i=i: captured.__setitem__(f"up{i}", a[0]))
        for i, up in enumerate(gen.up)
    ]
    hooks.append(gen.down[4][0].register_forward_hook(lambda m, a, out: captured.__setitem__("l5", out)))
    with torch.no_grad():
        gen(image, attention)
    for h in hooks:
        h.remove()
    l5 = captured["l5"]  # level 5's first block, [1, 64, 2, 2]: the block is pixel (1, 0)
    assert torch.all(l5[..., 1, 0] == 0) and torch.all(l5[..., 0, 1] != 0)
    for i, scale in enumerate((8, 4, 2, 1)):  # up0 meets the 1/8 skip ... up3 the full-size skip
        cat = captured[f"up{i}"]
        c_skip = cat.shape[1] // 2
        skip = cat[:, c_skip:]  # [reduced upsampled path | skip * attention]
        b = 16 // scale
        assert torch.all(skip[..., 32 // scale - b :, :b] == 0), f"skip at 1/{scale} not gated"
        assert skip[..., :b, b:].abs().sum() > 0
        assert cat[:, :c_skip, 32 // scale - b :, :b].abs().sum() > 0  # the decoder path itself is not gated


def test_level5_gate_comes_after_the_batchnorm() -> None:
    """The authors' code: x = bn5_1(LReLU(conv5_1(x))) * gray_5. Gated before the norm, a zero attention would
    still leave the BatchNorm's shift there."""
    gen = AttentionUNet(width=4, norm="batch").eval()
    block = gen.down[4][0]
    with torch.no_grad():
        block.norm.bias.fill_(0.5)
        block.norm.running_mean.fill_(0.1)
    x = torch.randn(1, 32, 2, 2)
    gate = torch.tensor([[1.0, 0.0], [0.25, 1.0]]).view(1, 1, 2, 2)
    with torch.no_grad():
        assert torch.allclose(block(x, gate=gate), block(x) * gate)


def test_sizes_must_be_padded_to_a_multiple_of_16() -> None:
    gen = AttentionUNet(width=4).eval()
    image, attention = _inputs(n=1, h=30, w=45)
    with pytest.raises(ValueError, match="multiples of 16"):
        gen(image, attention)
    padded, size = pad_to_multiple(image)
    assert padded.shape[-2:] == (32, 48) and size == (30, 45)
    assert torch.equal(padded[..., 30, :45], image[..., 28, :])  # reflect, not zeros
    assert torch.equal(crop_to(padded, size), image)
    pa, _ = pad_to_multiple(attention)
    with torch.no_grad():
        assert crop_to(gen(padded, pa), size).shape == image.shape


def test_padding_follows_the_contracts_one_rule_also_below_the_pad_size() -> None:
    """docs/MODEL_CONTRACT.md: numpy.pad(mode="reflect") on the bottom and right, turning back where the image
    is smaller than its pad; the golden input (5 x 7, padded to 16 x 16) is what the engine's tests use."""
    golden = Path(__file__).resolve().parents[1] / "golden" / "contract-golden.npz"
    with np.load(golden) as arrays:
        small = arrays["small_input"]
    image = torch.from_numpy(small.transpose(2, 0, 1).astype(np.float32))[None]
    padded, size = pad_to_multiple(image)
    expected = np.pad(small, ((0, 11), (0, 9), (0, 0)), mode="reflect").transpose(2, 0, 1)
    assert size == (5, 7) and torch.equal(padded[0], torch.from_numpy(expected.astype(np.float32)))
    one_row = torch.arange(3.0).view(1, 1, 1, 3)
    assert torch.equal(
        pad_to_multiple(one_row, 8)[0][0, 0], torch.tensor([[0.0, 1, 2, 1, 0, 1, 2, 1]]).repeat(8, 1)
    )


def test_attention_shape_mismatch_is_a_clear_error() -> None:
    image, attention = _inputs(n=1)
    with pytest.raises(ValueError, match="attention"):
        AttentionUNet(width=4)(image, attention[..., :16, :])


def test_layer_norm_and_norm_free_variants_behave_the_same_in_train_and_eval() -> None:
    image, attention = _inputs()
    for norm, same in (("layer", True), ("none", True), ("batch", False)):
        gen = AttentionUNet(width=4, norm=norm)
        with torch.no_grad():
            train_out = gen.train()(image, attention)
            eval_out = gen.eval()(image, attention)
        assert torch.allclose(train_out, eval_out, atol=1e-6) is same, norm


def test_init_follows_the_paper() -> None:
    gen = AttentionUNet(width=16)
    convs = torch.cat([gen.down[3][1].conv.weight.flatten(), gen.up[0].reduce.weight.flatten()])
    assert abs(convs.std().item() - 0.02) < 0.002 and abs(convs.mean().item()) < 0.002
    bn = gen.down[2][0].norm
    assert abs(bn.weight.mean().item() - 1.0) < 0.01 and 0.005 < bn.weight.std().item() < 0.04
    assert torch.all(bn.bias == 0) and torch.all(gen.down[2][0].conv.bias == 0)


def _trained_like(width: int, seed: int = 0) -> AttentionUNet:
    """A norm-free generator whose weights are all different and large enough to matter (unlike the init)."""
    torch.manual_seed(seed)
    generator = AttentionUNet(width=width, norm="none").eval()
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.1)
    return generator


@pytest.mark.parametrize("width", [8, 12])
def test_widening_keeps_the_function_at_the_new_width(width: int) -> None:
    narrow = _trained_like(4)
    wide = widen(narrow, width, seed=3).eval()
    assert wide.width == width
    assert count_parameters(wide) == count_parameters(AttentionUNet(width=width, norm="none"))
    image, attention = _inputs(n=1, h=48, w=64)
    with torch.no_grad():
        expected = narrow(image, attention)
        tolerance = 1e-4 * float(expected.abs().max())
        assert torch.allclose(wide(image, attention), expected, rtol=1e-4, atol=tolerance)


def test_widened_copies_of_a_channel_get_different_gradients() -> None:
    # Equal splits of the outgoing weights would give every copy the same gradient for ever: width 8 that
    # trains like width 4.
    wide = widen(_trained_like(4), 8, seed=3)
    image, attention = _inputs(n=1, h=32, w=32)
    wide(image, attention).square().mean().backward()
    gradient = wide.down[1][0].conv.weight.grad  # level 2: 8 old channels repeated twice
    assert gradient is not None
    assert not torch.allclose(gradient[:8], gradient[8:])


def test_widening_refuses_what_it_cannot_keep_exact() -> None:
    with pytest.raises(ValueError, match="multiple"):
        widen(_trained_like(4), 6)
    with pytest.raises(ValueError, match="norm-free"):
        widen(AttentionUNet(width=4, norm="layer"), 8)


def _last_features_std(generator: AttentionUNet) -> float:
    captured: list[torch.Tensor] = []
    hook = generator.to_residual.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
    image, attention = _inputs(n=1, h=64, w=64)
    with torch.no_grad():
        generator(image, attention)
    hook.remove()
    return float(captured[0].std())


def test_he_init_keeps_the_signal_through_the_norm_free_generator_and_starts_at_the_identity() -> None:
    torch.manual_seed(0)
    paper = AttentionUNet(width=16, norm="none")
    torch.manual_seed(0)
    he = AttentionUNet(width=16, norm="none", init="he")
    # The paper's N(0, 0.02) with no norm to rescale leaves almost nothing of the input by the last layer;
    # He's scale keeps it at the input's order (input std about 0.6).
    assert _last_features_std(paper) < 1e-3
    assert 0.2 < _last_features_std(he) < 5.0
    image, attention = _inputs(n=1, h=32, w=32)
    with torch.no_grad():
        assert torch.equal(he(image, attention), image)  # output layer at zero: residual 0
    assert he.to_residual.weight.abs().sum() == 0 and any(p.abs().sum() > 0 for p in he.down.parameters())


def test_an_unknown_init_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        AttentionUNet(width=4, init="xavier")
