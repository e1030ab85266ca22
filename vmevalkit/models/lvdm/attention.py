"""Attention blocks of the VideoCrafter UNet, computed with scaled_dot_product_attention.

Parameter names follow the official checkpoint (to_q/to_k/to_v/to_out.0, to_k_ip/to_v_ip, norm1-3,
ff.net.0.proj / ff.net.2, proj_in/proj_out), so a checkpoint loads with a plain load_state_dict."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

TEXT_TOKENS = 77  # the first 77 context tokens are text, the rest image tokens (official constant)


def _heads(x: torch.Tensor, n: int) -> torch.Tensor:
    """(B, L, n*d) -> (B, n, L, d)"""
    b, length, _ = x.shape
    return x.view(b, length, n, -1).transpose(1, 2)


class CrossAttention(nn.Module):
    """Multi-head attention; self-attention when no context is given.

    With `image_attention`, the context is [77 text tokens | image tokens] and the output is
    attn(q, text) + attn(q, image) with separate key/value projections for the image tokens; with
    `image_scale_learnable` (DynamiCrafter 256) the image term is weighted by tanh(alpha) + 1, a learnt scalar."""

    def __init__(self, query_dim: int, context_dim: int | None, heads: int, dim_head: int,
                 image_attention: bool = False, image_scale_learnable: bool = False):
        super().__init__()
        inner = heads * dim_head
        context_dim = context_dim or query_dim
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))
        self.image_attention = image_attention
        if image_attention:
            self.to_k_ip = nn.Linear(context_dim, inner, bias=False)
            self.to_v_ip = nn.Linear(context_dim, inner, bias=False)
            if image_scale_learnable:
                self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        n = self.heads
        q = _heads(self.to_q(x), n)
        if context is None:
            context = x
        text = context[:, :TEXT_TOKENS] if self.image_attention else context
        out = F.scaled_dot_product_attention(q, _heads(self.to_k(text), n), _heads(self.to_v(text), n))
        if self.image_attention:
            image = context[:, TEXT_TOKENS:]
            out_ip = F.scaled_dot_product_attention(q, _heads(self.to_k_ip(image), n), _heads(self.to_v_ip(image), n))
            out = out + (out_ip * (torch.tanh(self.alpha) + 1) if hasattr(self, "alpha") else out_ip)
        b, _, length, _ = out.shape
        return self.to_out(out.transpose(1, 2).reshape(b, length, -1))


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.proj(x).chunk(2, dim=-1)
        return value * F.gelu(gate)


# On the CPU the feed-forward runs in blocks of rows whose hidden layer (8x the width of the input) takes about
# this many bytes, so it stays in cache instead of streaming through memory: 3-4x faster at the widths of the
# first UNet level, with the same result row for row. On CUDA one call over all rows is faster.
CPU_BLOCK_BYTES = 4 << 20


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4):
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = max(1, CPU_BLOCK_BYTES // (self.net[0].proj.out_features * x.element_size()))
        flat = x.reshape(-1, x.shape[-1])
        if x.device.type != "cpu" or flat.shape[0] <= rows:
            return self.net(x)
        return torch.cat([self.net(block) for block in flat.split(rows)]).view(x.shape)


class BasicTransformerBlock(nn.Module):
    """Self-attention, then cross-attention (a second self-attention when context is None), then GEGLU MLP."""

    def __init__(self, dim: int, heads: int, dim_head: int, context_dim: int | None,
                 image_attention: bool = False, image_scale_learnable: bool = False):
        super().__init__()
        self.attn1 = CrossAttention(dim, None, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, heads, dim_head, image_attention, image_scale_learnable)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        if context is not None and context.shape[0] != x.shape[0]:
            x = x.repeat(context.shape[0] // x.shape[0], 1, 1)  # shared input: the guidance branches part here
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class SpatialTransformer(nn.Module):
    """Attention over the pixels of each frame, with cross-attention to the text (+ image) context.

    Input and output are ((b t), c, h, w); GroupNorm statistics are per frame. When the context holds k
    times the input's batch (classifier-free guidance on a shared input), the output has k times the batch."""

    def __init__(self, channels: int, heads: int, dim_head: int, context_dim: int, depth: int = 1,
                 image_attention: bool = False, image_scale_learnable: bool = False):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(inner, heads, dim_head, context_dim, image_attention, image_scale_learnable)
            for _ in range(depth))
        self.proj_out = nn.Linear(inner, channels)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        bt, c, h, w = x.shape
        y = self.proj_in(self.norm(x).flatten(2).transpose(1, 2))
        for block in self.transformer_blocks:
            y = block(y, context)
        if y.shape[0] != bt:
            x = x.repeat(y.shape[0] // bt, 1, 1, 1)
        return x + self.proj_out(y).transpose(1, 2).reshape(y.shape[0], c, h, w)


class TemporalTransformer(nn.Module):
    """Self-attention across the frames at each pixel (no positional encoding, no mask).

    Input and output are (b, c, t, h, w); GroupNorm statistics pool all frames. The official
    `init_attn` stores its projections as 1x1 Conv1d (use_linear=False): same math as a Linear,
    kept as Conv1d so the checkpoint's weight shapes load unchanged."""

    def __init__(self, channels: int, heads: int, dim_head: int, depth: int = 1, use_linear: bool = True):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if use_linear else nn.Conv1d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(inner, heads, dim_head, None) for _ in range(depth))
        self.proj_out = nn.Linear(inner, channels) if use_linear else nn.Conv1d(inner, channels, 1)

    @staticmethod
    def _pointwise(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        weight = layer.weight if isinstance(layer, nn.Linear) else layer.weight.squeeze(-1)
        return F.linear(x, weight, layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        y = self.norm(x).permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
        y = self._pointwise(self.proj_in, y)
        for block in self.transformer_blocks:
            y = block(y)
        y = self._pointwise(self.proj_out, y)
        return x + y.reshape(b, h, w, t, c).permute(0, 4, 3, 1, 2)
