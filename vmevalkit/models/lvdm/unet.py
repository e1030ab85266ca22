"""The LVDM 3D UNet of VideoCrafter and DynamiCrafter: 2D spatial ResBlocks and transformers interleaved
with temporal convolutions and temporal attention, conditioned on timestep, fps (VideoCrafter) or frame
stride / fps (DynamiCrafter's `fs`, the same embedding) and a text (+ image) context. With DynamiCrafter's
hybrid conditioning its input has 8 channels: the noisy latent, then the first frame's latent.

Frames are folded into the batch, `(b t) c h w`, everywhere except inside the temporal layers; the
activations live in channels-last memory, so that moving between the two views and into the
transformers' token layout is mostly free of copies, and oneDNN runs the convolutions in NHWC.
Module names equal the official checkpoint keys (including the misspelt `temopral_conv`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vmevalkit.models.lvdm.attention import TEXT_TOKENS, SpatialTransformer, TemporalTransformer

IMAGE_TOKENS_PER_FRAME = 16  # hard-coded in the official UNet: the Resampler's queries per frame


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 4
    out_channels: int = 4
    model_channels: int = 320
    attention_resolutions: tuple[int, ...] = (4, 2, 1)
    num_res_blocks: int = 2
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_head_channels: int = 64
    transformer_depth: int = 1
    context_dim: int = 1024
    temporal_conv: bool = True
    temporal_attention: bool = True
    use_image_attention: bool = False
    image_attention_scale_learnable: bool = False  # DynamiCrafter 256: `attn2.alpha` weights the image tokens
    addition_attention: bool = True
    fps_cond: bool = True  # VideoCrafter's fps_cond, DynamiCrafter's fs_condition
    default_fs: int = 16  # the fps / frame stride when none is given
    temporal_length: int = 16


class GroupNorm32(nn.GroupNorm):
    """GroupNorm computed in float32 whatever the input dtype (the official GroupNormSpecific)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x.float(), self.num_groups, self.weight.float(), self.bias.float(), self.eps).type(x.dtype)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding [cos | sin] of (possibly fractional) timesteps, shape (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, dim % 2))


