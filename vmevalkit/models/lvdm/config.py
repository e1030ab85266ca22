"""LVDM model configs, VideoCrafter's and DynamiCrafter's: the official inference YAML format, read as it is.

`load_config` accepts a built-in name (BUILTIN: our copies of the official files' values) or a path to
any YAML in the official format. The family is the official code base the YAML is written for:
DynamiCrafter's `LatentVisualDiffusion` takes `img_cond_stage_config` and `image_proj_stage_config`,
VideoCrafter's takes `cond_img_config`; its text-to-video `LatentDiffusion` is VideoCrafter's.

A key the YAML leaves out takes the default of the official class that reads it (in that family's
repository), exactly as instantiating the official model would; an option the engine does not
implement, or a key no official class takes, is refused with the key and the values allowed.
Keys that only matter for training (losses, EMA, learning rates, checkpointing) are accepted and unused.
Two optional top-level keys describe non-standard encoders (the tiny test models use them):
`open_clip_model_config: {name, config}` (an open_clip model config for the `arch` named by the
encoders; default: open_clip's own config of that arch, ViT-H-14) and, for VideoCrafter, whose
official code hard-codes the image projector's widths, `image_proj_dims: {input_dim, cross_attention_dim, dim}`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import open_clip
import yaml

from vmevalkit.errors import UserError
from vmevalkit.models.lvdm.autoencoder import AutoencoderConfig
from vmevalkit.models.lvdm.encoders import ResamplerConfig
from vmevalkit.models.lvdm.unet import UNetConfig

CONFIG_DIR = Path(__file__).parent / "configs"
BUILTIN = {name: CONFIG_DIR / f"{name}.yaml" for name in (
    "i2v_512_v1.0", "t2v_512_v2.0", "dynamicrafter_256_v1.0", "dynamicrafter_512_v1.0", "dynamicrafter_1024_v1.0")}
MODEL_CLASSES = {"lvdm.models.ddpm3d.LatentVisualDiffusion": "i2v", "lvdm.models.ddpm3d.LatentDiffusion": "t2v"}
FAMILIES = ("videocrafter", "dynamicrafter")
REQUIRED = object()  # a class argument without a default
INPUT_CONV = "model.diffusion_model.input_blocks.0.0.weight"  # its input channels: 4, or 8 with hybrid conditioning

# model.params: DDPM and LatentDiffusion (the same in both repositories), then each family's own options.
_MODEL = {
    "unet_config": REQUIRED, "first_stage_config": REQUIRED, "cond_stage_config": REQUIRED,
    "timesteps": 1000, "beta_schedule": "linear", "linear_start": 1e-4, "linear_end": 2e-2, "given_betas": None,
    "parameterization": "eps", "conditioning_key": None, "scale_factor": 1.0, "scale_by_std": False,
    "uncond_type": "empty_seq", "image_size": 256, "cond_stage_forward": None, "encoder_type": "2d",
}
_FAMILY_MODEL = {
    "videocrafter": {"use_scale": False, "scale_a": 1.0, "scale_b": 0.3, "mid_step": 400, "fix_scale_bug": False},
    "dynamicrafter": {"rescale_betas_zero_snr": False, "use_dynamic_rescale": False, "base_scale": 0.7,
                      "turning_step": 400, "perframe_ae": False, "fps_condition_type": "fs"},
}
_IMAGE_MODEL = {"videocrafter": {"cond_img_config": REQUIRED, "finegrained": False},
                "dynamicrafter": {"img_cond_stage_config": REQUIRED, "image_proj_stage_config": REQUIRED}}
_MODEL_TRAINING = frozenset({
    "loss_type", "ckpt_path", "ignore_keys", "load_only_unet", "monitor", "use_ema", "first_stage_key", "log_every_t",
    "clip_denoised", "cosine_s", "original_elbo_weight", "v_posterior", "l_simple_weight", "scheduler_config",
    "use_positional_encodings", "learn_logvar", "logvar_init", "num_timesteps_cond", "cond_stage_key",
    "cond_stage_trainable", "uncond_prob", "only_model", "channels", "random_cond", "noise_strength", "interp_mode",
    "logdir", "rand_cond_frame", "en_and_decode_n_samples_a_time", "freeze_embedder", "image_proj_model_trainable"})
_MODEL_CHOICES = {
    "beta_schedule": ("linear",), "given_betas": (None,), "parameterization": ("eps", "v"),
    "conditioning_key": (None, "crossattn", "hybrid"), "scale_by_std": (False,), "uncond_type": ("empty_seq",),
    "cond_stage_forward": (None,), "encoder_type": ("2d",), "finegrained": (True,), "fps_condition_type": ("fs", "fps")}

# unet_config.params: openaimodel3d.UNetModel.
_UNET = {
    "in_channels": REQUIRED, "model_channels": REQUIRED, "out_channels": REQUIRED, "num_res_blocks": REQUIRED,
    "attention_resolutions": REQUIRED, "channel_mult": (1, 2, 4, 8), "conv_resample": True, "dims": 2,
    "context_dim": None, "use_scale_shift_norm": False, "resblock_updown": False, "num_heads": -1,
    "num_head_channels": -1, "transformer_depth": 1, "use_linear": False, "temporal_conv": False,
    "tempspatial_aware": False, "temporal_attention": True, "temporal_selfatt_only": True,
    "use_relative_position": True, "use_causal_attention": False, "temporal_length": None, "use_fp16": False,
    "addition_attention": False,
}
_FAMILY_UNET = {
    "videocrafter": {"use_image_attention": False, "temporal_transformer_depth": 1, "fps_cond": False},
    "dynamicrafter": {"image_cross_attention": False, "image_cross_attention_scale_learnable": False,
                      "default_fs": 4, "fs_condition": False},
}
_UNET_CHOICES = {
    "conv_resample": (True,), "dims": (2,), "use_scale_shift_norm": (False,), "resblock_updown": (False,),
    "num_heads": (-1,), "use_linear": (True,), "tempspatial_aware": (False,), "temporal_selfatt_only": (True,),
    "use_relative_position": (False,), "use_causal_attention": (False,), "use_fp16": (False,),
    "temporal_transformer_depth": (1,)}
VIDEOCRAFTER_DEFAULT_FPS = 16  # VideoCrafter's UNetModel.forward(fps=16); DynamiCrafter's takes default_fs

# first_stage_config: AutoencoderKL and its ddconfig (the Encoder / Decoder arguments).
_AUTOENCODER = {"ddconfig": REQUIRED, "embed_dim": REQUIRED}
_AUTOENCODER_TRAINING = frozenset({"lossconfig", "ckpt_path", "ignore_keys", "image_key", "colorize_nlabels",
                                   "monitor", "test", "logdir", "input_dim", "test_args"})
_DDCONFIG = {"ch": REQUIRED, "out_ch": REQUIRED, "ch_mult": (1, 2, 4, 8), "num_res_blocks": REQUIRED,
             "attn_resolutions": REQUIRED, "resamp_with_conv": True, "in_channels": REQUIRED, "resolution": REQUIRED,
             "z_channels": REQUIRED, "double_z": True, "use_linear_attn": False, "attn_type": "vanilla",
             "give_pre_end": False, "tanh_out": False}
_DDCONFIG_CHOICES = {"attn_resolutions": ([],), "resamp_with_conv": (True,), "double_z": (True,),
                     "use_linear_attn": (False,), "attn_type": ("vanilla",), "give_pre_end": (False,),
                     "tanh_out": (False,)}

# The encoders: FrozenOpenCLIPEmbedder, FrozenOpenCLIPImageEmbedderV2, and DynamiCrafter's Resampler.
TEXT_ENCODER = "lvdm.modules.encoders.condition.FrozenOpenCLIPEmbedder"
IMAGE_ENCODER = "lvdm.modules.encoders.condition.FrozenOpenCLIPImageEmbedderV2"
RESAMPLER = "lvdm.modules.encoders.resampler.Resampler"
_TEXT = {"arch": "ViT-H-14", "max_length": 77, "layer": "last"}
_IMAGE = {"arch": "ViT-H-14", "layer": "pooled", "antialias": True}
_ENCODER_UNUSED = frozenset({"version", "device", "freeze"})  # pretrained download, device, freezing
_TEXT_CHOICES = {"max_length": (77,), "layer": ("last", "penultimate")}
_IMAGE_CHOICES = {"layer": ("pooled", "last"), "antialias": (True,)}  # "penultimate" raises in the official code
_RESAMPLER = {"dim": 1024, "depth": 8, "dim_head": 64, "heads": 16, "num_queries": 8, "embedding_dim": 768,
              "output_dim": 1024, "ff_mult": 4, "video_length": None}


@dataclass(frozen=True)
class DiffusionConfig:
    """The diffusion schedule and how DDIM reads the model's output. `rescale` is None, "use_scale"
    (VideoCrafter: x0 / scale_t, then x_prev from scale_prev * x0) or "dynamic" (DynamiCrafter's
    use_dynamic_rescale: x0 * scale_prev / scale_t); both use scale_a -> scale_b over mid_step timesteps."""

    timesteps: int = 1000
    linear_start: float = 1e-4
    linear_end: float = 2e-2
    scale_factor: float = 1.0
    parameterization: str = "eps"  # "eps" or "v"
    zero_snr: bool = False  # rescale_betas_zero_snr
    rescale: str | None = None
    scale_a: float = 1.0
    scale_b: float = 0.3
    mid_step: int = 400
    fix_scale_bug: bool = False


@dataclass(frozen=True)
class LVDMConfig:
    name: str
    family: str  # "videocrafter" or "dynamicrafter"
    kind: str  # "i2v" (text + image conditioning) or "t2v" (text only)
    unet: UNetConfig
    vae: AutoencoderConfig
    diffusion: DiffusionConfig
    text_clip: dict[str, Any]  # open_clip model config of the text encoder
    text_skip_last: int  # 1 = the official "penultimate" layer
    image_clip: dict[str, Any] | None
    resampler: ResamplerConfig | None
    latent_size: tuple[int, int]  # (h, w) of the training latents; video size = latent_size * vae factor
    hybrid: bool = False  # conditioning_key "hybrid": the first frame's latent is concatenated to the noisy one
    perframe_ae: bool = False  # the VAE encodes one frame per call (decides the posterior noise draws)

    @property
    def default_size(self) -> tuple[int, int]:
        """(height, width) of the videos the model was trained on."""
        f = self.vae.downsample_factor
        return self.latent_size[0] * f, self.latent_size[1] * f

    @property
    def size_multiple(self) -> int:
        """Video height and width must be multiples of this (autoencoder factor x UNet downsampling)."""
        return self.vae.downsample_factor * 2 ** (len(self.unet.channel_mult) - 1)


def _section(raw: Any, defaults: dict[str, Any], where: str, unused: frozenset = frozenset(),
             choices: dict[str, tuple] | None = None) -> dict[str, Any]:
    """The params of one official class: the YAML's values over the class's defaults. A required key that is
    missing, a key the class does not take, or a value the engine does not implement is a UserError."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping of options, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(defaults) - unused)
    if unknown:
        raise UserError(f"{where}.{unknown[0]}: not an option of the official class"
                        f"{' (nor ' + ', '.join(unknown[1:]) + ')' if unknown[1:] else ''}; remove it")
    params = {**defaults, **{k: v for k, v in raw.items() if k in defaults}}
    missing = [k for k, v in params.items() if v is REQUIRED]
    if missing:
        raise UserError(f"{where}: missing {', '.join(missing)} (the official class has no default for it)")
    for key, allowed in (choices or {}).items():
        if key in params and params[key] not in allowed:
            origin = "" if key in raw else " (the official default when the key is absent)"
            raise UserError(f"{where}.{key}={params[key]!r}{origin} is not implemented by this engine; "
                            f"it takes {' or '.join(map(repr, allowed))}")
    return params


