"""VideoCrafter models behind the `VideoModel` interface: the engine's pipeline is built once, in the
constructor's caller (`from_checkpoint` / `tiny`), and reused for every question."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.models.videocrafter.arguments import argument_problems, is_whole
from vmevalkit.questions import Question
from vmevalkit.video import Video
from vmevalkit.weights import weights_hash

# The official 512 configs: the autoencoder downsamples by 8 and the UNet by 8 more.
OFFICIAL_SIZE_MULTIPLE = 64
# The runner's setting names -> the pipeline's argument names.
SAMPLER_ARGUMENTS = {"steps": "num_inference_steps", "guidance": "guidance_scale", "eta": "eta", "fps": "fps",
                     "frames": "num_frames"}


def sampler_arguments(settings: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's keyword arguments for the runner's sampler settings (all but the sizes)."""
    return {arg: settings[key] for key, arg in SAMPLER_ARGUMENTS.items()}


def check_settings(model_id: str, settings: dict[str, Any], size_multiple: int = 1) -> None:
    """Refuse settings the sampler cannot use, naming the setting, before any weights are loaded: the
    pipeline's own rules (it checks them again, with height and width against its size multiple, once loaded)."""
    setting_of = {arg: key for key, arg in SAMPLER_ARGUMENTS.items()}
    problems = argument_problems(sampler_arguments(settings), label=setting_of.__getitem__)
    for key in ("height", "width"):
        if not is_whole(settings[key]) or settings[key] < 1 or settings[key] % size_multiple:
            problems.append(f"{key} must be a positive multiple of {size_multiple} (got {settings[key]!r})")
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
        return self.pipeline(image if self.pipeline.kind == "i2v" else None, question.prompt,
                             **sampler_arguments(self._settings), height=self._settings["height"],
                             width=self._settings["width"], seed=seed, progress=progress)
