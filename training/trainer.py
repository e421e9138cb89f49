"""EnlightenGAN's training loop, readable top to bottom: :func:`train`.

Per step: the generator enhances a batch of low-light crops; G is updated against both discriminators (frozen
for that step) plus the self-feature-preserving loss; then the global and local discriminators are updated on
the same, detached output. An optional supervised warm-start first pulls G toward a smooth tone curve.
Works on CPU, one GPU (mixed precision) or several processes under torchrun (DDP, each rank its own share of
every global batch, only rank 0 writes).
"""

from __future__ import annotations

import copy
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from training.checkpoint import (
    TrainingState,
    checkpoint_config,
    last_path,
    load_checkpoint,
    load_generator,
    restore_training_state,
    save_checkpoint,
    step_path,
    training_state,
)
from training.config import LossConfig, OptimConfig, TrainConfig, save_config
from training.data import StepSampler, UnpairedCrops
from training.distributed import DistContext, barrier, init_distributed, shutdown_distributed, unwrap, wrap
from training.features import FeatureExtractor, build_backbone
from training.losses import (
    crop_patches,
    edge_l1,
    lsgan_d,
    lsgan_g,
    relativistic_lsgan_d,
    relativistic_lsgan_g,
    sample_patch_corners,
    sfp_loss,
    tone_target,
)
from training.models.discriminators import global_discriminator, local_discriminator
from training.models.generator import AttentionUNet, count_parameters, default_attention, luma601
from training.monitor import Progress, Scalars, write_sample_sheet

log = logging.getLogger("training")