def _target(node: Any, expected: str, where: str) -> Any:
    """The params of a `{target, params}` node whose target must be `expected`."""
    if not isinstance(node, dict) or node.get("target") != expected:
        target = node.get("target") if isinstance(node, dict) else node
        raise UserError(f"{where}.target {target!r} is not supported; expected {expected}")
    return node.get("params")


def _clip_config(arch: str, extra: dict | None, where: str) -> dict[str, Any]:
    if extra and extra.get("name") == arch:
        return dict(extra["config"])
    cfg = open_clip.get_model_config(arch)
    if cfg is None:
        raise UserError(f"{where}: unknown open_clip architecture {arch!r}; describe it under "
                        "a top-level `open_clip_model_config: {name, config}`")
    return dict(cfg)


def _family(target: str, params: dict) -> str:
    return "dynamicrafter" if target.endswith("LatentVisualDiffusion") and "img_cond_stage_config" in params \
        else "videocrafter"


def _unet_config(raw: Any, family: str, where: str) -> UNetConfig:
    p = _section(raw, {**_UNET, **_FAMILY_UNET[family]}, where, frozenset({"dropout", "use_checkpoint"}),
                 _UNET_CHOICES)
    if p["num_head_channels"] in (None, -1) or p["context_dim"] is None:
        raise UserError(f"{where}: num_head_channels and context_dim must be set (the engine builds "
                        "cross-attention with a fixed head width)")
    dc = family == "dynamicrafter"
    return UNetConfig(
        in_channels=p["in_channels"], out_channels=p["out_channels"], model_channels=p["model_channels"],
        attention_resolutions=tuple(p["attention_resolutions"]), num_res_blocks=p["num_res_blocks"],
        channel_mult=tuple(p["channel_mult"]), num_head_channels=p["num_head_channels"],
        transformer_depth=p["transformer_depth"], context_dim=p["context_dim"], temporal_conv=p["temporal_conv"],
        temporal_attention=p["temporal_attention"], addition_attention=p["addition_attention"],
        use_image_attention=p["image_cross_attention" if dc else "use_image_attention"],
        image_attention_scale_learnable=dc and p["image_cross_attention_scale_learnable"],
        fps_cond=p["fs_condition" if dc else "fps_cond"],
        default_fs=p["default_fs"] if dc else VIDEOCRAFTER_DEFAULT_FPS,
        temporal_length=p["temporal_length"] or 16)


