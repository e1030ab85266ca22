"""One `VideoModel` over every family of the table: loads a diffusers pipeline once (dtype, offload, VAE tiling
and slicing as settings), then turns each question into the family's call and the pipeline's frames into a
Video whose `info` records every argument that was passed."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from packaging.version import Version
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.models.diffusers_models.families import Family
from vmevalkit.models.diffusers_models.rules import parse_timesteps
from vmevalkit.questions import Question
from vmevalkit.video import Video

NOT_PASSED_WHEN_EMPTY = ("negative_prompt",)  # an empty text means: the pipeline's own default


def diffusers_version() -> str | None:
    try:
        return importlib.metadata.version("diffusers")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_diffusers(model_id: str, family: Family) -> None:
    """Raise UserError when the installed diffusers is missing or older than the family's first release."""
    installed = diffusers_version()
    if installed is None or Version(installed) < Version(family.since):
        have = f"diffusers {installed} is installed" if installed else "diffusers is not installed"
        raise UserError(f"{model_id}: {family.pipeline} needs diffusers >= {family.since} and {have}; "
                        f"upgrade it with: pip install -U 'diffusers>={family.since}'")


def _keep_torch_factories_on_the_device_context() -> None:
    """While transformers loads a model it swaps `torch.linspace` for a CPU-pinned wrapper; torch caches its list
    of factory functions (the ones `with torch.device(...)` redirects) on first use. Filled during that swap, the
    cache would hold the wrapper, and every later `torch.linspace` under `torch.device("meta")` (the VideoCrafter
    engine builds on meta) would make CPU tensors. Filling it before any load keeps the real function there."""
    try:
        from torch.utils._device import _device_constructors
    except ImportError:  # a torch without that cache has nothing to protect
        return
    _device_constructors()


def torch_dtype(setting: str, cli_dtype: str | None, device: str):
    """The dtype to load in: the `dtype` setting, else --dtype, else bfloat16 on CUDA and float32 on the CPU."""
    import torch

    name = setting if setting != "auto" else cli_dtype or ("bfloat16" if device.startswith("cuda") else "float32")
    return getattr(torch, name)