def schedule_steps(optim: OptimConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(constant steps, decay steps) of the learning-rate schedule: from ``max_steps`` when it is set,
    else from the epochs as in the paper."""
    if optim.max_steps is not None:
        decay = round(optim.max_steps * optim.decay_fraction)
        return optim.max_steps - decay, decay
    return optim.epochs_constant * steps_per_epoch, optim.epochs_decay * steps_per_epoch


def learning_rate(step: int, *, base: float, constant_steps: int, decay_steps: int) -> float:
    """Constant ``base`` for ``constant_steps``, then linear decay reaching 0 after ``decay_steps`` more."""
    if step < constant_steps:
        return base
    return base * max(0.0, 1.0 - (step - constant_steps) / max(decay_steps, 1))


@dataclass
class Nets:
    g: nn.Module  # AttentionUNet, DDP-wrapped under torchrun
    d_global: nn.Module
    d_local: nn.Module
    ema: AttentionUNet | None
    backbone: FeatureExtractor


@dataclass
class Optimizers:
    g: torch.optim.Optimizer
    d_global: torch.optim.Optimizer
    d_local: torch.optim.Optimizer
    scaler: torch.amp.GradScaler

    def all(self) -> tuple[torch.optim.Optimizer, ...]:
        return self.g, self.d_global, self.d_local


def build(
    config: TrainConfig, device: torch.device, *, initial_generator: bool = True
) -> tuple[Nets, Optimizers]:
    """Freshly initialised networks (seeded by ``config.seed``), frozen backbone, Adam optimizers, scaler.

    G starts from ``config.init_generator`` when set, unless ``initial_generator`` is False (a resumed run
    restores its own weights and must not need that file any more)."""
    torch.manual_seed(config.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    g = AttentionUNet(width=config.model.width, norm=config.model.norm, init=config.model.g_init)
    if config.init_generator is not None and initial_generator:
        g.load_state_dict(_initial_generator(config).state_dict())
    g = g.to(device)
    d_global = global_discriminator(base=config.model.d_base).to(device)
    d_local = local_discriminator(base=config.model.d_base).to(device)
    backbone = build_backbone(
        config.loss.backbone,
        vgg16_weights=config.loss.vgg16_weights,
        vgg_stride=config.loss.vgg_stride,
        vgg_input=config.loss.vgg_input,
    ).to(device)
    for module in (g, d_global, d_local, backbone):
        module.to(memory_format=_memory_format(device))
    ema = copy.deepcopy(g).requires_grad_(False).eval() if config.ema_decay > 0 else None

    def adam(module: nn.Module) -> torch.optim.Optimizer:
        betas = (config.optim.beta1, config.optim.beta2)
        return torch.optim.Adam(module.parameters(), lr=config.optim.lr, betas=betas)

    fp16 = _amp_dtype(config, device) == torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=fp16)
    return Nets(g, d_global, d_local, ema, backbone), Optimizers(
        adam(g), adam(d_global), adam(d_local), scaler
    )


def _initial_generator(config: TrainConfig) -> AttentionUNet:
    """The generator of ``config.init_generator``; a clear error when its architecture differs from
    ``config.model``."""
    generator, info = load_generator(config.init_generator)
    ours = {"width": config.model.width, "norm": config.model.norm}
    theirs = {k: info["model"][k] for k in ours}
    if theirs != ours:
        raise ValueError(
            f"--init-generator {config.init_generator} holds a generator with {theirs}, not {ours}"
        )
    log.info(
        "generator starts from %s (step %s, %s weights)",
        config.init_generator,
        info["step"],
        "moving-average" if info["ema"] else "raw",
    )
    return generator


def _memory_format(device: torch.device) -> torch.memory_format:
    """Channels-last on CUDA, where cuDNN's bf16/fp16 convolutions run on tensor cores without transposes."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def _amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bfloat16 where the GPU has it (no loss scaling needed), else float16; None: full precision."""
    if not config.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _step_seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def _set_requires_grad(modules: tuple[nn.Module, ...], flag: bool) -> None:
    for m in modules:
        m.requires_grad_(flag)


def _tone_loss(low: torch.Tensor, enhanced: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    """L1 between G's output and a smooth global tone curve of its own input, plus ``w_tone_edges`` times the
    L1 between their horizontal and vertical pixel differences, ``w_tone_chroma_edges`` times the same on
    their chroma (RGB minus luma), and ``w_tone_chroma`` times the L1 between the chromas themselves."""
    target = tone_target(low, cfg)
    enhanced = enhanced.float()
    loss = F.l1_loss(enhanced, target)
    if cfg.w_tone_edges > 0:
        loss = loss + cfg.w_tone_edges * edge_l1(enhanced, target)
    if cfg.w_tone_chroma_edges > 0 or cfg.w_tone_chroma > 0:
        enhanced_chroma = enhanced - luma601(enhanced)
        target_chroma = target - luma601(target)
        if cfg.w_tone_chroma_edges > 0:
            loss = loss + cfg.w_tone_chroma_edges * edge_l1(enhanced_chroma, target_chroma)
        if cfg.w_tone_chroma > 0:
            loss = loss + cfg.w_tone_chroma * F.l1_loss(enhanced_chroma, target_chroma)
    return loss


def _no_harm_l1(nets: Nets, normal: torch.Tensor, autocast: AbstractContextManager) -> torch.Tensor:
    """L1 between G's output for normal-light crops (with their own attention maps) and those crops."""
    with autocast:
        unchanged = nets.g(normal, default_attention((normal + 1.0) * 0.5))
    return F.l1_loss(unchanged.float(), normal.float())


def _warmup_step(
    nets: Nets,
    opts: Optimizers,
    low: torch.Tensor,
    clean_low: torch.Tensor,
    normal: torch.Tensor,
    config: TrainConfig,
    autocast: AbstractContextManager,
) -> dict[str, torch.Tensor]:
    """Supervised warm-start: G toward the tone curve of its input (of ``clean_low``, the input before any
    darkening or degradation), plus the no-harm term on ``normal`` when it has a weight."""
    attention = default_attention((low + 1.0) * 0.5)
    with autocast:
        enhanced = nets.g(low, attention)
    loss = _tone_loss(clean_low, enhanced, config.loss)
    values = {"warmup_l1": loss.detach()}
    if config.loss.w_no_harm > 0:
        no_harm = _no_harm_l1(nets, normal, autocast)
        values["no_harm_l1"] = no_harm.detach()
        loss = loss + config.loss.w_no_harm * no_harm
    opts.g.zero_grad(set_to_none=True)
    opts.scaler.scale(loss).backward()
    opts.scaler.step(opts.g)
    opts.scaler.update()
    return values


def _gan_step(
    nets: Nets,
    opts: Optimizers,
    low: torch.Tensor,
    clean_low: torch.Tensor,
    normal: torch.Tensor,
    config: TrainConfig,
    autocast: AbstractContextManager,
    patch_rng: torch.Generator,
) -> dict[str, torch.Tensor]:
    """One EnlightenGAN step; the losses come back as detached tensors, so that the GPU is not waited for
    on every step (only when a progress line reads them)."""
    cfg = config.loss
    attention = default_attention((low + 1.0) * 0.5)
    n, _, h, w = low.shape
    corners = sample_patch_corners(1 + cfg.patches, n, h, w, cfg.patch_size, generator=patch_rng)
    # Self-feature preservation compares the output with the clean, undarkened crop (the authors' "vary"):
    # matching the features of the brighter crop from a darkened input is what pulls outputs brighter, and
    # with degraded inputs, keeping the features of noise and JPEG blocks is what is to be unlearnt.
    real_patches, clean_patches = (
        crop_patches(normal, corners, cfg.patch_size),
        crop_patches(clean_low, corners, cfg.patch_size),
    )
    # The generator's update sees the discriminators frozen and outside DDP (no gradient sync for them).
    d_global, d_local = unwrap(nets.d_global), unwrap(nets.d_local)
    _set_requires_grad((d_global, d_local), False)
    with autocast:
        enhanced = nets.g(low, attention)
        fake_patches = crop_patches(enhanced, corners, cfg.patch_size)
        real_score, fake_score = d_global(torch.cat([normal, enhanced])).float().chunk(2)
        g_global = relativistic_lsgan_g(real_score, fake_score)
        g_local = lsgan_g(d_local(fake_patches).float())
        sfp_global = sfp_loss(nets.backbone, clean_low, enhanced)
        sfp_local = sfp_loss(nets.backbone, clean_patches, fake_patches)
    loss_g = (
        cfg.w_gan_global * g_global
        + cfg.w_gan_local * g_local
        + cfg.w_sfp_global * sfp_global
        + cfg.w_sfp_local * sfp_local
    )
    extra: dict[str, torch.Tensor] = {}
    if cfg.w_tone > 0:
        extra["tone_l1"] = _tone_loss(clean_low, enhanced, cfg)
        loss_g = loss_g + cfg.w_tone * extra["tone_l1"]
    if cfg.w_no_harm > 0:
        extra["no_harm_l1"] = _no_harm_l1(nets, normal, autocast)
        loss_g = loss_g + cfg.w_no_harm * extra["no_harm_l1"]
    opts.g.zero_grad(set_to_none=True)
    opts.scaler.scale(loss_g).backward()
    opts.scaler.step(opts.g)

    _set_requires_grad((d_global, d_local), True)
    with autocast:
        real_score, fake_score = nets.d_global(torch.cat([normal, enhanced.detach()])).float().chunk(2)
        d_global_loss = relativistic_lsgan_d(real_score, fake_score)
        real_score, fake_score = (
            nets.d_local(torch.cat([real_patches, fake_patches.detach()])).float().chunk(2)
        )
        d_local_loss = lsgan_d(real_score, fake_score)
    opts.d_global.zero_grad(set_to_none=True)
    opts.d_local.zero_grad(set_to_none=True)
    opts.scaler.scale(d_global_loss + d_local_loss).backward()
    opts.scaler.step(opts.d_global)
    opts.scaler.step(opts.d_local)
    opts.scaler.update()
    values = {
        "g_total": loss_g,
        "g_global": g_global,
        "g_local": g_local,
        "sfp_global": sfp_global,
        "sfp_local": sfp_local,
        "d_global": d_global_loss,
        "d_local": d_local_loss,
        **extra,
    }
    return {k: v.detach() for k, v in values.items()}


@torch.no_grad()
def _update_ema(ema: AttentionUNet, g: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), g.parameters(), strict=True):
        e.lerp_(p, 1.0 - decay)
    for e, b in zip(ema.buffers(), g.buffers(), strict=True):
        e.copy_(b)


def _training_state(nets: Nets, opts: Optimizers) -> TrainingState:
    return TrainingState(
        generator=unwrap(nets.g),
        generator_ema=nets.ema,
        d_global=unwrap(nets.d_global),
        d_local=unwrap(nets.d_local),
        opt_g=opts.g,
        opt_d_global=opts.d_global,
        opt_d_local=opts.d_local,
        scaler=opts.scaler,
    )


def _write_samples(path: Path, nets: Nets, low: torch.Tensor) -> None:
    """Input | output | attention for up to four crops, from the moving average of G when there is one."""
    model = nets.ema if nets.ema is not None else unwrap(nets.g)
    was_training = model.training
    low = low[:4]
    attention = default_attention((low + 1.0) * 0.5)
    with torch.no_grad():
        enhanced = model.eval()(low, attention)
    model.train(was_training)
    write_sample_sheet(path, low, enhanced, attention)


def train(
    config: TrainConfig, run_dir: str | Path, *, resume: bool = False, stop_at: int | None = None
) -> int:
    """Train into ``run_dir`` (config.json, checkpoints/, samples/, tensorboard/); returns the last step.

    ``resume`` continues from ``run_dir/checkpoints/last.pt`` exactly where it stopped (same batches, same
    states). ``stop_at`` ends the run early at that step (with a checkpoint) without changing the schedule."""
    run_dir = Path(run_dir)
    if config.threads:
        torch.set_num_threads(config.threads)
    ctx = init_distributed()
    try:
        return _train(config, run_dir, ctx, resume=resume, stop_at=stop_at)
    finally:
        shutdown_distributed()


def _train(config: TrainConfig, run_dir: Path, ctx: DistContext, *, resume: bool, stop_at: int | None) -> int:
    if not resume and last_path(run_dir).exists():
        raise FileExistsError(
            f"{run_dir} already holds a run; pass --resume to continue it or pick a new folder"
        )
    nets, opts = build(config, ctx.device, initial_generator=not resume)
    step = 0
    if resume:
        state = load_checkpoint(last_path(run_dir), map_location=ctx.device)
        step = restore_training_state(state, _training_state(nets, opts))
    nets.g, nets.d_global, nets.d_local = (wrap(m, ctx) for m in (nets.g, nets.d_global, nets.d_local))

    data = UnpairedCrops(
        low_dir=config.data.low,
        normal_dir=config.data.normal,
        global_batch=config.batch_size,
        seed=config.seed,
        crop=config.data.crop,
        crop_schedule=config.data.crop_schedule,
        low_weights=config.data.low_weights,
        short_side=config.data.short_side,
        hflip=config.data.hflip,
        vflip=config.data.vflip,
        vary=config.data.vary,
        vary_min=config.data.vary_min,
        vary_max=config.data.vary_max,
        normal_extra_dir=config.data.normal_extra or None,
        degrade_noise=config.data.degrade_noise,
        degrade_jpeg_quality=config.data.degrade_jpeg_quality,
        colour_augment=config.data.colour_augment,
    )
    sampler = StepSampler(
        global_batch=config.batch_size, rank=ctx.rank, world_size=ctx.world_size, start_step=step
    )
    loader = DataLoader(
        data,
        batch_size=sampler.local_batch,
        sampler=sampler,
        num_workers=config.data.workers,
        pin_memory=ctx.device.type == "cuda",
    )
    constant_steps, decay_steps = schedule_steps(config.optim, max(1, len(data) // config.batch_size))
    total = constant_steps + decay_steps
    end = min(total, stop_at) if stop_at is not None else total
    info = {
        "backbone": nets.backbone.tag,
        "params": count_parameters(unwrap(nets.g)),
        "trained_on": f"{len(data.low)} low-light images ({Path(config.data.low).name}), "
        f"{len(data.normal)} normal-light images "
        f"({' + '.join(Path(f).name for f in (config.data.normal, config.data.normal_extra) if f)})",
    }
    amp_dtype = _amp_dtype(config, ctx.device)
    scalars = Scalars(run_dir / "tensorboard") if ctx.is_main else None
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.json")
        d_params = count_parameters(unwrap(nets.d_global)) + count_parameters(unwrap(nets.d_local))
        log.info(
            "generator: %s parameters (width %d, %s norm); discriminators: %s; backbone %s; "
            "%d steps (%d constant, %d decay); %d rank(s) on %s",
            f"{info['params']:,}",
            config.model.width,
            config.model.norm,
            f"{d_params:,}",
            info["backbone"],
            total,
            constant_steps,
            decay_steps,
            ctx.world_size,
            ctx.device,
        )
    progress = Progress(total=total, start=step)

    batches = iter(loader)
    while step < end:
        batch = next(batches)
        on_device = {
            key: images.to(ctx.device, non_blocking=True, memory_format=_memory_format(ctx.device))
            for key, images in batch.items()
        }
        low, normal, clean_low = on_device["low"], on_device["normal"], on_device["low_target"]
        lr = learning_rate(step, base=config.optim.lr, constant_steps=constant_steps, decay_steps=decay_steps)
        for opt in opts.all():
            for group in opt.param_groups:
                group["lr"] = lr
        autocast = torch.autocast(ctx.device.type, dtype=amp_dtype, enabled=amp_dtype is not None)
        if step < config.optim.warmup_steps:
            losses = _warmup_step(nets, opts, low, clean_low, normal, config, autocast)
        else:
            patch_rng = torch.Generator().manual_seed(_step_seed(config.seed, step, ctx.rank))
            losses = _gan_step(nets, opts, low, clean_low, normal, config, autocast, patch_rng)
        if nets.ema is not None:
            # Ramp the decay up so that the random initial weights do not linger in the average.
            decay = min(config.ema_decay, (1 + step) / (10 + step))
            _update_ema(nets.ema, unwrap(nets.g), decay)
        step += 1

        if not ctx.is_main:
            continue
        if step % config.log_every == 0 or step == end:
            values = {k: v.item() for k, v in losses.items()}
            log.info("%s lr %.2e crop %d", progress.line(step, values), lr, low.shape[-1])
            scalars.add(step, {f"loss/{k}": v for k, v in values.items()} | {"lr": lr})
        if step % config.sample_every == 0 or step == end:
            _write_samples(run_dir / "samples" / f"step_{step:06d}.png", nets, low)
        if step % config.checkpoint_every == 0 or step == end:
            state = training_state(_training_state(nets, opts), step=step, config=config, info=info)
            save_checkpoint(state, step_path(run_dir, step), also=last_path(run_dir))
    if scalars is not None:
        scalars.close()
    barrier(ctx)
    return step


def resume_config(run_dir: str | Path) -> TrainConfig:
    """The config a run was started with, as its last checkpoint records it."""
    return checkpoint_config(load_checkpoint(last_path(Path(run_dir))))