def _vae_config(raw: Any, where: str) -> AutoencoderConfig:
    p = _section(raw, _AUTOENCODER, where, _AUTOENCODER_TRAINING)
    dd = _section(p["ddconfig"], _DDCONFIG, f"{where}.ddconfig", frozenset({"dropout"}), _DDCONFIG_CHOICES)
    return AutoencoderConfig(ch=dd["ch"], ch_mult=tuple(dd["ch_mult"]), num_res_blocks=dd["num_res_blocks"],
                             z_channels=dd["z_channels"], embed_dim=p["embed_dim"], in_channels=dd["in_channels"],
                             out_ch=dd["out_ch"])


def _diffusion_config(p: dict, family: str) -> DiffusionConfig:
    common = dict(timesteps=p["timesteps"], linear_start=p["linear_start"], linear_end=p["linear_end"],
                  scale_factor=p["scale_factor"], parameterization=p["parameterization"])
    if family == "dynamicrafter":
        return DiffusionConfig(**common, zero_snr=p["rescale_betas_zero_snr"],
                               rescale="dynamic" if p["use_dynamic_rescale"] else None, scale_a=1.0,
                               scale_b=p["base_scale"], mid_step=p["turning_step"])
    return DiffusionConfig(**common, rescale="use_scale" if p["use_scale"] else None, scale_a=p["scale_a"],
                           scale_b=p["scale_b"], mid_step=p["mid_step"], fix_scale_bug=p["fix_scale_bug"])


