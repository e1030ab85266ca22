"""Hosted video models: the ids, their providers' model names, default settings and what each setting may be;
and the id prefixes `fal:<endpoint>` and `openai-video:<base_url>#<model>`. The code is in vmevalkit.models.api
(imported when a model is built or its settings are checked); see docs/hosted.md."""

from __future__ import annotations

import importlib
import re
import urllib.parse
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.models import ModelSpec, register_model, register_resolver
from vmevalkit.models.api.operational import OPERATIONAL_DEFAULTS, operational_problems
from vmevalkit.models.api.prices import estimate
from vmevalkit.models.base import VideoModel

_VEO_ASPECTS = ("16:9", "9:16")
_KLING = {"mode": ("std", "pro"), "duration": (5, 10), "aspect_ratio": ("16:9", "9:16", "1:1")}
_RUNWAY_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_LUMA_ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
_SEEDANCE = {"resolution": ("480p", "720p", "1080p"), "duration": tuple(range(2, 13)),
             "aspect_ratio": ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")}
_SORA_SIZES = ("1280x720", "720x1280")
_SORA_PRO_SIZES = ("1280x720", "720x1280", "1792x1024", "1024x1792")
# Settings that change how a request is delivered, not what comes back: like the operational ones, they are not
# part of the result key (changing them reuses finished items).
HOW_IT_IS_SENT = ("uploader", "send_key")


def _build(module: str, cls: str, provider_model: str, options: Mapping[str, Any], spec: ModelSpec,
           settings: dict, device: str, dtype: str | None, weights: Path | None) -> VideoModel:
    model_class = getattr(importlib.import_module(f"vmevalkit.models.api.{module}"), cls)
    return model_class(spec.id, provider_model, settings, **options)


def _validate(model_id: str, allowed: Mapping[str, tuple], settings: dict[str, Any]) -> None:
    problems = operational_problems(settings)
    for key, values in allowed.items():
        if settings.get(key) not in values:
            problems.append(f"{key} must be one of {', '.join(map(str, values))} (got {settings.get(key)!r})")
    if problems:
        raise UserError(f"{model_id}: " + "; ".join(problems) + "; change it with --set key=value")
    if settings.get("uploader"):  # checked (and its password registered as a secret) before any work
        from vmevalkit.models.api.media import make_uploader

        make_uploader(settings["uploader"])


def _hosted(id: str, provider: str, module: str, cls: str, provider_model: str, defaults: dict[str, Any],
            allowed: Mapping[str, tuple], description: str, env_vars: tuple[str, ...], note: str = "",
            options: Mapping[str, Any] | None = None, reference: str | None = None,
            price: Callable[[dict], float | None] | None = None) -> ModelSpec:
    return ModelSpec(
        id=id, family=provider, kind="i2v", description=description, note=note or f"hosted: {provider}",
        build=partial(_build, module, cls, provider_model, dict(options or {})),
        defaults={**defaults, **OPERATIONAL_DEFAULTS}, validate=partial(_validate, id, allowed), env_vars=env_vars,
        reference=reference, price=price or partial(estimate, id), remote=True,
        runtime_settings=tuple(k for k in (*OPERATIONAL_DEFAULTS, *HOW_IT_IS_SENT) if k in {**defaults,
                                                                                        **OPERATIONAL_DEFAULTS}))


def _register(*args: Any, **kwargs: Any) -> None:
    register_model(_hosted(*args, **kwargs))


# --- Google Veo, Gemini API -------------------------------------------------------------------------------------
for _id, _name, _durations in [
    ("veo-2.0-generate", "veo-2.0-generate-001", (5, 6, 7, 8)),
    ("veo-3.0-generate", "veo-3.0-generate-001", (4, 6, 8)),
    ("veo-3.0-fast-generate", "veo-3.0-fast-generate-001", (4, 6, 8)),
    ("veo-3.1-generate", "veo-3.1-generate-preview", (4, 6, 8)),
    ("veo-3.1-fast-generate", "veo-3.1-fast-generate-preview", (4, 6, 8)),
]:
    _resolutions = ("720p",) if _id.startswith("veo-2") else ("720p", "1080p")
    _register(_id, "gemini", "gemini", "VeoModel", _name,
              {"aspect_ratio": "16:9", "resolution": "720p", "duration": 8, "negative_prompt": ""},
              {"aspect_ratio": _VEO_ASPECTS, "resolution": _resolutions, "duration": _durations},
              f"Google {_name} through the Gemini API (long-running operation); sees the first frame and the "
              "prompt. Veo 3 makes sound too; the kit keeps the frames.", ("GEMINI_API_KEY",),
              note="hosted: Google Veo (Gemini API)")

# --- Kling ------------------------------------------------------------------------------------------------------
for _id, _mode in [("kling-v2-6", "std"), ("kling-v2-5-turbo", "std"), ("kling-v2-1-master", "pro"),
                   ("kling-v1-6", "std")]:
    _register(_id, "kling", "kling", "KlingModel", _id,
              {"mode": _mode, "duration": 5, "aspect_ratio": "16:9", "negative_prompt": "",
               **({"cfg_scale": 0.5} if _id.startswith("kling-v1") else {})}, _KLING,
              f"Kling {_id} image-to-video (JWT from the access and secret keys); std mode makes 720p, pro 1080p.",
              ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"), note="hosted: Kling")

# --- Runway -----------------------------------------------------------------------------------------------------
for _id, _name in [("runway-gen45", "gen4.5"), ("runway-gen4-turbo", "gen4_turbo")]:
    _register(_id, "runway", "runway", "RunwayModel", _name, {"ratio": "1280:720", "duration": 5},
              {"ratio": _RUNWAY_RATIOS, "duration": tuple(range(2, 11))},
              f"Runway {_name} image_to_video task; the first frame is sent at the output ratio.",
              ("RUNWAYML_API_SECRET",), note="hosted: Runway")

# --- Luma -------------------------------------------------------------------------------------------------------
_register("luma-ray-2", "luma", "luma", "DreamMachineModel", "ray-2",
          {"aspect_ratio": "16:9", "resolution": "720p", "duration": 5, "uploader": ""},
          {"aspect_ratio": _LUMA_ASPECTS, "resolution": ("540p", "720p", "1080p", "4k"), "duration": (5, 9)},
          "Luma Ray 2 (Dream Machine API). Its keyframe is an image URL: the kit sends a data URI, or puts the "
          "frame at a public URL first with --set uploader=put:https://host/folder/ (docs/hosted.md).",
          ("LUMAAI_API_KEY",), note="hosted: Luma")
_register("luma-ray-3.2", "luma", "luma", "AgentsModel", "ray-3.2",
          {"aspect_ratio": "16:9", "resolution": "720p", "duration": 5},
          {"aspect_ratio": ("9:16", "3:4", "1:1", "4:3", "16:9", "21:9"), "resolution": ("540p", "720p", "1080p"),
           "duration": (5, 10)},
          "Luma Ray 3.2 (Luma Agents API; put the Agents API key in LUMAAI_API_KEY); the first frame goes inline.",
          ("LUMAAI_API_KEY",), note="hosted: Luma")

# --- fal: Seedance, and fal:<endpoint> -----------------------------------------------------------------------------
for _id, _endpoint, _resolution in [("seedance-v1-pro", "fal-ai/bytedance/seedance/v1/pro/image-to-video", "1080p"),
                                    ("seedance-v1-lite", "fal-ai/bytedance/seedance/v1/lite/image-to-video", "720p")]:
    _register(_id, "fal", "fal", "FalModel", _endpoint,
              {"resolution": _resolution, "duration": 5, "aspect_ratio": "16:9", "camera_fixed": False}, _SEEDANCE,
              f"ByteDance Seedance 1.0 {_id.split('-')[-1]} on fal ({_endpoint}), queue protocol.", ("FAL_KEY",),
              note="hosted: fal")

_FOLDER_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def _folder_id(prefix: str, text: str) -> str:
    return (prefix + "-" + _FOLDER_UNSAFE.sub("-", text.lower()).strip("-._"))[:120].rstrip("-._")


def resolve_fal(endpoint: str) -> ModelSpec:
    """`fal:<endpoint>`: any fal queue endpoint that turns an image and a prompt into a video."""
    endpoint = endpoint.strip("/")
    if endpoint.count("/") < 1 or any(part in ("", ".", "..") for part in endpoint.split("/")):
        raise UserError(f"--models fal:{endpoint}: give a fal endpoint id such as fal-ai/<model>/image-to-video")
    model_id = _folder_id("fal", endpoint)
    return _hosted(model_id, "fal", "fal", "FalModel", endpoint, {"image_field": "image_url", "input": "{}"}, {},
                   f"fal endpoint {endpoint} (queue protocol); the first frame goes as a data URI in image_field, "
                   "the prompt as prompt, the seed as seed, --set input='{...}' adds the endpoint's own inputs.",
                   ("FAL_KEY",), reference=f"fal:{endpoint}", note="hosted: fal endpoint")


# --- WaveSpeed --------------------------------------------------------------------------------------------------
for _id, _name, _defaults, _seed in [
    ("wavespeed-wan-2.2-i2v-480p", "wavespeed-ai/wan-2.2/i2v-480p", {"duration": 5, "width": 832, "height": 480,
                                                                     "negative_prompt": ""}, True),
    ("wavespeed-wan-2.2-i2v-720p", "wavespeed-ai/wan-2.2/i2v-720p", {"duration": 5, "width": 1280, "height": 720,
                                                                     "negative_prompt": ""}, True),
    ("sora-2-wavespeed", "openai/sora-2/image-to-video", {"duration": 4, "width": 1280, "height": 720}, False),
    ("veo-3.1-wavespeed", "google/veo3.1/image-to-video", {"duration": 8, "width": 1280, "height": 720}, False),
]:
    _allowed = {"duration": (4, 8, 12)} if "sora" in _id else {"duration": (4, 6, 8)} if "veo" in _id else {
        "duration": (5, 8)}
    _register(_id, "wavespeed", "wavespeed", "WaveSpeedModel", _name, _defaults, _allowed,
              f"{_name} on WaveSpeedAI; the first frame is uploaded to WaveSpeed's media store, then referenced.",
              ("WAVESPEED_API_KEY",), options={"takes_seed": _seed}, note="hosted: WaveSpeed")

# --- OpenAI Videos API, and openai-video:<base_url>#<model> ---------------------------------------------------------
for _id, _name, _sizes in [("openai-sora-2", "sora-2", _SORA_SIZES), ("openai-sora-2-pro", "sora-2-pro", _SORA_PRO_SIZES)]:
    _register(_id, "openai", "openai_video", "OpenAIVideoModel", _name, {"size": "1280x720", "duration": 4},
              {"size": _sizes, "duration": (4, 8, 12)},
              f"OpenAI {_name} through the Videos API. OpenAI retired the Sora API on 2026-09-24; the id stays for "
              "servers that still serve it (VMEVALKIT_OPENAI_BASE_URL).", ("OPENAI_API_KEY",),
              note="hosted: OpenAI (API retired 2026-09-24)")


def resolve_openai_video(target: str) -> ModelSpec:
    """`openai-video:<base_url>#<model>`: any server speaking the OpenAI Videos API (POST <base_url>/videos)."""
    base_url, sep, model = target.partition("#")
    parts = urllib.parse.urlsplit(base_url)
    if not sep or not model or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--models openai-video:{target}: write it as openai-video:<base_url>#<model>, e.g. "
                        "openai-video:http://127.0.0.1:8000/v1#my-model")
    model_id = _folder_id("openai-video", f"{parts.hostname}-{parts.port or ''}-{parts.path}-{model}")
    return _hosted(model_id, "openai-video", "openai_video", "OpenAICompatibleVideoModel", model,
                   {"size": "1280x720", "duration": 4, "send_key": False}, {},
                   f"{model} on {base_url}, a server speaking the OpenAI Videos API; OPENAI_API_KEY is sent only "
                   "with --set send_key=true.", (), options={"base_url": base_url.rstrip("/")},
                   reference=f"openai-video:{target}", note="hosted: OpenAI Videos API server")


register_resolver("fal", resolve_fal, "a fal endpoint id, e.g. fal-ai/bytedance/seedance/v1/pro/image-to-video")
register_resolver("openai-video", resolve_openai_video, "<base_url>#<model> of a server speaking the OpenAI Videos API")
