"""DDIM as the official VideoCrafter sampler computes it, k-diffusion style: plain functions over
`model(x, t) -> eps`.

The schedule: `make_schedule` picks uniform timesteps over the 1000 training steps
(`range(0, 1000, 1000 // steps) + 1`, so 50 steps visit 981, 961, ..., 1), takes alphas from the
model's float32 `alphas_cumprod` (the step after the last goes to alphas_cumprod[0], not 1), the eta
noise scale per step, and the `use_scale` latent rescaling. `sample_ddim` runs the update:

    pred_x0 = (x - sqrt(1 - a_t) eps) / sqrt(a_t)            (then / scale_t with use_scale)
    x_prev  = sqrt(a_prev) scale_prev pred_x0 + sqrt(1 - a_prev - sigma_t^2) eps + sigma_t z

Every per-step scalar is a float32 tensor, as in the official sampler, so float32 runs match it.
`guided` wraps a UNet into one eps function with classifier-free guidance done in ONE batched call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from tqdm.auto import tqdm

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DDIMSchedule:
    """Per-step values in sampling order (first step = largest timestep); each a float32 1-D tensor."""

    timesteps: torch.Tensor  # int64
    alphas: torch.Tensor
    alphas_prev: torch.Tensor
    sigmas: torch.Tensor
    sqrt_one_minus_alphas: torch.Tensor
    scales: torch.Tensor  # ones when use_scale is off
    scales_prev: torch.Tensor

    def __len__(self) -> int:
        return int(self.timesteps.numel())


def ddim_timesteps(num_steps: int, num_train_steps: int = 1000) -> torch.Tensor:
    """The official 'uniform' discretisation, ascending. When num_steps does not divide the training
    steps there can be more steps than asked (e.g. 30 -> 31), exactly as the official sampler does.
    Where it would reach timestep 1000, past the schedule (e.g. 3 steps: 1, 334, 667, 1000), the official
    code fails with an index error; that last timestep is dropped here instead."""
    if not 1 <= num_steps < num_train_steps:
        raise ValueError(f"num_inference_steps must be between 1 and {num_train_steps - 1}, got {num_steps}")
    ts = torch.arange(0, num_train_steps, num_train_steps // num_steps) + 1
    return ts[ts < num_train_steps]


def make_schedule(alphas_cumprod: torch.Tensor, num_steps: int, eta: float,
                  scale_arr: torch.Tensor | None = None) -> DDIMSchedule:
    """The DDIM schedule of `num_steps` steps at this eta over the model's alphas_cumprod (and its
    use_scale scale_arr, when given), in sampling order."""
    ac = alphas_cumprod.detach().float().cpu()
    ts = ddim_timesteps(num_steps, ac.numel())
    alphas = ac[ts]
    alphas_prev = torch.cat([ac[:1], ac[ts[:-1]]])
    a, ap = alphas.double(), alphas_prev.double()  # sigmas in float64 from the float32 values, as upstream
    sigmas = (eta * torch.sqrt((1 - ap) / (1 - a) * (1 - a / ap))).float()
    if scale_arr is None:
        scales = scales_prev = torch.ones_like(alphas)
    else:
        sa = scale_arr.detach().float().cpu()
        scales, scales_prev = sa[ts], torch.cat([sa[:1], sa[ts[:-1]]])
    flip = lambda v: v.flip(0).contiguous()  # noqa: E731  sampling runs from the largest timestep down
    return DDIMSchedule(flip(ts), flip(alphas), flip(alphas_prev), flip(sigmas), flip(torch.sqrt(1.0 - alphas)),
                        flip(scales), flip(scales_prev))


def guided(unet: Callable[..., torch.Tensor], cond: torch.Tensor, uncond: torch.Tensor | None,
           guidance_scale: float, **unet_kwargs) -> Model:
    """eps function with classifier-free guidance: eps_u + scale (eps_c - eps_u), cond and uncond in one
    UNet call whose context is [cond; uncond] on the shared latents (the UNet runs the layers before the
    first cross-attention once). With guidance_scale == 1 (or no uncond) only the conditional branch runs."""
    if uncond is None or guidance_scale == 1.0:
        return lambda x, t: unet(x, t, context=cond, **unet_kwargs)
    context = torch.cat([cond, uncond])

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e_cond, e_uncond = unet(x, t, context=context, **unet_kwargs).chunk(2)
        return e_uncond + guidance_scale * (e_cond - e_uncond)

    return eps


def sample_ddim(model: Model, x: torch.Tensor, schedule: DDIMSchedule, *,
                noise: Callable[[torch.Tensor], torch.Tensor] | None = None,
                callback: Callable[[dict], None] | None = None, disable: bool | None = None) -> torch.Tensor:
    """Run DDIM from x_T. `noise(x)` draws each step's standard normal (torch.randn_like by default;
    drawn every step, also when sigma is 0, so seeded runs follow the official random stream).
    `callback` receives {i, t, x, pred_x0, eps} after each step; `disable` hides the progress bar."""
    noise = noise or torch.randn_like
    x = x.float()
    for i in tqdm(range(len(schedule)), desc="DDIM", disable=disable, leave=False):
        t = schedule.timesteps[i].to(x.device).expand(x.shape[0])
        a_t, a_prev, sigma, sq1m, scale, scale_prev = (
            v[i].to(x.device) for v in (schedule.alphas, schedule.alphas_prev, schedule.sigmas,
                                        schedule.sqrt_one_minus_alphas, schedule.scales, schedule.scales_prev))
        eps = model(x, t).float()
        pred_x0 = (x - sq1m * eps) / a_t.sqrt()
        dir_xt = (1.0 - a_prev - sigma ** 2).sqrt() * eps
        z = sigma * noise(x)
        pred_x0 = pred_x0 / scale
        x = a_prev.sqrt() * scale_prev * pred_x0 + dir_xt + z
        if callback is not None:
            callback({"i": i, "t": int(schedule.timesteps[i]), "x": x, "pred_x0": pred_x0, "eps": eps})
    return x
