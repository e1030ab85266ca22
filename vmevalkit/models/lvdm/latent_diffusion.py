"""The whole LVDM model laid out as the official checkpoints store it:

    model.diffusion_model.*   the 3D UNet
    first_stage_model.*       the KL autoencoder
    cond_stage_model.model.*  the OpenCLIP text tower
    embedder.model.*          the OpenCLIP image tower            (i2v only)
    image_proj_model.*        the Resampler                       (i2v only)
    alphas_cumprod, scale_arr the diffusion schedule (buffers; scale_arr with use_scale / use_dynamic_rescale;
    sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod            also, for v-prediction, which reads them)
"""

from __future__ import annotations

import torch
from torch import nn

from vmevalkit.models.lvdm.autoencoder import AutoencoderKL
from vmevalkit.models.lvdm.config import DiffusionConfig, LVDMConfig
from vmevalkit.models.lvdm.encoders import ImageEncoder, Resampler, TextEncoder, clip_preprocess
from vmevalkit.models.lvdm.unet import UNetModel

# Buffers the official model saves that inference derives from alphas_cumprod or never uses (a v-prediction
# model keeps the two it reads: see schedule_buffers).
DERIVED_BUFFERS = frozenset({
    "betas", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
    "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2"})


def betas(cfg: DiffusionConfig) -> torch.Tensor:
    """The 'linear' LDM betas (linear in sqrt), float64; with zero_snr rescaled so that the last timestep has
    zero signal (shift and scale sqrt(alphas_cumprod) so it ends at 0 and starts where it did)."""
    b = torch.linspace(cfg.linear_start ** 0.5, cfg.linear_end ** 0.5, cfg.timesteps, dtype=torch.float64) ** 2
    if not cfg.zero_snr:
        return b
    root = torch.cumprod(1.0 - b, dim=0).sqrt()
    first, last = root[0].clone(), root[-1].clone()
    root = (root - last) * (first / (first - last))
    alphas_bar = root ** 2
    return 1.0 - torch.cat([alphas_bar[:1], alphas_bar[1:] / alphas_bar[:-1]])


def scale_arr(cfg: DiffusionConfig) -> torch.Tensor:
    """The latent rescaling per timestep (use_scale / use_dynamic_rescale): linear scale_a -> scale_b over
    mid_step steps, then flat. Without fix_scale_bug the official array has timesteps + mid_step entries; only
    the first 1000 are used."""
    tail = cfg.timesteps - cfg.mid_step if cfg.fix_scale_bug else cfg.timesteps
    ramp = torch.linspace(cfg.scale_a, cfg.scale_b, cfg.mid_step, dtype=torch.float64)
    return torch.cat([ramp, torch.full((tail,), cfg.scale_b, dtype=torch.float64)]).float()


def schedule_buffers(cfg: DiffusionConfig) -> dict[str, torch.Tensor]:
    """The schedule buffers inference reads, float32 from float64 as the official register_schedule makes them."""
    ac = torch.cumprod(1.0 - betas(cfg), dim=0)
    out = {"alphas_cumprod": ac.float()}
    if cfg.parameterization == "v":
        out["sqrt_alphas_cumprod"] = ac.sqrt().float()
        out["sqrt_one_minus_alphas_cumprod"] = (1.0 - ac).sqrt().float()
    if cfg.rescale is not None:
        out["scale_arr"] = scale_arr(cfg)
    return out


class LatentVideoDiffusion(nn.Module):
    def __init__(self, cfg: LVDMConfig):
        super().__init__()
        self.cfg = cfg
        self.model = nn.Module()
        self.model.diffusion_model = UNetModel(cfg.unet)
        self.first_stage_model = AutoencoderKL(cfg.vae)
        self.cond_stage_model = TextEncoder(cfg.text_clip, cfg.text_skip_last)
        if cfg.kind == "i2v":
            self.embedder = ImageEncoder(cfg.image_clip)
            self.image_proj_model = Resampler(cfg.resampler)
        for name, buf in schedule_buffers(cfg.diffusion).items():
            self.register_buffer(name, buf)

    @property
    def unet(self) -> UNetModel:
        return self.model.diffusion_model

    @property
    def dtype(self) -> torch.dtype:
        return self.model.diffusion_model.out[2].weight.dtype

    def encode_prompt(self, prompts: list[str]) -> torch.Tensor:
        """(B, 77, context_dim) text context."""
        tokens = TextEncoder.tokenize(prompts).to(self.alphas_cumprod.device)
        return self.cond_stage_model(tokens)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """(B, tokens, context_dim) image context from images in [-1, 1], (B, 3, H, W) at any size."""
        return self.image_proj_model(self.embedder(clip_preprocess(images.to(self.dtype))))

    def encode_latent(self, images: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] (B, 3, H, W) -> scaled latents (B, 4, h, w): a draw from the autoencoder's
        posterior, scale_factor * (mean + std * noise), as the official get_first_stage_encoding samples it."""
        mean, logvar = self.first_stage_model.encode(images.to(self.dtype))
        z = mean.float() + torch.exp(0.5 * logvar.float()) * noise
        return self.cfg.diffusion.scale_factor * z

    def decode(self, latents: torch.Tensor, chunk: int = 4) -> torch.Tensor:
        """Latents (B, 4, T, h, w) -> video (B, 3, T, H, W) in about [-1, 1], decoding `chunk` frames at a time."""
        b, c, t, h, w = latents.shape
        z = (latents / self.cfg.diffusion.scale_factor).transpose(1, 2).reshape(b * t, c, h, w).to(self.dtype)
        frames = torch.cat([self.first_stage_model.decode(z[i:i + chunk]) for i in range(0, b * t, chunk)])
        return frames.view(b, t, *frames.shape[1:]).transpose(1, 2)
