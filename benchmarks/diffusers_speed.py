"""Speed and memory of a diffusers family's denoiser at full size, from its config, with random weights.

No download: the denoiser (the part every sampling step runs) is built from the published config.json values of
the checkpoint, with random weights in the chosen dtype, on the chosen device. It prints the build (load) time,
the seconds per sampling step at the family's default resolution and frame count (batch 2 when the family uses
classifier-free guidance) and the peak memory.

    python benchmarks/diffusers_speed.py --family wan-2.1-i2v --device cuda --dtype bfloat16   # 14B, on a GPU
    python benchmarks/diffusers_speed.py --family svd --size tiny --device cpu                 # a smoke run

Families with a denoiser config here: see DENOISERS. `--size tiny` uses a toy config of the same class."""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from vmevalkit.models.diffusers_models.families import BY_NAME


@dataclass(frozen=True)
class Denoiser:
    """A denoiser class, its full and tiny configs, and how one step's inputs are shaped."""

    cls: str
    full: dict[str, Any]
    tiny: dict[str, Any]
    inputs: str  # "wan" | "svd" | "ltx": which input builder below
    latent: dict[str, int] = field(default_factory=dict)  # channels, spatial and temporal compression
    tiny_size: tuple[int, int, int] = (16, 16, 5)  # height, width, frames for --size tiny


_WAN_TINY = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
                 text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                 qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
# Wan-AI/Wan2.1-I2V-14B-*-Diffusers transformer/config.json
_WAN_14B = dict(patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
                text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)

DENOISERS: dict[str, Denoiser] = {
    "wan-2.1-i2v": Denoiser("WanTransformer3DModel", {**_WAN_14B, "image_dim": 1280, "added_kv_proj_dim": 5120},
                            {**_WAN_TINY, "image_dim": 4, "added_kv_proj_dim": 24}, "wan",
                            {"channels": 16, "spatial": 8, "temporal": 4, "image_dim": 1280, "text_dim": 4096}),
    # Wan-AI/Wan2.2-I2V-A14B-Diffusers: two such experts, one of them runs at each step
    "wan-2.2-i2v": Denoiser("WanTransformer3DModel", _WAN_14B, _WAN_TINY, "wan",
                            {"channels": 16, "spatial": 8, "temporal": 4, "text_dim": 4096}),
    # Wan-AI/Wan2.2-TI2V-5B-Diffusers transformer/config.json
    "wan-2.2-ti2v": Denoiser("WanTransformer3DModel",
                             {**_WAN_14B, "num_attention_heads": 24, "in_channels": 48, "out_channels": 48,
                              "ffn_dim": 14336, "num_layers": 30},
                             {**_WAN_TINY, "in_channels": 48, "out_channels": 48}, "wan",
                             {"channels": 48, "spatial": 16, "temporal": 4, "text_dim": 4096}, (32, 32, 5)),
    # stabilityai/stable-video-diffusion-img2vid-xt unet/config.json: the class defaults
    "svd": Denoiser("UNetSpatioTemporalConditionModel", {"num_frames": 25},
                    dict(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8,
                         out_channels=4, down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
                         up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
                         cross_attention_dim=8, num_attention_heads=2, projection_class_embeddings_input_dim=24,
                         addition_time_embed_dim=8), "svd", {"channels": 4, "spatial": 8, "temporal": 1}, (16, 16, 3)),
    # Lightricks/LTX-Video transformer/config.json (2B): the class defaults
    "ltx-i2v": Denoiser("LTXVideoTransformer3DModel", {},
                        dict(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
                             attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=32), "ltx",
                        {"channels": 128, "spatial": 32, "temporal": 8, "text_dim": 4096}, (32, 32, 9)),
}


