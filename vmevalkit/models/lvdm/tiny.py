"""`videocrafter-tiny`: the real VideoCrafter i2v pipeline at toy size with seeded random weights.

UNTRAINED: it exists so that everything downstream (runner, scoring, reports, tests) runs the real
engine end to end on any CPU in seconds. With the default seed its weights are exactly those of the
golden i2v test fixture."""

from __future__ import annotations

import torch

from vmevalkit.models.lvdm.config import CONFIG_DIR, load_config
from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline
from vmevalkit.models.lvdm.random_weights import random_model

TINY_CONFIG = CONFIG_DIR / "tiny_i2v.yaml"
TINY_SEED = 1234


def tiny_pipeline(seed: int = TINY_SEED, device: torch.device | str | None = None,
                  dtype: torch.dtype | None = None) -> VideoCrafterPipeline:
    """The UNTRAINED tiny i2v pipeline with weights drawn from `seed` (the default: the i2v fixture's)."""
    cfg = load_config(TINY_CONFIG)
    return VideoCrafterPipeline(random_model(cfg, seed), device, dtype,
                                {"checkpoint": None, "weights": f"random, seed {seed}", "untrained": True})