def _resampler_config(raw: dict, params: dict, family: str, name: str) -> ResamplerConfig:
    if family == "videocrafter":  # the official code hard-codes the widths; the tiny configs give their own
        return ResamplerConfig(**(raw.get("image_proj_dims") or {}))
    where = f"{name}: model.params.image_proj_stage_config"
    r = _section(_target(params["image_proj_stage_config"], RESAMPLER, where), _RESAMPLER, f"{where}.params")
    return ResamplerConfig(input_dim=r["dim"], cross_attention_dim=r["output_dim"], dim=r["embedding_dim"],
                           num_queries=r["num_queries"], depth=r["depth"], dim_head=r["dim_head"], heads=r["heads"],
                           ff_mult=r["ff_mult"], video_length=r["video_length"])


def parse_config(raw: dict, name: str) -> LVDMConfig:
    """Turn an official-format config dict into an LVDMConfig, with clear errors on what is unsupported."""
    try:
        target, params = raw["model"]["target"], raw["model"]["params"]
        params["unet_config"]["params"]  # noqa: B018  (its absence is the error below)
    except (KeyError, TypeError) as e:
        raise UserError(f"{name}: not a VideoCrafter config (nor a DynamiCrafter one) in the official format "
                        f"(missing {e})") from e
    if target not in MODEL_CLASSES:
        raise UserError(f"{name}: model.target {target!r} is not supported; expected one of {sorted(MODEL_CLASSES)}")
    kind, family = MODEL_CLASSES[target], _family(target, params)
    image_model = _IMAGE_MODEL[family] if kind == "i2v" else {}
    p = _section(params, {**_MODEL, **_FAMILY_MODEL[family], **image_model}, f"{name}: model.params",
                 _MODEL_TRAINING, _MODEL_CHOICES)
    unet = _unet_config(_target(p["unet_config"], "lvdm.modules.networks.openaimodel3d.UNetModel",
                                f"{name}: unet_config"), family, f"{name}: unet_config.params")
    hybrid = p["conditioning_key"] == "hybrid"
    if unet.in_channels != unet.out_channels * (2 if hybrid else 1):
        raise UserError(f"{name}: unet_config.params.in_channels={unet.in_channels} does not fit conditioning_key "
                        f"{p['conditioning_key']!r} (expected {unet.out_channels * (2 if hybrid else 1)}: the noisy "
                        "latent" + (" and the first frame's latent)" if hybrid else ")"))
    vae = _vae_config(_target(p["first_stage_config"], "lvdm.models.autoencoder.AutoencoderKL",
                              f"{name}: first_stage_config"), f"{name}: first_stage_config.params")
    text = _section(_target(p["cond_stage_config"], TEXT_ENCODER, f"{name}: cond_stage_config"), _TEXT,
                    f"{name}: cond_stage_config.params", _ENCODER_UNUSED, _TEXT_CHOICES)
    extra_clip = raw.get("open_clip_model_config")
    image_clip = resampler = None
    if kind == "i2v":
        key = "img_cond_stage_config" if family == "dynamicrafter" else "cond_img_config"
        img = _section(_target(p[key], IMAGE_ENCODER, f"{name}: {key}"), _IMAGE, f"{name}: {key}.params",
                       _ENCODER_UNUSED, _IMAGE_CHOICES)
        image_clip = _clip_config(img["arch"], extra_clip, name)
        resampler = _resampler_config(raw, p, family, name)
    image_size = p["image_size"]
    return LVDMConfig(
        name=name, family=family, kind=kind, unet=unet, vae=vae, diffusion=_diffusion_config(p, family),
        text_clip=_clip_config(text["arch"], extra_clip, name), text_skip_last=int(text["layer"] == "penultimate"),
        image_clip=image_clip, resampler=resampler,
        latent_size=(image_size, image_size) if isinstance(image_size, int) else tuple(image_size),
        hybrid=hybrid, perframe_ae=family == "dynamicrafter" and bool(p["perframe_ae"]))


