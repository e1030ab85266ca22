"""VideoCrafter models behind the `VideoModel` interface: the engine's pipeline is built once, in the
constructor's caller (`from_checkpoint` / `tiny`), and reused for every question."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question
from vmevalkit.video import Video
from vmevalkit.weights import weights_hash

# Sizes must divide into the latent grid: VAE x8 and three UNet downsamplings for the official models,
# VAE x2 and one UNet downsampling (rounded up to 8) for the tiny one.
OFFICIAL_SIZE_MULTIPLE = 64
TINY_SIZE_MULTIPLE = 8


def check_settings(model_id: str, settings: dict[str, Any], size_multiple: int) -> None:
    """Refuse settings the sampler cannot use, naming the setting and a valid value."""
    s = settings
    problems = []
    for key in ("steps", "frames"):
        if not isinstance(s[key], int) or s[key] < 1:
            problems.append(f"{key} must be a whole number >= 1 (got {s[key]!r})")
    for key in ("height", "width"):
        if not isinstance(s[key], int) or s[key] < size_multiple or s[key] % size_multiple:
            problems.append(f"{key} must be a positive multiple of {size_multiple} (got {s[key]!r})")
    if not s["fps"] > 0:
        problems.append(f"fps must be > 0 (got {s['fps']!r})")
    if not s["eta"] >= 0:
        problems.append(f"eta must be >= 0 (got {s['eta']!r})")
    if problems:
        raise UserError(f"{model_id}: " + "; ".join(problems) + "; change it with --set key=value")


def _torch_dtype(dtype: str | None):
    if dtype is None:
        return None
    import torch

    return getattr(torch, dtype)


class VideoCrafterModel(VideoModel):
    """A VideoCrafter image- or text-to-video pipeline, loaded once and called for every question.

    Settings: steps (DDIM steps), guidance (classifier-free guidance scale), eta (DDIM eta), fps (the fps
    the model is conditioned on and the video's frame rate), frames, height, width."""

    def __init__(self, model_id: str, pipeline: Any, settings: dict[str, Any], *, untrained: bool = False,
                 weights: dict[str, Any] | None = None) -> None:
        self.id = model_id
        self.pipeline = pipeline
        self._settings = dict(settings)
        self.resolution = (int(settings["width"]), int(settings["height"]))
        self.untrained = untrained
        self.weights = weights or {}

    @classmethod
    def from_checkpoint(cls, model_id: str, checkpoint: str | os.PathLike, settings: dict[str, Any], *,
                        config: str | None, device: str, dtype: str | None) -> VideoCrafterModel:
        """Load an official checkpoint (sha256 taken from its record, else computed once and recorded)."""
        from vmevalkit.models.videocrafter.pipeline import VideoCrafterPipeline

        check_settings(model_id, settings, OFFICIAL_SIZE_MULTIPLE)
        checkpoint = Path(checkpoint)
        weights = {"path": str(checkpoint), "sha256": weights_hash(checkpoint)}
        pipe = VideoCrafterPipeline.from_pretrained(checkpoint, config=config, device=device,
                                                    dtype=_torch_dtype(dtype))
        return cls(model_id, pipe, settings, weights=weights)

    @classmethod
    def tiny(cls, model_id: str, settings: dict[str, Any], *, device: str, dtype: str | None,
             weights_seed: int) -> VideoCrafterModel:
        """The UNTRAINED toy-size i2v model: random weights drawn from `weights_seed`, built in about a second."""
        from vmevalkit.models.videocrafter.tiny import tiny_pipeline

        check_settings(model_id, settings, TINY_SIZE_MULTIPLE)
        if dtype not in (None, "float32"):
            raise UserError(f"{model_id} runs in float32 only; drop --dtype {dtype}")
        pipe = tiny_pipeline(seed=weights_seed, device=device)
        return cls(model_id, pipe, settings, untrained=True, weights={"random_init_seed": weights_seed})

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def describe(self) -> dict[str, Any]:
        return {**self.pipeline.describe(), "weights": self.weights, "untrained": self.untrained,
                "kind": self.pipeline.kind}

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        s = self._settings
        return self.pipeline(image if self.pipeline.kind == "i2v" else None, question.prompt,
                             num_inference_steps=s["steps"], guidance_scale=s["guidance"], eta=s["eta"],
                             fps=s["fps"], height=s["height"], width=s["width"], num_frames=s["frames"],
                             seed=seed, progress=progress)
