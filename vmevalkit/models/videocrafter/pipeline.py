"""VideoCrafterPipeline: load once, call many times (the diffusers convention).

    pipe = VideoCrafterPipeline.from_pretrained("model.ckpt")            # config chosen from the keys
    video = pipe(image, "a red ball bouncing", seed=0)                   # -> vmevalkit.video.Video
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vmevalkit.errors import InvalidArgumentError
from vmevalkit.images import to_rgb
from vmevalkit.models.videocrafter.arguments import argument_problems, is_whole
from vmevalkit.models.videocrafter.checkpoint import check_keys, read_state_dict
from vmevalkit.models.videocrafter.config import VideoCrafterConfig, builtin_for_keys, load_config
from vmevalkit.models.videocrafter.encoders import CLIP_SIZE
from vmevalkit.models.videocrafter.latent_diffusion import DERIVED_BUFFERS, LatentVideoDiffusion
from vmevalkit.models.videocrafter.sampling import DDIMSchedule, guided, make_schedule, sample_ddim
from vmevalkit.models.videocrafter.unet import conv_weights_channels_last
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


def default_dtype(device: torch.device) -> torch.dtype:
    """float16 on CUDA, float32 elsewhere."""
    return torch.float16 if device.type == "cuda" else torch.float32


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


def load_weights(cfg: VideoCrafterConfig, state_dict: dict[str, torch.Tensor], source: str) -> LatentVideoDiffusion:
    """Build the model on the meta device (no random init) and assign the checkpoint's tensors, strictly."""
    with torch.device("meta"):
        model = LatentVideoDiffusion(cfg)
    state = {k: v for k, v in state_dict.items() if k not in DERIVED_BUFFERS}
    check_keys({k: v.shape for k, v in model.state_dict().items()}, state, source, cfg.name)
    model.load_state_dict(state, strict=True, assign=True)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"tensors left uninitialised after loading {source}: {left[:5]}")
    return model


