"""LVDM models (VideoCrafter and DynamiCrafter) behind the `VideoModel` interface: the engine's pipeline is
built once, in the constructor's caller (`from_checkpoint` / `tiny`), and reused for every question.

The catalog modules register their specs with `build_lvdm` (the spec's family picks the pipeline) and
`settings_validator`, which refuses unusable settings before any weights are loaded."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.models.lvdm import PIPELINES, pipeline_class
from vmevalkit.models.lvdm.arguments import argument_problems, is_whole, video_size_problem
from vmevalkit.questions import Question
from vmevalkit.video import Video
from vmevalkit.weights import weights_hash

# The official configs: the autoencoder downsamples by 8 and the UNet by 8 more.
OFFICIAL_SIZE_MULTIPLE = 64
# The runner's setting names -> the pipeline's argument names (a family's spec has the settings it takes).
SAMPLER_ARGUMENTS = {"steps": "num_inference_steps", "guidance": "guidance_scale", "eta": "eta", "fps": "fps",
                     "frame_stride": "frame_stride", "timestep_spacing": "timestep_spacing",
                     "guidance_rescale": "guidance_rescale", "frames": "num_frames"}


def sampler_arguments(settings: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's keyword arguments for the runner's sampler settings (all but the sizes)."""
    return {arg: settings[key] for key, arg in SAMPLER_ARGUMENTS.items() if key in settings}


def check_settings(model_id: str, settings: dict[str, Any], size_multiple: int = 1) -> None:
    """Refuse settings the sampler cannot use, naming the setting, before any weights are loaded: the
    pipeline's own rules (it checks them again, with height and width against its size multiple, once loaded)
    and the video size limit."""
    setting_of = {arg: key for key, arg in SAMPLER_ARGUMENTS.items()}
    problems = argument_problems(sampler_arguments(settings), label=setting_of.__getitem__)
    for key in ("height", "width"):
        if not is_whole(settings[key]) or settings[key] < 1 or settings[key] % size_multiple:
            problems.append(f"{key} must be a positive multiple of {size_multiple} (got {settings[key]!r})")
    too_big = video_size_problem(settings["frames"], settings["height"], settings["width"],
                                 ("frames", "height", "width"))
    if too_big:
        problems.append(too_big)
    if problems:
        raise UserError(f"{model_id}: " + "; ".join(problems) + "; change it with --set key=value")


def settings_validator(model_id: str, size_multiple: int) -> Callable[[dict], None]:
    """The registry's check of a spec's settings before any work (sizes: multiples of `size_multiple`)."""
    return lambda settings: check_settings(model_id, settings, size_multiple)


def _torch_dtype(dtype: str | None):
    if dtype is None:
        return None
    import torch

    return getattr(torch, dtype)


class LVDMModel(VideoModel):
    """A VideoCrafter (image- or text-to-video) or DynamiCrafter pipeline, loaded once and called for every
    question.

    Settings: steps (DDIM steps), guidance (classifier-free guidance scale), eta (DDIM eta), frames, height,
    width; VideoCrafter: fps (conditioned on, and the video's frame rate); DynamiCrafter: frame_stride (the
    frame stride or fps it is conditioned on), timestep_spacing, guidance_rescale."""

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
                        family: str, config: str | None, device: str, dtype: str | None) -> LVDMModel:
        """Load an official checkpoint (its sha256 taken from its record, else computed once and recorded)."""
        checkpoint = Path(checkpoint)
        sha256 = weights_hash(checkpoint)
        pipe = pipeline_class(family).from_pretrained(checkpoint, config=config, device=device,
                                                      dtype=_torch_dtype(dtype))
        return cls(model_id, pipe, settings, checkpoint_sha256=sha256)

    @classmethod
    def tiny(cls, model_id: str, settings: dict[str, Any], *, device: str, dtype: str | None) -> LVDMModel:
        """The UNTRAINED toy-size i2v model: random weights from the engine's fixed seed, built in about a second."""
        from vmevalkit.models.lvdm.tiny import tiny_pipeline

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


def build_lvdm(spec: Any, settings: dict, device: str, dtype: str | None, weights: Path | None) -> VideoModel:
    """The builder of LVDM checkpoints, VideoCrafter or DynamiCrafter by `spec.family`: use it in your own spec
    to register, e.g., a fine-tuned checkpoint (`weights=WeightsSpec(repo, file, config=<built-in config name
    or YAML path>)`)."""
    assert spec.weights is not None and weights is not None
    if spec.family not in PIPELINES:
        raise UserError(f"model {spec.id}: build_lvdm runs the families {', '.join(PIPELINES)}, not {spec.family!r}; "
                        "set the spec's family to the one its checkpoint belongs to")
    return LVDMModel.from_checkpoint(spec.id, weights, settings, family=spec.family, config=spec.weights.config,
                                     device=device, dtype=dtype)