def build(spec: Denoiser, size: str, device: str, dtype: torch.dtype) -> torch.nn.Module:
    """The denoiser with random weights, made on the meta device and materialised on `device` in `dtype`."""
    import diffusers

    with torch.device("meta"):
        model = getattr(diffusers, spec.cls)(**(spec.full if size == "full" else spec.tiny))
    model = model.to_empty(device=device).to(dtype)
    keep = getattr(model, "_keep_in_fp32_modules", None) or []  # as from_pretrained(dtype=...) keeps them
    for name, module in model.named_modules():
        if any(part in keep for part in name.split(".")):
            module.float()
    generator = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                tensor.normal_(0.0, 0.02, generator=generator)
    return model.eval()


def step_inputs(spec: Denoiser, model, size: str, height: int, width: int, frames: int, batch: int, device, dtype):
    """Random inputs of one denoiser call at a given video size."""
    config, latent = model.config, dict(spec.latent)
    if size == "tiny":
        latent.update(channels=config.get("out_channels", 4), text_dim=config.get("text_dim", 32),
                      image_dim=config.get("image_dim") or 4)
    f = (frames - 1) // latent["temporal"] + 1 if latent["temporal"] > 1 else frames
    h, w = height // latent["spatial"], width // latent["spatial"]
    rand = lambda *shape: torch.randn(*shape, device=device, dtype=dtype)  # noqa: E731
    t = torch.full((batch,), 500.0, device=device, dtype=dtype)
    if spec.inputs == "wan":
        args = {"hidden_states": rand(batch, config.in_channels, f, h, w), "timestep": t,
                "encoder_hidden_states": rand(batch, 512, latent["text_dim"]), "return_dict": False}
        if config.image_dim:
            args["encoder_hidden_states_image"] = rand(batch, 257, latent["image_dim"])
        return args
    if spec.inputs == "svd":
        return {"sample": rand(batch, frames, config.in_channels, h, w), "timestep": t,
                "encoder_hidden_states": rand(batch, 1, config.cross_attention_dim),
                "added_time_ids": rand(batch, 3), "return_dict": False}
    tokens = 128
    return {"hidden_states": rand(batch, f * h * w, config.in_channels), "timestep": t.long(),
            "encoder_hidden_states": rand(batch, tokens, config.caption_channels),
            "encoder_attention_mask": torch.ones(batch, tokens, device=device), "num_frames": f, "height": h,
            "width": w, "return_dict": False}


def peak_memory_gb(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", required=True, choices=sorted(DENOISERS))
    p.add_argument("--size", default="full", choices=["full", "tiny"])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="bfloat16", choices=["float32", "float16", "bfloat16"])
    p.add_argument("--steps", type=int, default=3, help="timed steps, after one warm-up step")
    p.add_argument("--height", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--frames", type=int)
    args = p.parse_args()
    spec, family = DENOISERS[args.family], BY_NAME[args.family]
    dtype = getattr(torch, args.dtype)
    defaults = family.defaults if args.size == "full" else dict(zip(("height", "width", "frames"), spec.tiny_size))
    height, width, frames = (args.height or defaults["height"], args.width or defaults["width"],
                             args.frames or defaults["frames"])
    batch = 2 if family.defaults["guidance"] > 1 else 1
    import diffusers  # noqa: F401 -- imported before the clock starts: the build time is the model's alone

    started = time.perf_counter()
    model = build(spec, args.size, args.device, dtype)
    load_s = time.perf_counter() - started
    params = sum(p.numel() for p in model.parameters())
    inputs = step_inputs(spec, model, args.size, height, width, frames, batch, args.device, dtype)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    with torch.inference_mode():
        model(**inputs)
        sync()
        started = time.perf_counter()
        for _ in range(args.steps):
            model(**inputs)
        sync()
    per_step = (time.perf_counter() - started) / args.steps
    print(f"{args.family} ({spec.cls}, {args.size}, {params / 1e9:.2f}B parameters, {args.dtype}, {args.device}): "
          f"{height}x{width}, {frames} frames, batch {batch}: build {load_s:.1f} s, {per_step:.3f} s/step, "
          f"peak memory {peak_memory_gb(args.device):.1f} GiB")


if __name__ == "__main__":
    main()