def to_video(video: torch.Tensor, fps: float) -> Video:
    """(3, T, H, W) in [-1, 1] -> Video of uint8 frames (values outside [-1, 1] are clipped)."""
    pixels = ((video.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return Video(pixels.permute(1, 2, 3, 0).cpu().numpy(), float(fps))


class VideoCrafterPipeline:
    """Owns a loaded VideoCrafter model; `__call__` samples a video for an image and a prompt."""

    def __init__(self, model: LatentVideoDiffusion, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, source: dict[str, Any] | None = None):
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating-point torch.dtype such as torch.float16, got {dtype!r}")
        self.device = torch.device(device) if device is not None else default_device()
        self.dtype = dtype or default_dtype(self.device)
        _drop_unused(model)
        self.model = _place(model, self.device, self.dtype)
        self.config = model.cfg
        self.source = source or {}
        self._uncond: dict[int, torch.Tensor] = {}
        self._schedules: dict[tuple[int, float], DDIMSchedule] = {}

    @classmethod
    def from_pretrained(cls, checkpoint: str | os.PathLike, config: str | os.PathLike | None = None,
                        device: torch.device | str | None = None, dtype: torch.dtype | None = None
                        ) -> "VideoCrafterPipeline":
        """Load an official `model.ckpt` or a converted `.safetensors`; `config` is a built-in name or a
        YAML path (default: i2v_512_v1.0 when the checkpoint has an image projector, else t2v_512_v2.0)."""
        state = read_state_dict(checkpoint)
        cfg = load_config(config if config is not None else builtin_for_keys(state))
        model = load_weights(cfg, state, str(checkpoint))
        return cls(model, device, dtype, {"checkpoint": str(Path(checkpoint).resolve()), "config": cfg.name})

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
        return self.config.vae.downsample_factor * 2 ** (len(self.config.unet.channel_mult) - 1)

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
        """A PIL image (any mode) -> (1, 3, H, W) in [-1, 1], resized bilinearly without antialiasing as the
        official loader does; a tensor is taken as already in [-1, 1], (B, 3, H, W) or (3, H, W)."""
        if isinstance(image, torch.Tensor):
            if image.dim() not in (3, 4) or image.shape[-3] != 3 or not image.is_floating_point():
                raise InvalidArgumentError("an image tensor must be float RGB in [-1, 1], (3, H, W) or (B, 3, H, W); "
                                           f"got {tuple(image.shape)} {image.dtype}")
            x = image if image.dim() == 4 else image[None]
            return x.to(self.device, torch.float32)
        if not isinstance(image, Image.Image):
            raise TypeError(f"image must be a PIL image or a tensor, got {type(image).__name__}")
        x = torch.from_numpy(np.asarray(to_rgb(image), dtype=np.float32)).permute(2, 0, 1)[None]
        if x.shape[-2:] != (height, width):
            x = F.interpolate(x, (height, width), mode="bilinear", align_corners=False, antialias=False)
        return (x / 255.0 * 2.0 - 1.0).to(self.device)

    @torch.inference_mode()
    def encode_image(self, image: Image.Image | torch.Tensor, height: int | None = None,
                     width: int | None = None) -> torch.Tensor:
        """(B, 16, context_dim) image embeddings (CLIP image tokens through the Resampler)."""
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

    def schedule(self, num_inference_steps: int, eta: float) -> DDIMSchedule:
        """The DDIM schedule for these settings, computed once per pipeline."""
        key = (num_inference_steps, float(eta))
        if key not in self._schedules:
            self._schedules[key] = make_schedule(self.model.alphas_cumprod, num_inference_steps, eta,
                                                 getattr(self.model, "scale_arr", None))
        return self._schedules[key]

    def _unet_fn(self) -> Callable[..., torch.Tensor]:
        def call(x: torch.Tensor, t: torch.Tensor, context: torch.Tensor, fps: torch.Tensor) -> torch.Tensor:
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

    def check_settings(self, num_inference_steps: int, guidance_scale: float, eta: float, fps: float,
                       num_frames: int, decode_chunk: int) -> None:
        """Refuse sampler settings that cannot work, naming every one and the values allowed."""
        problems = argument_problems(
            {"num_inference_steps": num_inference_steps, "guidance_scale": guidance_scale, "eta": eta, "fps": fps,
             "num_frames": num_frames, "decode_chunk": decode_chunk}, max_steps=self.model.alphas_cumprod.numel() - 1)
        if problems:
            raise InvalidArgumentError("; ".join(problems))

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

    @torch.inference_mode()
    def __call__(self, image: Image.Image | torch.Tensor | None, prompt: str | list[str], *,
                 num_inference_steps: int = 50, guidance_scale: float = 12.0, eta: float = 1.0, fps: int = 8,
                 height: int = 320, width: int = 512, num_frames: int | None = None,
                 generator: torch.Generator | None = None, seed: int | None = None,
                 latents: torch.Tensor | None = None, output_type: str = "video", progress: bool = True,
                 decode_chunk: int = 4, callback: Callable[[dict], None] | None = None) -> Video | torch.Tensor:
        """Sample a video. Every argument is checked before any work (ValueError or TypeError naming it).
        `callback` gets {i, t, x, pred_x0, eps} after every DDIM step."""
        if output_type not in OUTPUT_TYPES:
            raise InvalidArgumentError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        prompts = prompt_list(prompt)
        batch = len(prompts)
        if output_type == "video" and batch != 1:
            raise InvalidArgumentError(f"output_type='video' returns one Video; got {batch} prompts: call once per "
                                       "prompt, or use output_type='pt' or 'latent' for a batch")
        self.check_size(height, width)
        frames = self.config.unet.temporal_length if num_frames is None else num_frames
        self.check_settings(num_inference_steps, guidance_scale, eta, fps, frames, decode_chunk)
        if generator is not None and seed is not None:
            raise InvalidArgumentError("pass seed or generator, not both")
        img = self._first_frame(image, batch, height, width)
        f = self.config.vae.downsample_factor
        shape = (batch, self.config.unet.in_channels, frames, height // f, width // f)
        if generator is None:
            generator = torch.Generator(self.device).manual_seed(seed if seed is not None else random.randrange(2**63))
        latents = self._initial_latents(latents, shape, generator)

        cond = self.encode_prompt(prompts)
        if img is not None:
            cond = torch.cat([cond, self.model.encode_image(img)], dim=1)
        uncond = self._unconditional(batch) if guidance_scale != 1.0 else None
        fps_t = torch.full((1,), int(fps), device=self.device, dtype=torch.long)
        eps = guided(self._unet_fn(), cond, uncond, guidance_scale, fps=fps_t)
        noise = lambda x: torch.randn(x.shape, generator=generator, device=x.device)  # noqa: E731
        out = sample_ddim(eps, latents, self.schedule(num_inference_steps, float(eta)),
                          noise=noise, callback=callback, disable=not progress)
        if output_type == "latent":
            return out
        video = self.model.decode(out, chunk=decode_chunk).float()
        if output_type == "pt":
            return video
        return to_video(video[0], fps)
