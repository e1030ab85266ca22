"""Conditioning encoders: the OpenCLIP text tower (penultimate layer), the OpenCLIP image tower
(all tokens, before ln_post), and the Resampler that turns image tokens into context tokens.

The CLIP towers are open_clip's own modules, built from an open_clip model config; their weights
come from the VideoCrafter checkpoint (`cond_stage_model.model.*`, `embedder.model.*`), so nothing
is downloaded. Image preprocessing reproduces the official kornia resize (antialiasing Gaussian
blur when downscaling, then bicubic with align_corners=True) without depending on kornia."""

from __future__ import annotations

import math
from dataclasses import dataclass

import open_clip
import torch
import torch.nn.functional as F
from torch import nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_SIZE = 224


def build_clip(clip_config: dict) -> nn.Module:
    """An open_clip CLIP model from a model-config dict (embed_dim, vision_cfg, text_cfg), uninitialised
    when built under `torch.device("meta")`. Its causal-mask buffer is dropped: masks are built per call."""
    model = open_clip.model.CLIP(**clip_config)
    del model.attn_mask
    return model


def causal_mask(length: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(length, length) additive attention mask: -inf above the diagonal, 0 elsewhere."""
    return torch.full((length, length), float("-inf"), device=device, dtype=dtype).triu_(1)


class TextEncoder(nn.Module):
    """Prompt -> (B, 77, width) token features from the CLIP text transformer, skipping its last
    `skip_last` blocks (1 = the official 'penultimate' layer), then ln_final; no projection."""

    def __init__(self, clip_config: dict, skip_last: int = 1):
        super().__init__()
        model = build_clip(clip_config)
        del model.visual
        self.model = model
        self.skip_last = skip_last

    @staticmethod
    def tokenize(prompts: list[str]) -> torch.Tensor:
        """(B, 77) CLIP token ids, padded and truncated as open_clip does."""
        return open_clip.tokenize(prompts)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.token_embedding(tokens) + m.positional_embedding
        mask = causal_mask(x.shape[1], x.device, x.dtype)
        blocks = m.transformer.resblocks
        for block in blocks[: len(blocks) - self.skip_last]:
            x = block(x, attn_mask=mask)
        return m.ln_final(x)


def _gaussian_kernel(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    n = torch.arange(size, dtype=torch.float32, device=device) - size // 2
    k = torch.exp(-(n ** 2) / (2 * sigma ** 2))
    return k / k.sum()


def _blur_reflect(x: torch.Tensor, sizes: tuple[int, int], sigmas: tuple[float, float]) -> torch.Tensor:
    """Separable Gaussian blur with reflect padding, per channel."""
    c = x.shape[1]
    (kh, kw), (sh, sw) = sizes, sigmas
    x = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2), mode="reflect")
    gh = _gaussian_kernel(kh, sh, x.device).to(x.dtype).view(1, 1, kh, 1).repeat(c, 1, 1, 1)
    gw = _gaussian_kernel(kw, sw, x.device).to(x.dtype).view(1, 1, 1, kw).repeat(c, 1, 1, 1)
    return F.conv2d(F.conv2d(x, gh, groups=c), gw, groups=c)


def clip_preprocess(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1], (B, 3, H, W) -> CLIP input (B, 3, 224, 224), as the official embedder does it."""
    h, w = images.shape[-2:]
    factors = (h / CLIP_SIZE, w / CLIP_SIZE)
    if max(factors) > 1:  # antialias before downscaling
        sigmas = tuple(max((f - 1.0) / 2.0, 0.001) for f in factors)
        sizes = tuple(int(max(4.0 * s, 3)) | 1 for s in sigmas)  # at least 3, made odd
        images = _blur_reflect(images, sizes, sigmas)
    x = F.interpolate(images, (CLIP_SIZE, CLIP_SIZE), mode="bicubic", align_corners=True)
    x = (x + 1.0) / 2.0
    mean = torch.tensor(CLIP_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


class ImageEncoder(nn.Module):
    """CLIP pixels -> every output token of the vision transformer (class + patches), before ln_post."""

    def __init__(self, clip_config: dict):
        super().__init__()
        model = build_clip(clip_config)
        del model.transformer
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        v = self.model.visual
        x = v.conv1(pixels).flatten(2).transpose(1, 2)
        cls = v.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + v.positional_embedding.to(x.dtype)
        return v.transformer(v.ln_pre(v.patch_dropout(x)))


@dataclass(frozen=True)
class ResamplerConfig:
    """The image projector; the official models use widths 1024/1024/1280 (ViT-H-14 tokens). With
    `video_length` (DynamiCrafter) there are num_queries queries per frame, frame-major."""

    input_dim: int = 1024  # the resampler's own width ("dim")
    cross_attention_dim: int = 1024  # output width = UNet context_dim
    dim: int = 1280  # CLIP vision width ("embedding_dim")
    num_queries: int = 16
    depth: int = 4
    dim_head: int = 64
    heads: int = 12
    ff_mult: int = 4
    video_length: int | None = None

    @property
    def tokens(self) -> int:
        """How many context tokens it makes per image."""
        return self.num_queries * (self.video_length or 1)


class PerceiverAttention(nn.Module):
    """Latent queries attend to [image tokens | latents]; q and k are each scaled by dim_head**-0.25."""

    def __init__(self, dim: int, dim_head: int, heads: int):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        inner = dim_head * heads
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, x: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        x, latents = self.norm1(x), self.norm2(latents)
        b, n, _ = latents.shape
        q = self.to_q(latents)
        k, v = self.to_kv(torch.cat([x, latents], dim=1)).chunk(2, dim=-1)
        q, k, v = (t.view(b, -1, self.heads, self.dim_head).transpose(1, 2) for t in (q, k, v))
        s = 1.0 / math.sqrt(math.sqrt(self.dim_head))
        weight = torch.softmax(((q * s) @ (k * s).transpose(-2, -1)).float(), dim=-1).type(q.dtype)
        return self.to_out((weight @ v).transpose(1, 2).reshape(b, n, -1))


class Resampler(nn.Module):
    """Perceiver resampler: `cfg.tokens` learned latents read the CLIP image tokens."""

    def __init__(self, cfg: ResamplerConfig):
        super().__init__()
        self.latents = nn.Parameter(torch.empty(1, cfg.tokens, cfg.input_dim))
        self.proj_in = nn.Linear(cfg.dim, cfg.input_dim)
        self.proj_out = nn.Linear(cfg.input_dim, cfg.cross_attention_dim)
        self.norm_out = nn.LayerNorm(cfg.cross_attention_dim)
        inner = cfg.input_dim * cfg.ff_mult
        self.layers = nn.ModuleList(
            nn.ModuleList([
                PerceiverAttention(cfg.input_dim, cfg.dim_head, cfg.heads),
                nn.Sequential(nn.LayerNorm(cfg.input_dim), nn.Linear(cfg.input_dim, inner, bias=False), nn.GELU(),
                              nn.Linear(inner, cfg.input_dim, bias=False)),
            ]) for _ in range(cfg.depth))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        latents = self.latents.expand(tokens.shape[0], -1, -1)
        x = self.proj_in(tokens)
        for attn, ff in self.layers:
            latents = latents + attn(x, latents)
            latents = latents + ff(latents)
        return self.norm_out(self.proj_out(latents))
