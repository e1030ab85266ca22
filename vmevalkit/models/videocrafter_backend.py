"""VideoCrafter models behind the `VideoModel` interface: the engine's pipeline is built once, in the
constructor's caller (`from_checkpoint` / `tiny`), and reused for every question."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question
from vmevalkit.video import Video
from vmevalkit.weights import weights_hash

# The official 512 configs: the autoencoder downsamples by 8 and the UNet by 8 more.
OFFICIAL_SIZE_MULTIPLE = 64
# DDIM steps are drawn from the 1000 training timesteps; more than 999 would run past the schedule.
MAX_STEPS = 999


def check_settings(model_id: str, settings: dict[str, Any], size_multiple: int = 1) -> None:
    """Refuse settings the sampler cannot use, naming the setting, before any weights are loaded.
    (The loaded pipeline checks height and width against its own size multiple again.)"""
    s = settings
    problems = []
    for key in ("steps", "frames"):
        if not isinstance(s[key], int) or s[key] < 1:
            problems.append(f"{key} must be a whole number >= 1 (got {s[key]!r})")
    if isinstance(s["steps"], int) and s["steps"] > MAX_STEPS:
        problems.append(f"steps must be at most {MAX_STEPS}, the training schedule's length - 1 (got {s['steps']})")
    for key in ("height", "width"):
        if not isinstance(s[key], int) or s[key] < 1 or s[key] % size_multiple:
            problems.append(f"{key} must be a positive multiple of {size_multiple} (got {s[key]!r})")
    if not s["fps"] > 0:
        problems.append(f"fps must be > 0 (got {s['fps']!r})")
    if not 1 <= s["guidance"] < math.inf:
        problems.append(f"guidance must be a finite number >= 1, where 1 turns guidance off (got {s['guidance']!r})")
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
                 checkpoint_sha256: str | None = None) -> None:
        pipeline.check_size(int(settings["height"]), int(settings["width"]))
        self.id = model_id
        self.pipeline = pipeline
        self._settings = dict(settings)
        self.resolution = (int(settings["width"]), int(settings["height"]))
        self.untrained = untrained
        self.checkpoint_sha256 = checkpoint_sha256

    @classmethod
    def from_checkpoint(cls, model_id: str, checkpoint: str | os.PathLike, settings: dict[str, Any], *,
                        config: str | None, device: str, dtype: str | None) -> VideoCrafterModel:
        """Load an official checkpoint (its sha256 taken from its record, else computed once and recorded)."""
        from vmevalkit.models.videocrafter.pipeline import VideoCrafterPipeline

        checkpoint = Path(checkpoint)
        sha256 = weights_hash(checkpoint)
        pipe = VideoCrafterPipeline.from_pretrained(checkpoint, config=config, device=device,
                                                    dtype=_torch_dtype(dtype))
        return cls(model_id, pipe, settings, checkpoint_sha256=sha256)

    @classmethod
    def tiny(cls, model_id: str, settings: dict[str, Any], *, device: str, dtype: str | None) -> VideoCrafterModel:
        """The UNTRAINED toy-size i2v model: random weights from the engine's fixed seed, built in about a second."""
        from vmevalkit.models.videocrafter.tiny import tiny_pipeline

        return cls(model_id, tiny_pipeline(device=device, dtype=_torch_dtype(dtype)), settings, untrained=True)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def describe(self) -> dict[str, Any]:
        described = {**self.pipeline.describe(), "untrained": self.untrained}
        if self.checkpoint_sha256:
            described["checkpoint_sha256"] = self.checkpoint_sha256
        return described

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        s = self._settings
        return self.pipeline(image if self.pipeline.kind == "i2v" else None, question.prompt,
                             num_inference_steps=s["steps"], guidance_scale=s["guidance"], eta=s["eta"],
                             fps=s["fps"], height=s["height"], width=s["width"], num_frames=s["frames"],
                             seed=seed, progress=progress)
