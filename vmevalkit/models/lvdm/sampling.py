"""DDIM as the official VideoCrafter and DynamiCrafter samplers compute it, k-diffusion style: plain functions
over `model(x, t) -> model output` (eps or v).

The schedule: `make_schedule` picks the timesteps (`ddim_timesteps`: "uniform" or DynamiCrafter's
"uniform_trailing"), takes alphas from the model's float32 `alphas_cumprod` (the step after the last goes
to alphas_cumprod[0], not 1), the eta noise scale per step, and the latent rescaling. `sample_ddim` runs:

    eps, x0 = model output                                   (eps-prediction)
    eps     = sqrt(a_bar_t) v + sqrt(1 - a_bar_t) x           (v-prediction, with the model's own
    x0      = sqrt(a_bar_t) x - sqrt(1 - a_bar_t) v            float32 sqrt buffers at timestep t)
    x0      = (x - sqrt(1 - a_t) eps) / sqrt(a_t)             (eps-prediction)
    x0      = x0 * rescale_t
    x_prev  = sqrt(a_prev) prev_scale_t x0 + sqrt(1 - a_prev - sigma_t^2) eps + sigma_t z

rescale_t and prev_scale_t are 1 without latent rescaling; VideoCrafter's `use_scale` divides x0 by its
scale and multiplies it by the previous step's (scale_arr[0] after the last step); DynamiCrafter's
`use_dynamic_rescale` multiplies x0 by scale_prev / scale_t, where the last step's previous scale is its own.
Every per-step scalar is a float32 tensor, as in the official samplers, so float32 runs match them.
`guided` wraps a UNet into one function with classifier-free guidance (and guidance rescale) done in ONE
batched call.

Where the official samplers fail, this one does the sensible thing (docs/lvdm.md lists each case):
"uniform" timesteps that reach 1000 are dropped (the official code fails with an index error),
"uniform_trailing" timesteps below 0 are dropped (the official schedule for e.g. 61 steps has 62 with a
-1, whose sigma is NaN), and sqrt(1 - a_prev - sigma_t^2) is taken of max(0, ...) (float32 rounding makes
it about -6e-8 at the zero-SNR first step for e.g. 7 or 25 steps at eta 1, and the official video is NaN)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from vmevalkit.models.lvdm.arguments import TIMESTEP_SPACINGS

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DDIMSchedule:
    """Per-step values in sampling order (first step = largest timestep); each a float32 1-D tensor."""

    timesteps: torch.Tensor  # int64
    alphas: torch.Tensor
    alphas_prev: torch.Tensor
    sigmas: torch.Tensor
    sqrt_one_minus_alphas: torch.Tensor
    rescale: torch.Tensor  # ones without latent rescaling
    prev_scale: torch.Tensor
    v_sqrt_alphas: torch.Tensor | None = None  # v-prediction: the model's sqrt_alphas_cumprod[t]
    v_sqrt_one_minus_alphas: torch.Tensor | None = None  # and sqrt_one_minus_alphas_cumprod[t]

    def __len__(self) -> int:
        return int(self.timesteps.numel())


def ddim_timesteps(num_steps: int, num_train_steps: int = 1000, spacing: str = "uniform") -> torch.Tensor:
    """The official discretisations, ascending. "uniform": `range(0, 1000, 1000 // steps) + 1` (50 steps: 1, 21,
    ..., 981); when num_steps does not divide the training steps there can be more steps than asked (e.g. 30 ->
    31), exactly as the official samplers do; a last timestep of 1000, past the schedule (e.g. 3 steps: 1, 334,
    667, 1000), is dropped. "uniform_trailing" (DynamiCrafter): `round(arange(1000, 0, -1000 / steps)) - 1`,
    so the first sampled step is 999; the -1 that float rounding adds for some counts (61) is dropped."""
    if not 1 <= num_steps < num_train_steps:
        raise ValueError(f"num_inference_steps must be between 1 and {num_train_steps - 1}, got {num_steps}")
    if spacing == "uniform":
        ts = torch.arange(0, num_train_steps, num_train_steps // num_steps) + 1
        return ts[ts < num_train_steps]
    if spacing != "uniform_trailing":
        raise ValueError(f"timestep_spacing must be one of {TIMESTEP_SPACINGS}, got {spacing!r}")
    steps = np.flip(np.round(np.arange(num_train_steps, 0, -num_train_steps / num_steps))).astype(np.int64) - 1
    ts = torch.from_numpy(steps.copy())
    return ts[ts >= 0]


def make_schedule(buffers: Mapping[str, torch.Tensor], num_steps: int, eta: float, *, spacing: str = "uniform",
                  rescale: str | None = None) -> DDIMSchedule:
    """The DDIM schedule of `num_steps` steps at this eta over the model's schedule buffers (alphas_cumprod;
    scale_arr with `rescale` "use_scale" or "dynamic"; sqrt_alphas_cumprod and sqrt_one_minus_alphas_cumprod
    for v-prediction), in sampling order."""
    ac = buffers["alphas_cumprod"].detach().float().cpu()
    ts = ddim_timesteps(num_steps, ac.numel(), spacing)
    alphas = ac[ts]
    alphas_prev = torch.cat([ac[:1], ac[ts[:-1]]])
    a, ap = alphas.double(), alphas_prev.double()  # sigmas in float64 from the float32 values, as upstream
    sigmas = (eta * torch.sqrt((1 - ap) / (1 - a) * (1 - a / ap))).float()
    rescale_t = prev_scale = torch.ones_like(alphas)
    if rescale is not None:
        sa = buffers["scale_arr"].detach().float().cpu()
        scales = sa[ts]
        if rescale == "use_scale":
            rescale_t, prev_scale = 1.0 / scales, torch.cat([sa[:1], sa[ts[:-1]]])
        else:  # "dynamic"
            rescale_t = torch.cat([scales[:1], scales[:-1]]) / scales
    v = {}
    if "sqrt_alphas_cumprod" in buffers:
        v = {"v_sqrt_alphas": buffers["sqrt_alphas_cumprod"].detach().float().cpu()[ts].flip(0).contiguous(),
             "v_sqrt_one_minus_alphas":
                 buffers["sqrt_one_minus_alphas_cumprod"].detach().float().cpu()[ts].flip(0).contiguous()}
    flip = lambda t: t.flip(0).contiguous()  # noqa: E731  sampling runs from the largest timestep down
    return DDIMSchedule(flip(ts), flip(alphas), flip(alphas_prev), flip(sigmas), flip(torch.sqrt(1.0 - alphas)),
                        flip(rescale_t), flip(prev_scale), **v)


def guided(unet: Callable[..., torch.Tensor], cond: torch.Tensor, uncond: torch.Tensor | None,
           guidance_scale: float, guidance_rescale: float = 0.0, **unet_kwargs) -> Model:
    """Model function with classifier-free guidance: out_u + scale (out_c - out_u), cond and uncond in one
    UNet call whose context is [cond; uncond] on the shared latents (the UNet runs the layers before the
    first cross-attention once). With guidance_scale == 1 (or no uncond) only the conditional branch runs.
    `guidance_rescale` r > 0 mixes in the guided output rescaled to the conditional one's standard deviation
    (per sample, over all other dims): r * g * std(out_c) / std(g) + (1 - r) * g."""
    if uncond is None or guidance_scale == 1.0:
        return lambda x, t: unet(x, t, context=cond, **unet_kwargs)
    context = torch.cat([cond, uncond])

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out_cond, out_uncond = unet(x, t, context=context, **unet_kwargs).chunk(2)
        out = out_uncond + guidance_scale * (out_cond - out_uncond)
        if guidance_rescale > 0.0:
            dims = list(range(1, out.dim()))
            rescaled = out * (out_cond.std(dim=dims, keepdim=True) / out.std(dim=dims, keepdim=True))
            out = guidance_rescale * rescaled + (1 - guidance_rescale) * out
        return out

    return model


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
        a_t, a_prev, sigma, sq1m, rescale, prev_scale = (
            v[i].to(x.device) for v in (schedule.alphas, schedule.alphas_prev, schedule.sigmas,
                                        schedule.sqrt_one_minus_alphas, schedule.rescale, schedule.prev_scale))
        out = model(x, t).float()
        if schedule.v_sqrt_alphas is None:
            eps = out
            pred_x0 = (x - sq1m * eps) / a_t.sqrt()
        else:
            sa, s1m = schedule.v_sqrt_alphas[i].to(x.device), schedule.v_sqrt_one_minus_alphas[i].to(x.device)
            eps = sa * out + s1m * x
            pred_x0 = sa * x - s1m * out
        dir_xt = (1.0 - a_prev - sigma ** 2).clamp(min=0.0).sqrt() * eps
        z = sigma * noise(x)
        pred_x0 = pred_x0 * rescale
        x = a_prev.sqrt() * prev_scale * pred_x0 + dir_xt + z
        if callback is not None:
            callback({"i": i, "t": int(schedule.timesteps[i]), "x": x, "pred_x0": pred_x0, "eps": eps})
    return x
