"""The whole VideoCrafter model laid out as the official checkpoint stores it:

    model.diffusion_model.*   the 3D UNet
    first_stage_model.*       the KL autoencoder
    cond_stage_model.model.*  the OpenCLIP text tower
    embedder.model.*          the OpenCLIP image tower            (i2v only)
    image_proj_model.*        the Resampler                       (i2v only)
    alphas_cumprod, scale_arr the diffusion schedule (buffers)
"""

from __future__ import annotations

import torch
from torch import nn

from vmevalkit.models.videocrafter.autoencoder import AutoencoderKL
from vmevalkit.models.videocrafter.config import DiffusionConfig, VideoCrafterConfig
from vmevalkit.models.videocrafter.encoders import ImageEncoder, Resampler, TextEncoder, clip_preprocess
from vmevalkit.models.videocrafter.unet import UNetModel

# Buffers the official model saves that inference derives from alphas_cumprod or never uses.
DERIVED_BUFFERS = frozenset({
    "betas", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
    "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2"})


def alphas_cumprod(cfg: DiffusionConfig) -> torch.Tensor:
    """Cumulative alphas of the 'linear' LDM schedule (betas linear in sqrt), computed in float64, stored float32."""
    betas = torch.linspace(cfg.linear_start ** 0.5, cfg.linear_end ** 0.5, cfg.timesteps, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


def scale_arr(cfg: DiffusionConfig) -> torch.Tensor:
    """The `use_scale` latent rescaling per timestep: linear scale_a -> scale_b over mid_step steps, then flat.
    Without fix_scale_bug the official array has timesteps + mid_step entries; only the first 1000 are used."""
    tail = cfg.timesteps - cfg.mid_step if cfg.fix_scale_bug else cfg.timesteps
    ramp = torch.linspace(cfg.scale_a, cfg.scale_b, cfg.mid_step, dtype=torch.float64)
    return torch.cat([ramp, torch.full((tail,), cfg.scale_b, dtype=torch.float64)]).float()


class LatentVideoDiffusion(nn.Module):
    def __init__(self, cfg: VideoCrafterConfig):
        super().__init__()
        self.cfg = cfg
        self.model = nn.Module()
        self.model.diffusion_model = UNetModel(cfg.unet)
        self.first_stage_model = AutoencoderKL(cfg.vae)
        self.cond_stage_model = TextEncoder(cfg.text_clip, cfg.text_skip_last)
        if cfg.kind == "i2v":
            self.embedder = ImageEncoder(cfg.image_clip)
            self.image_proj_model = Resampler(cfg.resampler)
        self.register_buffer("alphas_cumprod", alphas_cumprod(cfg.diffusion))
        if cfg.diffusion.use_scale:
            self.register_buffer("scale_arr", scale_arr(cfg.diffusion))

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
        """(B, 16, context_dim) image context from images in [-1, 1], (B, 3, H, W) at any size."""
        return self.image_proj_model(self.embedder(clip_preprocess(images.to(self.dtype))))

    def decode(self, latents: torch.Tensor, chunk: int = 4) -> torch.Tensor:
        """Latents (B, 4, T, h, w) -> video (B, 3, T, H, W) in about [-1, 1], decoding `chunk` frames at a time."""
        b, c, t, h, w = latents.shape
        z = (latents / self.cfg.diffusion.scale_factor).transpose(1, 2).reshape(b * t, c, h, w).to(self.dtype)
        frames = torch.cat([self.first_stage_model.decode(z[i:i + chunk]) for i in range(0, b * t, chunk)])
        return frames.view(b, t, *frames.shape[1:]).transpose(1, 2)
