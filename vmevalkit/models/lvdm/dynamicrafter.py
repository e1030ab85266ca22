"""DynamiCrafterPipeline: DynamiCrafter 256 / 512 / 1024 on the LVDM engine, loaded once and called many times.

    pipe = DynamiCrafterPipeline.from_pretrained("model.ckpt")           # 256, 512 or 1024 from the checkpoint
    video = pipe(image, "a red ball rolls to the left", seed=0)          # -> vmevalkit.video.Video

What it adds to the shared engine (pipeline.py), as the official scripts/evaluation/inference.py does it:
the image is resized and centre-cropped to the video size; the VAE encodes it and a posterior draw of its
latent is concatenated to the noisy latent of every frame (hybrid conditioning); the UNet is conditioned
on the frame stride (256) or fps (512, 1024) and sees 16 image tokens per frame. The defaults of the
arguments left None are those scripts/run.sh passes for the variant."""

from __future__ import annotations

from typing import Any, Callable

import torch
from PIL import Image

from vmevalkit.errors import InvalidArgumentError
from vmevalkit.models.lvdm.config import LVDMConfig
from vmevalkit.models.lvdm.image_input import resize_and_center_crop
from vmevalkit.models.lvdm.pipeline import LVDMPipeline
from vmevalkit.video import Video

SAVED_FPS = 8  # the official inference script writes every video at 8 fps, whatever the conditioning


def run_defaults(cfg: LVDMConfig) -> dict[str, Any]:
    """What the official scripts/run.sh passes for a variant: the config's default_fs as the frame stride
    (256: 3) or fps (512: 24, 1024: 10), and for the zero-SNR models (512, 1024) 'uniform_trailing'
    timesteps with guidance rescale 0.7, else 'uniform' without."""
    zero_snr = cfg.diffusion.zero_snr
    return {"frame_stride": cfg.unet.default_fs, "timestep_spacing": "uniform_trailing" if zero_snr else "uniform",
            "guidance_rescale": 0.7 if zero_snr else 0.0}


class DynamiCrafterPipeline(LVDMPipeline):
    """A loaded DynamiCrafter model; `__call__` animates a first frame following a prompt."""

    family = "dynamicrafter"
    load_image = staticmethod(resize_and_center_crop)

    def posterior_noise(self, batch: int, frames: int, height: int, width: int,
                        generator: torch.Generator | None = None) -> torch.Tensor:
        """(batch, 4, h, w): the standard normals of the first frame's latent, drawn as the official code
        draws them for all `frames` (identical) frames of the conditioning video: one (batch * frames, 4, h, w)
        draw, or with perframe_ae one (1, 4, h, w) draw per frame. Only the first frame's are used."""
        f = self.config.vae.downsample_factor
        draws, rows = (batch * frames, 1) if self.config.perframe_ae else (1, batch * frames)
        device = generator.device if generator is not None else torch.device("cpu")
        shape = (rows, self.config.vae.embed_dim, height // f, width // f)
        noise = torch.cat([torch.randn(shape, generator=generator, device=device) for _ in range(draws)])
        return noise.view(batch, frames, *shape[1:])[:, 0].to(self.device)

    @torch.inference_mode()
    def encode_first_frame(self, image: Image.Image | torch.Tensor, num_frames: int | None = None, *,
                           height: int | None = None, width: int | None = None,
                           generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 4, T, h, w): the latent concatenated to the noisy one, the first frame's posterior draw repeated
        over the T frames (noise from `generator`, else torch's global generator)."""
        h, w = (height, width) if height and width else self.config.default_size
        frames = num_frames or self.config.unet.temporal_length
        img = self.prepare_image(image, h, w)
        if img.shape[-2:] != (h, w):
            raise InvalidArgumentError(f"an image tensor must have the video size {h}x{w} (the autoencoder encodes "
                                       f"it); got {img.shape[-2]}x{img.shape[-1]}")
        z = self.model.encode_latent(img, self.posterior_noise(img.shape[0], frames, h, w, generator))
        return z[:, :, None].expand(-1, -1, frames, -1, -1)

    @torch.inference_mode()
    def __call__(self, image: Image.Image | torch.Tensor, prompt: str | list[str], *,
                 num_inference_steps: int = 50, guidance_scale: float = 7.5, eta: float = 1.0,
                 frame_stride: int | None = None, timestep_spacing: str | None = None,
                 guidance_rescale: float | None = None, num_frames: int | None = None, height: int | None = None,
                 width: int | None = None, generator: torch.Generator | None = None, seed: int | None = None,
                 latents: torch.Tensor | None = None, output_type: str = "video", progress: bool = True,
                 decode_chunk: int | None = None, callback: Callable[[dict], None] | None = None
                 ) -> Video | torch.Tensor:
        """Sample a video from a first frame and a prompt. None takes the official value: run_defaults for
        frame_stride, timestep_spacing and guidance_rescale, the config's size and temporal_length for
        height, width and num_frames, and for decode_chunk the official decode (one frame per call with
        perframe_ae, else all at once). Every argument is checked before any work (ValueError or TypeError
        naming it). `seed` reproduces the official script after torch.manual_seed(seed): the posterior draws,
        then x_T, then one noise draw per step. `callback` gets {i, t, x, pred_x0, eps} after every step."""
        prompts = self._check_output(output_type, prompt)
        default_h, default_w = self.config.default_size
        height, width = default_h if height is None else height, default_w if width is None else width
        self.check_size(height, width)
        frames = self.config.unet.temporal_length if num_frames is None else num_frames
        official = run_defaults(self.config)
        frame_stride = official["frame_stride"] if frame_stride is None else frame_stride
        timestep_spacing = official["timestep_spacing"] if timestep_spacing is None else timestep_spacing
        guidance_rescale = official["guidance_rescale"] if guidance_rescale is None else guidance_rescale
        if decode_chunk is None:
            decode_chunk = 1 if self.config.perframe_ae else frames * len(prompts)
        self.check_settings(num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, eta=eta,
                            frame_stride=frame_stride, timestep_spacing=timestep_spacing,
                            guidance_rescale=guidance_rescale, num_frames=frames, decode_chunk=decode_chunk,
                            height=height, width=width)
        on_cpu, on_device = self._generators(seed, generator)
        img = self._first_frame(image, len(prompts), height, width)
        concat = self.encode_first_frame(img, frames, height=height, width=width, generator=on_cpu)
        latents = self._initial_latents(latents, self.latent_shape(len(prompts), frames, height, width), on_device)
        cond = torch.cat([self.encode_prompt(prompts), self.model.encode_image(img)], dim=1)
        out = self._sample(cond, latents, on_device, self.schedule(num_inference_steps, float(eta), timestep_spacing),
                           guidance_scale=guidance_scale, fps=frame_stride, guidance_rescale=float(guidance_rescale),
                           concat=concat, callback=callback, progress=progress)
        return self._output(out, output_type, decode_chunk, SAVED_FPS)
