"""The native LVDM engine: VideoCrafter and DynamiCrafter (image/text-to-video latent diffusion), in-process.

One UNet, autoencoder, set of encoders, sampler and loader for both families; where they differ, the flag
is in the config (see config.py) and a pipeline per family holds its call."""

from __future__ import annotations

import importlib

# family -> (module, class) of its pipeline; imported on first use (torch is heavy)
PIPELINES = {"videocrafter": ("vmevalkit.models.lvdm.pipeline", "VideoCrafterPipeline"),
             "dynamicrafter": ("vmevalkit.models.lvdm.dynamicrafter", "DynamiCrafterPipeline")}


def pipeline_class(family: str) -> type:
    """The pipeline class that runs a family's configs."""
    module, name = PIPELINES[family]
    return getattr(importlib.import_module(module), name)
