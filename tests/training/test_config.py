"""Config: JSON round trip, validation, and the CLI options that fill it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from training.__main__ import _parser, _with_overrides, main
from training.config import (
    DataConfig,
    LossConfig,
    ModelConfig,
    TrainConfig,
    from_dict,
    load_config,
    save_config,
)


def test_json_round_trip_keeps_nested_tuples(tmp_path: Path) -> None:
    config = TrainConfig(
        data=DataConfig(
            low="a", normal="b", crop_schedule=((0, 128), (3000, 256)), low_weights=(("n*", 4.0),)
        ),
        model=ModelConfig(width=16, norm="layer"),
    )
    save_config(config, tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == config
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        from_dict(TrainConfig, {"batchsize": 3})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelConfig(norm="group"), "unknown norm"),
        (lambda: LossConfig(backbone="resnet"), "unknown backbone"),
        (lambda: LossConfig(tone_keep_colour=0.5), "needs a fixed curve"),
        (lambda: LossConfig(tone_fixed_gamma=0.3, tone_keep_colour=1.5), r"in \[0, 1\]"),
        (lambda: LossConfig(tone_local_contrast=-1.0), "tone_local_contrast and"),
        (lambda: LossConfig(tone_local_radius=0), "tone_local_radius >= 1"),
        (lambda: LossConfig(tone_local_coring=-1.0), "tone_local_coring must be >= 0"),
        (lambda: TrainConfig(loss=LossConfig(patch_size=16)), "patch_size"),
        (lambda: TrainConfig(data=DataConfig(crop=100)), "multiples of 16"),
        (lambda: TrainConfig(data=DataConfig(crop_schedule=((0, 16),))), "at least patch_size"),
    ],
)
def test_invalid_configs_fail_at_construction(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_cli_options_override_the_config_file() -> None:
    args = _parser().parse_args(
        [
            "--crop-schedule",
            "0:128,3000:256",
            "--low-weights",
            "nightlfx_*=4,sci_*=2",
            "--width",
            "16",
            "--max-steps",
            "100",
            "--threads",
            "1",
        ]
    )
    config = _with_overrides(TrainConfig(batch_size=8), args)
    assert config.data.crop_schedule == ((0, 128), (3000, 256))
    assert config.data.low_weights == (("nightlfx_*", 4.0), ("sci_*", 2.0))
    assert (config.model.width, config.optim.max_steps, config.threads, config.batch_size) == (16, 100, 1, 8)


def test_cli_reports_bad_input_without_a_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="training"):
        args = ["train", "--low", str(tmp_path / "nope"), "--normal", str(tmp_path), "--out", str(tmp_path)]
        code = main([*args, "--backbone", "efficientnet_lite0"])
    assert code == 1 and "image folder not found" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="training"):
        code = main(args)  # the paper's VGG-16, never fetched into this (empty) cache
    assert code == 1 and "python -m training fetch-vgg16" in caplog.text
    assert main(["bogus"]) == 2
