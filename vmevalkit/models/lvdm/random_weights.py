"""Random weights for LVDM models: the toy `videocrafter-tiny` model, the test fixtures and the benchmarks.

The rule is the one that made the golden fixtures (../shared/fixtures): every parameter, in
`named_parameters()` order, is drawn from one seeded generator, z = randn(shape); norm weights
1 + 0.1 z, norm biases 0.1 z, the learnable image-attention scales (`alpha`) z, tensors with >= 2 dims
z / sqrt(fan_in), other tensors 0.05 z. Our module order equals the official one, so
`random_model(config, seed)` rebuilds a fixture's weights exactly. Such a model is UNTRAINED: its
videos are structured noise, useful only to exercise the real pipeline."""

from __future__ import annotations

import math

import torch
from torch import nn

from vmevalkit.models.lvdm.config import LVDMConfig
from vmevalkit.models.lvdm.latent_diffusion import LatentVideoDiffusion, schedule_buffers


@torch.no_grad()
def randomize_(model: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter in place with seeded normals: norms near 1 (weights) and 0 (biases),
    image-attention scales standard normal, matrices scaled by 1/sqrt(fan-in), other vectors small."""
    g = torch.Generator().manual_seed(seed)
    norm_params = {}
    for m in model.modules():
        if isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
            norm_params[id(m.weight)], norm_params[id(m.bias)] = "weight", "bias"
    for name, p in model.named_parameters():
        z = torch.randn(p.shape, generator=g)
        kind = norm_params.get(id(p))
        if kind == "weight":
            z = 1.0 + 0.1 * z
        elif kind == "bias":
            z = 0.1 * z
        elif p.dim() >= 2:
            z = z / math.sqrt(math.prod(p.shape[1:]))
        elif not name.endswith(".alpha"):  # the image-attention scales stay standard normal
            z = 0.05 * z
        p.copy_(z)
    return model


def random_model(cfg: LVDMConfig, seed: int) -> LatentVideoDiffusion:
    """A LatentVideoDiffusion with seeded random weights, built without PyTorch's default init."""
    with torch.device("meta"):
        model = LatentVideoDiffusion(cfg)
    model.to_empty(device="cpu")
    for name, buf in schedule_buffers(cfg.diffusion).items():
        setattr(model, name, buf)
    return randomize_(model, seed)
