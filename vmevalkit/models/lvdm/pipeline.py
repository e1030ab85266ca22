"""The LVDM pipelines: load once, call many times (the diffusers convention).

`LVDMPipeline` holds what both families share (loading, the encoders, the schedule, the argument checks,
the sampling loop and the decoding); `VideoCrafterPipeline` is VideoCrafter's call, and
`vmevalkit.models.lvdm.dynamicrafter.DynamiCrafterPipeline` DynamiCrafter's.

    pipe = VideoCrafterPipeline.from_pretrained("model.ckpt")            # config chosen from the keys
    video = pipe(image, "a red ball bouncing", seed=0)                   # -> vmevalkit.video.Video
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Callable

import torch
from PIL import Image

from vmevalkit.errors import CheckpointError, InvalidArgumentError
from vmevalkit.models.lvdm import PIPELINES
from vmevalkit.models.lvdm.arguments import argument_problems, is_whole, video_size_problem
from vmevalkit.models.lvdm.checkpoint import check_keys, read_state_dict
from vmevalkit.models.lvdm.config import LVDMConfig, builtin_for_checkpoint, load_config
from vmevalkit.models.lvdm.encoders import CLIP_SIZE
from vmevalkit.models.lvdm.image_input import resize_bilinear
from vmevalkit.models.lvdm.latent_diffusion import DERIVED_BUFFERS, LatentVideoDiffusion
from vmevalkit.models.lvdm.sampling import DDIMSchedule, guided, make_schedule, sample_ddim
from vmevalkit.models.lvdm.unet import conv_weights_channels_last
from vmevalkit.video import Video

OUTPUT_TYPES = ("video", "pt", "latent")
# Parts of the checkpoint that inference never uses: the image tower keeps the text tower's embeddings
# and vice versa. They are checked on load, then freed.
UNUSED_AFTER_LOAD = ("cond_stage_model.model.text_projection", "cond_stage_model.model.logit_scale",
                     "embedder.model.token_embedding", "embedder.model.positional_embedding",
                     "embedder.model.ln_final", "embedder.model.text_projection", "embedder.model.logit_scale",
                     "embedder.model.visual.ln_post", "embedder.model.visual.proj")


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device, weights: torch.dtype | None = None) -> torch.dtype:
    """On CUDA the half precision the weights are stored in (a converted file), else float16; float32 elsewhere."""
    if device.type != "cuda":
        return torch.float32
    return weights if weights in (torch.float16, torch.bfloat16) else torch.float16


def prompt_list(prompt: str | list[str]) -> list[str]:
    """One prompt or a list of them -> a non-empty list of prompts."""
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, (list, tuple)) or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f"prompt must be a string or a list of strings, got {prompt!r:.100}")
    if not prompts:
        raise InvalidArgumentError("prompt is an empty list; give at least one prompt")
    return list(prompts)


def _drop_unused(model: LatentVideoDiffusion) -> None:
    modules = dict(model.named_modules())
    for dotted in UNUSED_AFTER_LOAD:
        parent_name, _, attr = dotted.rpartition(".")
        if parent_name in modules and hasattr(modules[parent_name], attr):
            delattr(modules[parent_name], attr)


def _place(model: LatentVideoDiffusion, device: torch.device, dtype: torch.dtype) -> LatentVideoDiffusion:
    """Move weights to device/dtype; the diffusion schedule stays float32."""
    schedule = {name: buf.float() for name, buf in model.named_buffers(recurse=False)}
    model.to(device=device, dtype=dtype)
    conv_weights_channels_last(model.unet)
    for name, buf in schedule.items():
        setattr(model, name, buf.to(device))
    return model.eval().requires_grad_(False)


def expected_tensors(cfg: LVDMConfig) -> dict[str, torch.Size]:
    """The shape of every tensor a checkpoint for this config must hold (the model built on the meta device)."""
    with torch.device("meta"):
        return {k: v.shape for k, v in LatentVideoDiffusion(cfg).state_dict().items()}


def model_tensors(state: dict[str, torch.Tensor], expected: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors less the schedule buffers that inference derives (those the model keeps stay)."""
    return {k: v for k, v in state.items() if k not in DERIVED_BUFFERS or k in expected}


