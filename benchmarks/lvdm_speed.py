"""Speed and memory of the LVDM engine (VideoCrafter, DynamiCrafter), with random weights (nothing is downloaded).

    python benchmarks/lvdm_speed.py --preset small                                   # VideoCrafter i2v, CPU
    python benchmarks/lvdm_speed.py --model dynamicrafter-512 --preset small         # DynamiCrafter 512, CPU
    python benchmarks/lvdm_speed.py --model dynamicrafter-1024 --preset full --device cuda --dtype fp16 --steps 50

Models: `videocrafter` (the official i2v 512 architecture) and `dynamicrafter-256/-512/-1024` (the official
DynamiCrafter configs). Presets: `full` is the model's official architecture (UNet 320 channels, ViT-H-14
CLIP); `small` keeps its official layout (channel_mult 1,2,4,4, two res blocks, attention at 4,2,1, 16
frames) with model_channels 32 (attention head width 8 by default, `--head-channels`: four heads over the
2560 pixels of each frame at the first level for 320x512), the autoencoder's official layout at width 32,
and the tiny CLIP of the test fixtures (DynamiCrafter's Resampler keeps 16 tokens per frame); `tiny` is
videocrafter-tiny. Sizes default to the model's official video size (VideoCrafter: 16x320x512).
Prints one table row: load time (random weights, or --via-checkpoint: saved to .safetensors and loaded
the way a user loads a checkpoint), seconds per guided DDIM step, total time, peak memory."""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from vmevalkit.models.lvdm import pipeline_class
from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.random_weights import random_model
from vmevalkit.models.lvdm.tiny import TINY_CONFIG

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
MODELS = {"videocrafter": "i2v_512_v1.0", "dynamicrafter-256": "dynamicrafter_256_v1.0",
          "dynamicrafter-512": "dynamicrafter_512_v1.0", "dynamicrafter-1024": "dynamicrafter_1024_v1.0"}


def preset_config(model: str, name: str, head_channels: int = 8, frames: int = 16):
    full = load_config(MODELS[model])
    if name == "full":
        return full
    tiny = load_config(TINY_CONFIG)
    if name == "tiny":
        if model != "videocrafter":
            raise SystemExit("--preset tiny is videocrafter-tiny; use --model videocrafter")
        return tiny
    unet = replace(full.unet, model_channels=32, num_head_channels=head_channels, context_dim=tiny.unet.context_dim)
    vae = replace(full.vae, ch=32)  # the official layout (x8 downsampling) at a quarter of the width
    per_frame = frames if full.resampler.video_length else None  # DynamiCrafter: 16 image tokens per frame
    return replace(full, name="small", unet=unet, vae=vae, text_clip=tiny.text_clip, image_clip=tiny.image_clip,
                   resampler=replace(tiny.resampler, video_length=per_frame))


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=list(MODELS), default="videocrafter")
    ap.add_argument("--preset", choices=["full", "small", "tiny"], default="small")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=list(DTYPES), default=None, help="default: fp16 on CUDA, fp32 on CPU")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--guidance", type=float, default=None, help="default: the official scripts' (12 / 7.5)")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--height", type=int, default=None, help="default: the model's official video height")
    ap.add_argument("--width", type=int, default=None, help="default: the model's official video width")
    ap.add_argument("--head-channels", type=int, default=8, help="attention head width of the small preset")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--via-checkpoint", action="store_true", help="time loading from a .safetensors file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype] if args.dtype else (torch.float16 if device.type == "cuda" else torch.float32)
    cfg = preset_config(args.model, args.preset, args.head_channels, args.frames)
    height = args.height or load_config(MODELS[args.model]).default_size[0]
    width = args.width or load_config(MODELS[args.model]).default_size[1]
    family_pipeline = pipeline_class(cfg.family)

    t0 = time.perf_counter()
    model = random_model(cfg, seed=0)
    build_s = time.perf_counter() - t0
    if args.via_checkpoint:
        if args.preset != "full":
            raise SystemExit("--via-checkpoint needs --preset full (the other presets have no YAML file)")
        from safetensors.torch import save_file

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.safetensors"
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
            del model
            t0 = time.perf_counter()
            pipe = family_pipeline.from_pretrained(path, config=MODELS[args.model], device=device, dtype=dtype)
            load_s = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        pipe = family_pipeline(model, device, dtype)
        load_s = build_s + time.perf_counter() - t0
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    stamps: list[float] = []

    def step_done(_: dict) -> None:
        sync()
        stamps.append(time.perf_counter())

    image = torch.zeros(1, 3, height, width)
    official = {"fps": 8, "guidance_scale": 12.0} if cfg.family == "videocrafter" else {"guidance_scale": 7.5}
    if args.guidance is not None:
        official["guidance_scale"] = args.guidance
    sync()
    t0 = time.perf_counter()
    pipe(image, "a red ball rolls across a wooden table", num_inference_steps=args.steps, eta=1.0, height=height,
         width=width, num_frames=args.frames, seed=0, output_type="pt", progress=False, callback=step_done,
         **official)
    sync()
    total_s = time.perf_counter() - t0
    # the first step's interval also holds the prompt and image encoding: take the median of the others
    per_step = statistics.median([b - a for a, b in zip(stamps, stamps[1:])] or [stamps[0] - t0])
    preset = f"small (head {args.head_channels})" if args.preset == "small" else args.preset
    params = sum(p.numel() for p in pipe.model.parameters()) / 1e6
    print("| model | preset | device | dtype | size | steps | cfg | params (M) | load s | s/step | total s | peak GB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.model} | {preset} | {device.type} ({torch.get_num_threads()} threads) | {str(dtype)[6:]} | "
          f"{args.frames}x{height}x{width} | {args.steps} | {official['guidance_scale']:g} | {params:.1f} | "
          f"{load_s:.2f} | {per_step:.3f} | {total_s:.2f} | {peak_memory_gb(device):.2f} |")
    print(f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