class TemporalConvBlock(nn.Module):
    """Four (3,1,1) convolutions over time with a residual; GroupNorm pools all frames.

    The Conv3d modules hold the checkpoint's weights; they run as the equivalent (3,1) Conv2d over
    (time, pixels), which oneDNN runs several times faster on the CPU."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Sequential(nn.GroupNorm(32, channels), nn.SiLU(), nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0)))
        self.conv2, self.conv3, self.conv4 = (
            nn.Sequential(nn.GroupNorm(32, channels), nn.SiLU(), nn.Dropout(0.0),
                          nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0)))
            for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in (self.conv1, self.conv2, self.conv3, self.conv4):
            *pre, conv = block
            for layer in pre:
                h = layer(h)
            h = F.conv2d(h.flatten(3), conv.weight.flatten(3), conv.bias, padding=(1, 0)).reshape(x.shape)
        return x + h


class ResBlock(nn.Module):
    """GN-SiLU-conv, + timestep embedding, GN-SiLU-conv, + skip; then a temporal conv block."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int | None = None,
                 temporal_conv: bool = True):
        super().__init__()
        out_channels = out_channels or channels
        self.in_layers = nn.Sequential(GroupNorm32(32, channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(32, out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)
        if temporal_conv:
            self.temopral_conv = TemporalConvBlock(out_channels)

    def forward(self, x: torch.Tensor, emb: torch.Tensor, frames: int) -> torch.Tensor:
        h = self.in_layers(x) + self.emb_layers(emb).type(x.dtype)[:, :, None, None]
        h = self.skip_connection(x) + self.out_layers(h)
        if hasattr(self, "temopral_conv"):
            h = _frames_in_batch(self.temopral_conv(_frames_apart(h, frames)))
        return h


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _frames_apart(x: torch.Tensor, frames: int) -> torch.Tensor:
    """((b t), c, h, w) -> (b, c, t, h, w); a view of a channels-last tensor (physically (b, t, h, w, c))."""
    bt, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(bt // frames, frames, h, w, c).permute(0, 4, 1, 2, 3)


def _frames_in_batch(x: torch.Tensor) -> torch.Tensor:
    """(b, c, t, h, w) -> ((b t), c, h, w) in channels-last memory (a view when x is physically (b, t, h, w, c))."""
    b, c, t, h, w = x.shape
    return x.permute(0, 2, 3, 4, 1).reshape(b * t, h, w, c).permute(0, 3, 1, 2)


def frame_context(context: torch.Tensor, frames: int) -> torch.Tensor:
    """(n, L, c) -> ((n t), L', c), each frame's context, by the official rule: when the context holds the 77
    text tokens and 16 image tokens per frame (DynamiCrafter's Resampler with video_length = frames), frame i
    gets the text and image tokens [16 i, 16 i + 16); otherwise every frame gets the whole context."""
    n, length, c = context.shape
    if length != TEXT_TOKENS + frames * IMAGE_TOKENS_PER_FRAME:
        return context.repeat_interleave(frames, dim=0)
    text = context[:, :TEXT_TOKENS].repeat_interleave(frames, dim=0)
    return torch.cat([text, context[:, TEXT_TOKENS:].reshape(n * frames, IMAGE_TOKENS_PER_FRAME, c)], dim=1)


def _widen(x: torch.Tensor, batch: int) -> torch.Tensor:
    """Repeat a shared-input tensor along the batch once the guidance branches have parted."""
    return x if x.shape[0] == batch else x.repeat(batch // x.shape[0], *[1] * (x.dim() - 1))


def _run(block: nn.Sequential, h: torch.Tensor, emb: torch.Tensor, context: torch.Tensor, frames: int) -> torch.Tensor:
    """Apply each layer of a block with the inputs it takes."""
    for layer in block:
        if isinstance(layer, ResBlock):
            h = layer(h, _widen(emb, h.shape[0]), frames)
        elif isinstance(layer, SpatialTransformer):
            h = layer(h, context)
        elif isinstance(layer, TemporalTransformer):
            h = _frames_in_batch(layer(_frames_apart(h, frames)))
        else:
            h = layer(h)
    return h


@torch.no_grad()
def conv_weights_channels_last(module: nn.Module) -> nn.Module:
    """Store 2D convolution weights in channels-last memory, matching the activations (no reorder per call)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.weight.data = m.weight.data.contiguous(memory_format=torch.channels_last)
    return module


class UNetModel(nn.Module):
    """The denoiser (eps or v prediction, as the config says). `forward(x, t, context, fps)`: x is
    (b, in_channels, t, h, w), t (b,) timesteps, context (b, tokens, context_dim), fps an int or (b,) tensor
    (None: the config's default_fs).

    The context may hold k*b rows for one x (classifier-free guidance: [cond; uncond] on the same
    latents); the layers before the first cross-attention then run once on the shared input, and the
    output has k*b rows, exactly as if x had been repeated k times."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        ch0, emb_dim = cfg.model_channels, cfg.model_channels * 4
        self.time_embed = nn.Sequential(nn.Linear(ch0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        if cfg.fps_cond:
            self.fps_embedding = nn.Sequential(nn.Linear(ch0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

        def res(cin: int, cout: int) -> ResBlock:
            return ResBlock(cin, emb_dim, cout, cfg.temporal_conv)

        def attention(ch: int) -> list[nn.Module]:
            heads, dim_head = ch // cfg.num_head_channels, cfg.num_head_channels
            layers: list[nn.Module] = [SpatialTransformer(ch, heads, dim_head, cfg.context_dim, cfg.transformer_depth,
                                                          cfg.use_image_attention, cfg.image_attention_scale_learnable)]
            if cfg.temporal_attention:
                layers.append(TemporalTransformer(ch, heads, dim_head))
            return layers

        self.input_blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(cfg.in_channels, ch0, 3, padding=1))])
        if cfg.addition_attention:
            self.init_attn = nn.Sequential(
                TemporalTransformer(ch0, 8, cfg.num_head_channels, cfg.transformer_depth, use_linear=False))
        skip_channels, ch, ds = [ch0], ch0, 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers = [res(ch, mult * ch0)]
                ch = mult * ch0
                if ds in cfg.attention_resolutions:
                    layers += attention(ch)
                self.input_blocks.append(nn.Sequential(*layers))
                skip_channels.append(ch)
            if level != len(cfg.channel_mult) - 1:
                self.input_blocks.append(nn.Sequential(Downsample(ch)))
                skip_channels.append(ch)
                ds *= 2
        self.middle_block = nn.Sequential(res(ch, ch), *attention(ch), res(ch, ch))
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks + 1):
                layers = [res(ch + skip_channels.pop(), mult * ch0)]
                ch = mult * ch0
                if ds in cfg.attention_resolutions:
                    layers += attention(ch)
                if level and i == cfg.num_res_blocks:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.output_blocks.append(nn.Sequential(*layers))
        self.out = nn.Sequential(GroupNorm32(32, ch), nn.SiLU(), nn.Conv2d(ch0, cfg.out_channels, 3, padding=1))

    def embed(self, t: torch.Tensor, fps: int | torch.Tensor | None) -> torch.Tensor:
        """The (b, 4*model_channels) embedding of timesteps (+ fps or frame stride)."""
        ch0 = self.cfg.model_channels
        emb = self.time_embed(timestep_embedding(t, ch0).to(self.time_embed[0].weight.dtype))
        if self.cfg.fps_cond:
            if fps is None:
                fps = self.cfg.default_fs
            if not isinstance(fps, torch.Tensor):
                fps = torch.full_like(t, int(fps))
            fps = fps.to(t.device).expand(t.shape[0]) if fps.numel() == 1 else fps.to(t.device)
            emb = emb + self.fps_embedding(timestep_embedding(fps, ch0).to(emb.dtype))
        return emb

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                fps: int | torch.Tensor | None = None) -> torch.Tensor:
        b, _, frames, _, _ = x.shape
        if context.shape[0] % b:
            raise ValueError(f"context batch {context.shape[0]} is not a multiple of the latent batch {b}")
        t = t.to(x.device).expand(b) if t.numel() == 1 else t.to(x.device)
        emb = self.embed(t, fps).repeat_interleave(frames, dim=0)
        context = frame_context(context.to(x.dtype), frames)
        h = _frames_in_batch(x)
        skips = []
        for i, block in enumerate(self.input_blocks):
            h = _run(block, h, emb, context, frames)
            if i == 0 and self.cfg.addition_attention:
                h = _run(self.init_attn, h, emb, context, frames)
            skips.append(h)
        h = _run(self.middle_block, h, emb, context, frames)
        for block in self.output_blocks:
            h = _run(block, torch.cat([h, _widen(skips.pop(), h.shape[0])], dim=1), emb, context, frames)
        return _frames_apart(_widen(self.out(h), context.shape[0]), frames).contiguous()
