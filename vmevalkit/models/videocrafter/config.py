"""VideoCrafter model configs: the official inference YAML format, read as it is.

`load_config` accepts a built-in name (`i2v_512_v1.0`, `t2v_512_v2.0`, shipped in configs/ with
the values of the official files) or a path to any YAML in the official format. Two optional
top-level keys describe non-standard encoders (the tiny test models use them):
`open_clip_model_config: {name, config}` (an open_clip model config for the `arch` named in
cond_stage_config / cond_img_config; default: open_clip's own config of that arch, ViT-H-14) and
`image_proj_dims: {input_dim, cross_attention_dim, dim}` (default 1024 / 1024 / 1280)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import open_clip
import yaml

from vmevalkit.errors import UserError
from vmevalkit.models.videocrafter.autoencoder import AutoencoderConfig
from vmevalkit.models.videocrafter.encoders import ResamplerConfig
from vmevalkit.models.videocrafter.unet import UNetConfig

CONFIG_DIR = Path(__file__).parent / "configs"
BUILTIN = {"i2v_512_v1.0": CONFIG_DIR / "i2v_512_v1.0.yaml", "t2v_512_v2.0": CONFIG_DIR / "t2v_512_v2.0.yaml"}
MODEL_CLASSES = {"lvdm.models.ddpm3d.LatentVisualDiffusion": "i2v", "lvdm.models.ddpm3d.LatentDiffusion": "t2v"}
# Official UNet options this engine implements only at these values (all official 512 configs use them).
FIXED_UNET_OPTIONS = {"use_linear": True, "temporal_selfatt_only": True, "use_relative_position": False,
                      "use_causal_attention": False, "use_scale_shift_norm": False, "resblock_updown": False,
                      "tempspatial_aware": False, "conv_resample": True, "dims": 2, "num_heads": -1,
                      "temporal_transformer_depth": 1}


@dataclass(frozen=True)
class DiffusionConfig:
    timesteps: int = 1000
    linear_start: float = 0.00085
    linear_end: float = 0.012
    scale_factor: float = 0.18215
    use_scale: bool = True
    scale_a: float = 1.0
    scale_b: float = 0.7
    mid_step: int = 400
    fix_scale_bug: bool = False


@dataclass(frozen=True)
class VideoCrafterConfig:
    name: str
    kind: str  # "i2v" (text + image conditioning) or "t2v" (text only)
    unet: UNetConfig
    vae: AutoencoderConfig
    diffusion: DiffusionConfig
    text_clip: dict[str, Any]  # open_clip model config of the text encoder
    text_skip_last: int  # 1 = the official "penultimate" layer
    image_clip: dict[str, Any] | None
    resampler: ResamplerConfig | None
    latent_size: tuple[int, int]  # (h, w) of the training latents; video size = latent_size * vae factor

    @property
    def default_size(self) -> tuple[int, int]:
        """(height, width) of the videos the model was trained on."""
        f = self.vae.downsample_factor
        return self.latent_size[0] * f, self.latent_size[1] * f


def _pick(cls, params: dict, where: str):
    """Build dataclass `cls` from the keys of `params` it knows."""
    names = {f.name for f in fields(cls)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if k in names}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise UserError(f"{where}: {e}") from e


def _clip_config(arch: str, extra: dict | None, where: str) -> dict[str, Any]:
    if extra and extra.get("name") == arch:
        return dict(extra["config"])
    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise UserError(f"{where}: unknown open_clip architecture {arch!r}; describe it under "
                        "a top-level `open_clip_model_config: {name, config}`")
    return dict(cfg)


def parse_config(raw: dict, name: str) -> VideoCrafterConfig:
    """Turn an official-format config dict into a VideoCrafterConfig, with clear errors on what is unsupported."""
    try:
        model = raw["model"]
        target, params = model["target"], model["params"]
        unet_params = params["unet_config"]["params"]
        ddconfig = params["first_stage_config"]["params"]["ddconfig"]
        embed_dim = params["first_stage_config"]["params"]["embed_dim"]
        text_params = params["cond_stage_config"].get("params") or {}
    except (KeyError, TypeError) as e:
        raise UserError(f"{name}: not a VideoCrafter config in the official format (missing {e})") from e
    if target not in MODEL_CLASSES:
        raise UserError(f"{name}: model.target {target!r} is not supported; expected one of {sorted(MODEL_CLASSES)}")
    kind = MODEL_CLASSES[target]
    for key, value in FIXED_UNET_OPTIONS.items():
        if key in unet_params and unet_params[key] != value:
            raise UserError(f"{name}: unet_config.params.{key}={unet_params[key]!r} is not supported (only {value!r})")
    if ddconfig.get("attn_resolutions"):
        raise UserError(f"{name}: first_stage ddconfig.attn_resolutions must be empty (as in the official configs)")
    if params.get("parameterization", "eps") != "eps":
        raise UserError(f"{name}: only eps-parameterised models are supported")
    layer = text_params.get("layer", "last")
    if layer not in ("last", "penultimate"):
        raise UserError(f"{name}: cond_stage_config layer {layer!r} must be 'last' or 'penultimate'")
    extra_clip = raw.get("open_clip_model_config")
    text_clip = _clip_config(text_params.get("arch", "ViT-H-14"), extra_clip, name)
    image_clip = resampler = None
    if kind == "i2v":
        if not params.get("finegrained", False):
            raise UserError(f"{name}: only the finegrained (Resampler) image projector is supported")
        img_params = (params.get("cond_img_config") or {}).get("params") or {}
        image_clip = _clip_config(img_params.get("arch", "ViT-H-14"), extra_clip, name)
        resampler = ResamplerConfig(**(raw.get("image_proj_dims") or {}))
    vae = _pick(AutoencoderConfig, {**ddconfig, "embed_dim": embed_dim}, name)
    image_size = params.get("image_size", [40, 64])
    latent = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    return VideoCrafterConfig(
        name=name, kind=kind, unet=_pick(UNetConfig, unet_params, name), vae=vae,
        diffusion=_pick(DiffusionConfig, params, name), text_clip=text_clip,
        text_skip_last=1 if layer == "penultimate" else 0, image_clip=image_clip, resampler=resampler,
        latent_size=latent)


def load_config(config: str | os.PathLike) -> VideoCrafterConfig:
    """A built-in config name or the path of an official-format YAML file."""
    path = BUILTIN.get(str(config), Path(config))
    if not path.is_file():
        raise UserError(f"config {config}: not found; use one of {', '.join(BUILTIN)} or a path to a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise UserError(f"{path}: invalid YAML ({e})") from e
    return parse_config(raw, str(config) if str(config) in BUILTIN else str(path))


def builtin_for_keys(keys: Iterable[str]) -> str:
    """The built-in config that fits a checkpoint: i2v when it holds an image projector, else t2v."""
    return "i2v_512_v1.0" if any(k.startswith("image_proj_model.") for k in keys) else "t2v_512_v2.0"