def load_config(config: str | os.PathLike) -> LVDMConfig:
    """A built-in config name or the path of an official-format YAML file."""
    path = BUILTIN.get(str(config), Path(config))
    if not path.is_file():
        raise UserError(f"config {config}: not found; use one of {', '.join(BUILTIN)} or a path to a YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise UserError(f"{path}: invalid YAML ({e})") from e
    if not isinstance(raw, dict):
        raise UserError(f"{path}: not a VideoCrafter config (nor a DynamiCrafter one): the file holds no mapping")
    return parse_config(raw, str(config) if str(config) in BUILTIN else str(path))


def builtin_for_checkpoint(state: Mapping[str, Any]) -> tuple[str, str]:
    """The built-in config that fits a checkpoint ({key: tensor}) and the evidence, decided by its keys and
    shapes: text-to-video without an image projector; VideoCrafter i2v when the UNet's input conv takes the
    noisy latent only (4 channels); DynamiCrafter (8: with the first frame's latent) 256 when its image
    cross-attention has learnable scales (`attn2.alpha`). DynamiCrafter 512 and 1024 have the same keys and
    shapes: their `scale_arr` buffer (dynamic rescale) ends at their configs' base_scale, 0.7 for 512 and 0.3
    for 1024, which decides. Pass the config to say otherwise."""
    if not any(k.startswith("image_proj_model.") for k in state):
        return "t2v_512_v2.0", "no image_proj_model.* keys: text-to-video"
    conv = state.get(INPUT_CONV)
    channels = None if conv is None else conv.shape[1]
    if channels != 8:
        return "i2v_512_v1.0", f"{INPUT_CONV} takes {channels} input channels: the noisy latent only"
    hybrid = f"{INPUT_CONV} takes 8 input channels: the noisy latent and the first frame's latent"
    if any(k.endswith(".attn2.alpha") for k in state):
        return "dynamicrafter_256_v1.0", f"{hybrid}; learnable image-attention scales (*.attn2.alpha)"
    scale = state.get("scale_arr")
    last = None if scale is None else float(scale[-1])
    if last is not None and abs(last - 0.3) < 1e-6:
        return "dynamicrafter_1024_v1.0", f"{hybrid}; scale_arr ends at 0.3 (the 1024 model's base_scale)"
    ends = "no scale_arr" if last is None else f"scale_arr ends at {last:.3g}"
    return "dynamicrafter_512_v1.0", f"{hybrid}; {ends} (the 512 model's base_scale is 0.7)"