def load_weights(cfg: LVDMConfig, state_dict: dict[str, torch.Tensor], source: str) -> LatentVideoDiffusion:
    """Build the model on the meta device (no random init) and assign the checkpoint's tensors, strictly."""
    with torch.device("meta"):
        model = LatentVideoDiffusion(cfg)
    expected = {k: v.shape for k, v in model.state_dict().items()}
    state = model_tensors(state_dict, expected)
    check_keys(expected, state, source, cfg.name, builtin_for_checkpoint(state_dict)[0])
    model.load_state_dict(state, strict=True, assign=True)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"tensors left uninitialised after loading {source}: {left[:5]}")
    return model


def to_video(video: torch.Tensor, fps: float) -> Video:
    """(3, T, H, W) in [-1, 1] -> Video of uint8 frames (values outside [-1, 1] are clipped)."""
    pixels = ((video.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return Video(pixels.permute(1, 2, 3, 0).cpu().numpy(), float(fps))


class LVDMPipeline:
    """Owns a loaded LVDM model of one family; subclasses add the family's `__call__` and image loader."""

    family = ""  # "videocrafter" or "dynamicrafter": the configs this pipeline runs
    load_image: Callable[[Image.Image, int, int], torch.Tensor]  # the family's official image loader

    def __init__(self, model: LatentVideoDiffusion, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, source: dict[str, Any] | None = None):
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating-point torch.dtype such as torch.float16, got {dtype!r}")
        if model.cfg.family != self.family:
            raise InvalidArgumentError(f"config {model.cfg.name} is a {model.cfg.family} config: run it with "
                                       f"{PIPELINES[model.cfg.family][1]}, not {type(self).__name__}")
        self.device = torch.device(device) if device is not None else default_device()
        self.dtype = dtype or default_dtype(self.device, model.unet.out[2].weight.dtype)
        _drop_unused(model)
        self.model = _place(model, self.device, self.dtype)
        self.config = model.cfg
        self.source = source or {}
        self._uncond: dict[int, torch.Tensor] = {}
        self._schedules: dict[tuple, DDIMSchedule] = {}

    @classmethod
    def from_pretrained(cls, checkpoint: str | os.PathLike, config: str | os.PathLike | None = None,
                        device: torch.device | str | None = None, dtype: torch.dtype | None = None):
        """Load an official `model.ckpt` or a converted `.safetensors` (read straight onto a CUDA device);
        `config` is a built-in name or a YAML path (default: the built-in config the checkpoint's keys and
        shapes point to, see `builtin_for_checkpoint`)."""
        target = torch.device(device) if device is not None else default_device()
        state = read_state_dict(checkpoint, target if target.type == "cuda" else "cpu")
        name, evidence = builtin_for_checkpoint(state)
        cfg = load_config(config if config is not None else name)
        if config is None and cfg.family != cls.family:
            raise CheckpointError(f"{checkpoint}: a {cfg.family} checkpoint ({evidence}): load it with "
                                  f"{PIPELINES[cfg.family][1]}, or pass config= to say which model it is")
        model = load_weights(cfg, state, str(checkpoint))
        return cls(model, target, dtype, {"checkpoint": str(Path(checkpoint).resolve()), "config": cfg.name})

    # -- components -------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def unet(self) -> torch.nn.Module:
        return self.model.unet

    @property
    def vae(self) -> torch.nn.Module:
        return self.model.first_stage_model

    @property
    def size_multiple(self) -> int:
        """Video height and width must be multiples of this (autoencoder factor x UNet downsampling)."""
        return self.config.size_multiple

    def describe(self) -> dict[str, Any]:
        """What metadata.json records about the loaded model: source, config, kind, device, dtype, size."""
        return {**self.source, "config": self.config.name, "kind": self.kind, "device": str(self.device),
                "dtype": str(self.dtype).removeprefix("torch."),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    # -- conditioning -----------------------------------------------------------------------------

    @torch.inference_mode()
    def encode_prompt(self, prompts: str | list[str]) -> torch.Tensor:
        """(B, 77, context_dim) text embeddings (penultimate CLIP layer); a string is one prompt."""
        return self.model.encode_prompt(prompt_list(prompts))

    def prepare_image(self, image: Image.Image | torch.Tensor, height: int, width: int) -> torch.Tensor:
        """A PIL image (any mode) -> (1, 3, H, W) in [-1, 1] by the family's official loader; a tensor is taken
        as already in [-1, 1], (B, 3, H, W) or (3, H, W)."""
        if isinstance(image, torch.Tensor):
            if image.dim() not in (3, 4) or image.shape[-3] != 3 or not image.is_floating_point():
                raise InvalidArgumentError("an image tensor must be float RGB in [-1, 1], (3, H, W) or (B, 3, H, W); "
                                           f"got {tuple(image.shape)} {image.dtype}")
            x = image if image.dim() == 4 else image[None]
            return x.to(self.device, torch.float32)
        if not isinstance(image, Image.Image):
            raise TypeError(f"image must be a PIL image or a tensor, got {type(image).__name__}")
        return self.load_image(image, height, width).to(self.device)

    @torch.inference_mode()
    def encode_image(self, image: Image.Image | torch.Tensor, height: int | None = None,
                     width: int | None = None) -> torch.Tensor:
        """(B, tokens, context_dim) image embeddings (CLIP image tokens through the Resampler)."""
        if self.kind != "i2v":
            raise InvalidArgumentError("this is a text-to-video checkpoint: it has no image encoder")
        h, w = (height, width) if height and width else self.config.default_size
        return self.model.encode_image(self.prepare_image(image, h, w))

    def _unconditional(self, batch: int) -> torch.Tensor:
        """Empty-prompt text embedding (+ the embedding of the zero image, mid-grey after CLIP
        normalisation, for i2v): the unconditional branch of guidance; computed once per batch size."""
        if batch not in self._uncond:
            uncond = self.encode_prompt([""] * batch)
            if self.kind == "i2v":
                zeros = torch.zeros(batch, 3, CLIP_SIZE, CLIP_SIZE, device=self.device)
                uncond = torch.cat([uncond, self.encode_image(zeros)], dim=1)
            self._uncond[batch] = uncond
        return self._uncond[batch]

    def schedule(self, num_inference_steps: int, eta: float, timestep_spacing: str = "uniform") -> DDIMSchedule:
        """The DDIM schedule for these settings, computed once per pipeline."""
        key = (num_inference_steps, float(eta), timestep_spacing)
        if key not in self._schedules:
            self._schedules[key] = make_schedule(dict(self.model.named_buffers(recurse=False)), num_inference_steps,
                                                 eta, spacing=timestep_spacing, rescale=self.config.diffusion.rescale)
        return self._schedules[key]

    def _unet_fn(self, concat: torch.Tensor | None = None) -> Callable[..., torch.Tensor]:
        """The UNet on float32 latents; with `concat` (hybrid conditioning) its input is [x, concat]."""
        def call(x: torch.Tensor, t: torch.Tensor, context: torch.Tensor, fps: torch.Tensor) -> torch.Tensor:
            if concat is not None:
                x = torch.cat([x, concat], dim=1)
            return self.unet(x.to(self.dtype), t, context.to(self.dtype), fps)
        return call

    # -- sampling ---------------------------------------------------------------------------------

    def check_size(self, height: int, width: int) -> None:
        """Refuse a video size the model cannot take, suggesting the nearest one it can."""
        if not (is_whole(height) and is_whole(width)):
            raise InvalidArgumentError(f"height and width must be whole numbers of pixels; got {height!r}x{width!r}")
        m = self.size_multiple
        if height <= 0 or width <= 0 or height % m or width % m:
            f = self.config.vae.downsample_factor
            raise InvalidArgumentError(
                f"height and width must be positive multiples of {m} for this model (the autoencoder downsamples by "
                f"{f} and the UNet by {m // f}); got {height}x{width}. "
                f"Try {max(m, round(height / m) * m)}x{max(m, round(width / m) * m)}.")

    def check_settings(self, **values: Any) -> None:
        """Refuse sampler arguments ({name: value}) that cannot work, naming every one and the values allowed;
        with num_frames, height and width, also a video beyond the size limit."""
        problems = argument_problems({k: v for k, v in values.items() if k not in ("height", "width")},
                                     max_steps=self.model.alphas_cumprod.numel() - 1)
        if {"num_frames", "height", "width"} <= set(values):
            too_big = video_size_problem(values["num_frames"], values["height"], values["width"],
                                         ("num_frames", "height", "width"))
            problems += [too_big] if too_big else []
        if problems:
            raise InvalidArgumentError("; ".join(problems))

    def _check_output(self, output_type: str, prompt: str | list[str]) -> list[str]:
        """The prompts, once output_type is known to fit them."""
        if output_type not in OUTPUT_TYPES:
            raise InvalidArgumentError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        prompts = prompt_list(prompt)
        if output_type == "video" and len(prompts) != 1:
            raise InvalidArgumentError(f"output_type='video' returns one Video; got {len(prompts)} prompts: call once "
                                       "per prompt, or use output_type='pt' or 'latent' for a batch")
        return prompts

    def _first_frame(self, image: Image.Image | torch.Tensor | None, batch: int, height: int,
                     width: int) -> torch.Tensor | None:
        """The image batch that conditions `batch` prompts (None for t2v), checked against the model's kind."""
        if self.kind != "i2v":
            if image is not None:
                raise InvalidArgumentError("this is a text-to-video checkpoint: it sees the prompt only; pass image=None")
            return None
        if image is None:
            raise InvalidArgumentError("this image-to-video model needs a first frame (image=...)")
        img = self.prepare_image(image, height, width)
        if img.shape[0] not in (1, batch):
            raise InvalidArgumentError(f"{img.shape[0]} images for {batch} prompts; give one image for all prompts "
                                       "or one per prompt")
        return img.expand(batch, -1, -1, -1)

    def _generators(self, seed: int | None, generator: torch.Generator | None
                    ) -> tuple[torch.Generator, torch.Generator]:
        """(CPU, device) generators, both seeded with `seed` (a random one when None) as the official scripts'
        torch.manual_seed seeds the global ones: x_T and the step noise come from the device's, DynamiCrafter's
        posterior draws from the CPU's (the official sampler draws them on the CPU). A given `generator` is both."""
        if generator is not None and seed is not None:
            raise InvalidArgumentError("pass seed or generator, not both")
        if generator is not None:
            return generator, generator
        seed = seed if seed is not None else random.randrange(2**63)
        on_device = torch.Generator(self.device).manual_seed(seed)
        return (on_device if self.device.type == "cpu" else torch.Generator().manual_seed(seed)), on_device

    def _initial_latents(self, latents: torch.Tensor | None, shape: tuple[int, ...],
                         generator: torch.Generator) -> torch.Tensor:
        """x_T: the given latents on the pipeline's device, else drawn from `generator`."""
        if latents is None:
            return torch.randn(shape, generator=generator, device=self.device)
        if not (isinstance(latents, torch.Tensor) and latents.is_floating_point() and tuple(latents.shape) == shape):
            got = (f"{tuple(latents.shape)} {latents.dtype}" if isinstance(latents, torch.Tensor)
                   else f"a {type(latents).__name__}")
            f = self.config.vae.downsample_factor
            raise InvalidArgumentError(f"latents must be a floating-point tensor of shape {shape} (batch, channels, "
                                       f"frames, height/{f}, width/{f}); got {got}")
        return latents.to(self.device)

    def latent_shape(self, batch: int, frames: int, height: int, width: int) -> tuple[int, int, int, int, int]:
        """The shape of x_T (batch, channels, frames, height / f, width / f)."""
        f = self.config.vae.downsample_factor
        return batch, self.config.unet.out_channels, frames, height // f, width // f

    def _sample(self, cond: torch.Tensor, latents: torch.Tensor, generator: torch.Generator, schedule: DDIMSchedule,
                *, guidance_scale: float, fps: int, guidance_rescale: float = 0.0, concat: torch.Tensor | None = None,
                callback: Callable[[dict], None] | None = None, progress: bool = True) -> torch.Tensor:
        """DDIM from x_T = `latents` with classifier-free guidance against the unconditional context; the step
        noise comes from `generator`."""
        uncond = self._unconditional(cond.shape[0]) if guidance_scale != 1.0 else None
        fps_t = torch.full((1,), int(fps), device=self.device, dtype=torch.long)
        model = guided(self._unet_fn(concat), cond, uncond, guidance_scale, guidance_rescale, fps=fps_t)
        noise = lambda x: torch.randn(x.shape, generator=generator, device=x.device)  # noqa: E731
        return sample_ddim(model, latents, schedule, noise=noise, callback=callback, disable=not progress)

    def _output(self, latents: torch.Tensor, output_type: str, decode_chunk: int, fps: float) -> Video | torch.Tensor:
        """The sampled latents as asked: themselves, the decoded (B, 3, T, H, W) tensor, or one Video."""
        if output_type == "latent":
            return latents
        video = self.model.decode(latents, chunk=decode_chunk).float()
        return video if output_type == "pt" else to_video(video[0], fps)


class VideoCrafterPipeline(LVDMPipeline):
    """A loaded VideoCrafter model (i2v or t2v); `__call__` samples a video for an image and a prompt."""

    family = "videocrafter"
    load_image = staticmethod(resize_bilinear)

    @torch.inference_mode()
    def __call__(self, image: Image.Image | torch.Tensor | None, prompt: str | list[str], *,
                 num_inference_steps: int = 50, guidance_scale: float = 12.0, eta: float = 1.0, fps: int = 8,
                 height: int = 320, width: int = 512, num_frames: int | None = None,
                 generator: torch.Generator | None = None, seed: int | None = None,
                 latents: torch.Tensor | None = None, output_type: str = "video", progress: bool = True,
                 decode_chunk: int = 4, callback: Callable[[dict], None] | None = None) -> Video | torch.Tensor:
        """Sample a video. Every argument is checked before any work (ValueError or TypeError naming it).
        `callback` gets {i, t, x, pred_x0, eps} after every DDIM step."""
        prompts = self._check_output(output_type, prompt)
        self.check_size(height, width)
        frames = self.config.unet.temporal_length if num_frames is None else num_frames
        self.check_settings(num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, eta=eta,
                            fps=fps, num_frames=frames, decode_chunk=decode_chunk, height=height, width=width)
        _, generator = self._generators(seed, generator)
        img = self._first_frame(image, len(prompts), height, width)
        latents = self._initial_latents(latents, self.latent_shape(len(prompts), frames, height, width), generator)
        cond = self.encode_prompt(prompts)
        if img is not None:
            cond = torch.cat([cond, self.model.encode_image(img)], dim=1)
        out = self._sample(cond, latents, generator, self.schedule(num_inference_steps, float(eta)),
                           guidance_scale=guidance_scale, fps=fps, callback=callback, progress=progress)
        return self._output(out, output_type, decode_chunk, fps)