class DiffusersModel(VideoModel):
    """A diffusers image-to-video pipeline of one family, loaded once and called for every question."""

    def __init__(self, model_id: str, family: Family, pipe: Any, settings: dict[str, Any], *, reference: str,
                 source: Path, revision: str | None, device: str, dtype: str) -> None:
        self.id = model_id
        self.dtype = dtype  # what the pipeline was loaded in (fp32_components aside)
        self.family = family
        self.pipe = pipe
        self._settings = dict(settings)
        self.reference, self.source, self.revision, self.device = reference, source, revision, device
        self.resolution = (int(settings["width"]), int(settings["height"]))

    @classmethod
    def load(cls, model_id: str, family: Family, source: str | os.PathLike, settings: dict[str, Any], *,
             device: str, dtype: str | None, reference: str, revision: str | None = None,
             variant: str | None = None) -> DiffusersModel:
        """Load the pipeline of `family` from the folder `source` and apply the memory and family settings."""
        check_diffusers(model_id, family)
        if settings["offload"] != "none" and not device.startswith("cuda"):
            raise UserError(f"{model_id}: offload={settings['offload']} moves weights between the CPU and a GPU, and "
                            f"the device is {device}; use --set offload=none (or --device cuda)")
        import diffusers
        import torch

        pipeline_class = getattr(diffusers, family.pipeline)
        loading_dtype = torch_dtype(settings["dtype"], dtype, device)
        dtype_argument = "dtype" if Version(diffusers.__version__) >= Version("0.40.0") else "torch_dtype"
        _keep_torch_factories_on_the_device_context()
        try:
            pipe = pipeline_class.from_pretrained(str(source), variant=variant, **{dtype_argument: loading_dtype})
        except ImportError as e:  # a package the pipeline needs (a tokenizer's, Cosmos' guardrail)
            raise UserError(f"{model_id}: loading {family.pipeline} needs a package that is not installed: "
                            f"{str(e).splitlines()[0]}") from e
        for name in family.fp32_components:
            if getattr(pipe, name, None) is not None:
                getattr(pipe, name).to(torch.float32)
        model = cls(model_id, family, pipe, settings, reference=reference, source=Path(source), revision=revision,
                    device=device, dtype=str(loading_dtype).removeprefix("torch."))
        model._configure()
        return model

    def _configure(self) -> None:
        """Family knobs that live on the pipeline (config, scheduler, guider), the VAE options, then the device."""
        pipe, settings = self.pipe, self._settings
        for knob in self.family.config_knobs:
            pipe.register_to_config(**{knob: settings[knob]})
        for knob in self.family.scheduler_knobs:
            pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, **{knob: settings[knob]})
        if self.family.guider_guidance:
            pipe.guider = pipe.guider.new(guidance_scale=settings["guidance"])
        for setting, method in (("vae_tiling", "enable_tiling"), ("vae_slicing", "enable_slicing")):
            if settings[setting]:
                if not hasattr(pipe.vae, method):
                    raise UserError(f"{self.id}: its VAE ({type(pipe.vae).__name__}) has no {method}; "
                                    f"use --set {setting}=false")
                getattr(pipe.vae, method)()
        offload = settings["offload"]
        if offload == "model":
            pipe.enable_model_cpu_offload(device=self.device)
        elif offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def describe(self) -> dict[str, Any]:
        pipe = self.pipe
        loaded = {knob: self._settings[knob] for knob in (*self.family.config_knobs, *self.family.scheduler_knobs)}
        if self.family.guider_guidance:
            loaded["guider_guidance_scale"] = pipe.guider.guidance_scale
        return {"backend": "diffusers", "family": self.family.name, "pipeline": type(pipe).__name__,
                "reference": self.reference, "path": str(self.source), "commit": self.revision,
                "diffusers": diffusers_version(), "dtype": self.dtype,
                "fp32_components": [n for n in self.family.fp32_components if getattr(pipe, n, None) is not None],
                "offload": self._settings["offload"], "vae_tiling": self._settings["vae_tiling"],
                "vae_slicing": self._settings["vae_slicing"], "set_at_load": loaded, "sees": list(self.family.sees),
                **({"note": self.family.note} if self.family.note else {})}

    def call_arguments(self, image: Image.Image, prompt: str) -> dict[str, Any]:
        """The keyword arguments of one pipeline call (all but the generator and output type)."""
        family, settings = self.family, self._settings
        args: dict[str, Any] = {"image": image}
        if "prompt" in family.sees:
            args["prompt"] = prompt
            if "motion_score" in settings:  # SANA-Video reads the wanted motion from the prompt's end
                args["prompt"] = f"{prompt} motion score: {settings['motion_score']}."
        for key, name in family.arguments.items():
            if not (key in NOT_PASSED_WHEN_EMPTY and settings[key] == ""):
                args[name] = settings[key]
        for knob in family.knobs:
            if knob in (*family.config_knobs, *family.scheduler_knobs, "motion_score"):
                continue
            if knob == "timesteps":
                if settings[knob]:
                    args["timesteps"] = parse_timesteps(settings[knob])
                continue
            args[knob] = settings[knob]
        return args

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        import torch

        args = self.call_arguments(image.convert("RGB"), question.prompt)
        device = self.pipe._execution_device
        generator = torch.Generator(device=device).manual_seed(seed)
        self.pipe.set_progress_bar_config(disable=not progress, leave=False, position=1, desc=self.id,
                                          file=sys.stderr, dynamic_ncols=True)
        with torch.inference_mode():
            output = self.pipe(**args, generator=generator, output_type="np")
        frames = np.asarray(output.frames[0], dtype=np.float32)
        video = np.clip(np.rint(frames * 255.0), 0, 255).astype(np.uint8)
        info = {"pipeline": type(self.pipe).__name__,
                "call": {k: v for k, v in args.items() if k != "image"},
                "generator": {"device": str(device), "seed": seed}, "output_type": "np"}
        return Video(np.ascontiguousarray(video), float(self._settings["fps"]), info=info)
