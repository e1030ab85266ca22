"""Open image-to-video models through diffusers: the built-in ids and `diffusers:<hub repo id or local folder>`.

Every model here is one row of vmevalkit.models.diffusers_models.families plus its Hub repo; the defaults are
the family's (from the model card or the pipeline's documented example, cited there) unless a row below says
otherwise. Nothing here imports torch or diffusers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.models import ModelSpec, register_model, register_resolver
from vmevalkit.models.base import VideoModel
from vmevalkit.models.diffusers_models.families import BY_NAME, Family, family_for, pipeline_classes
from vmevalkit.models.diffusers_models.rules import check_settings
from vmevalkit.weights import LocalFolderSpec, SnapshotSpec, snapshot_cache, weights_revision

PREFIX = "diffusers"
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def build_diffusers(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                    weights: Path | None) -> VideoModel:
    """The builder of every diffusers model: `weights` is the snapshot folder (or the local folder)."""
    from vmevalkit.models.diffusers_models.adapter import DiffusersModel

    assert weights is not None
    snapshot = isinstance(spec.weights, SnapshotSpec)
    revision = weights.name if snapshot else weights_revision(spec.id, spec.weights)  # snapshots/<commit>/
    return DiffusersModel.load(spec.id, BY_NAME[spec.family], weights, settings, device=device, dtype=dtype,
                               reference=spec.reference or spec.id, revision=revision,
                               variant=spec.weights.variant if snapshot else None)


def _validator(model_id: str, family: Family, facts: Mapping[str, Any]) -> Callable[[dict], None]:
    return lambda settings: check_settings(model_id, family, settings, facts)


def diffusers_spec(model_id: str, family: Family, weights: SnapshotSpec | LocalFolderSpec, description: str, *,
                   overrides: Mapping[str, Any] | None = None, facts: Mapping[str, Any] | None = None,
                   reference: str | None = None) -> ModelSpec:
    """A ModelSpec for a diffusers checkpoint of `family` (the family's defaults with `overrides`)."""
    return ModelSpec(id=model_id, family=family.name, kind="i2v", description=description, build=build_diffusers,
                     defaults={**family.defaults, **(overrides or {})}, weights=weights,
                     validate=_validator(model_id, family, facts or {}), reference=reference,
                     inputs=family.sees, note=f"{family.title} (diffusers)",
                     runtime_settings=RUNTIME_SETTINGS)


# Where weights live during a call and whether the VAE decodes one video at a time: the same video either way,
# so these are left out of the result key (vae_tiling is not: tiles are blended, which changes pixels).
RUNTIME_SETTINGS = ("offload", "vae_slicing")


def _register(model_id: str, family: str, repo_id: str, what: str, variant: str | None = None,
              facts: Mapping[str, Any] | None = None, **overrides: Any) -> None:
    row = BY_NAME[family]
    note = f" {row.note[0].upper()}{row.note[1:]}." if row.note else ""
    register_model(diffusers_spec(model_id, row, SnapshotSpec(repo_id, variant=variant),
                                  f"{what} through diffusers' {row.pipeline} ({repo_id}).{note}",
                                  overrides=overrides, facts=facts))


_register("svd", "svd", "stabilityai/stable-video-diffusion-img2vid-xt", "Stable Video Diffusion XT",
          variant="fp16")  # the pipeline's doc example loads the fp16 variant
_register("cogvideox-5b-i2v", "cogvideox-i2v", "THUDM/CogVideoX-5b-I2V", "CogVideoX 5B image-to-video",
          facts={"fixed_size": [480, 720]})
# THUDM/CogVideoX1.5-5B-I2V model card: min(H, W) = 768, max up to 1360, 81 frames (5 s) at 16 fps.
_register("cogvideox1.5-5b-i2v", "cogvideox-i2v", "THUDM/CogVideoX1.5-5B-I2V", "CogVideoX 1.5 5B image-to-video",
          frames=81, fps=16, height=768, width=1360)
_register("ltx-video", "ltx-i2v", "Lightricks/LTX-Video", "LTX-Video 2B (0.9.x, the repo's diffusers root)")
_register("ltx-video-13b-distilled", "ltx-condition", "Lightricks/LTX-Video-0.9.8-13B-distilled",
          "LTX-Video 0.9.8 13B distilled, one stage at the target size")
_register("ltx-2", "ltx-2-i2v", "Lightricks/LTX-2", "LTX-2 image-to-video")
_register("wan-2.1-i2v-480p", "wan-2.1-i2v", "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", "Wan 2.1 I2V 14B at 480p")
# Wan-AI/Wan2.1-I2V-14B-720P-Diffusers: the same example at max area 720*1280.
_register("wan-2.1-i2v-720p", "wan-2.1-i2v", "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", "Wan 2.1 I2V 14B at 720p",
          height=720, width=1280)
_register("wan-2.2-i2v-a14b", "wan-2.2-i2v", "Wan-AI/Wan2.2-I2V-A14B-Diffusers", "Wan 2.2 I2V A14B (two experts)")
_register("wan-2.2-ti2v-5b", "wan-2.2-ti2v", "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "Wan 2.2 TI2V 5B")
_register("hunyuan-video-i2v", "hunyuan-video-i2v", "hunyuanvideo-community/HunyuanVideo-I2V",
          "HunyuanVideo I2V 13B")
_register("hunyuan-video-1.5-i2v", "hunyuan-video-1.5-i2v", "hunyuanvideo-community/HunyuanVideo-1.5-480p_i2v",
          "HunyuanVideo 1.5 8.3B image-to-video at 480p", facts={"bucket_size": 640})
_register("skyreels-v2-i2v-14b-720p", "skyreels-v2-i2v", "Skywork/SkyReels-V2-I2V-14B-720P-Diffusers",
          "SkyReels V2 I2V 14B 720p")
_register("sana-video-2b-480p", "sana-video-i2v", "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
          "SANA-Video 2B at 480p")
_register("cosmos-predict2-2b-video2world", "cosmos-2-video2world", "nvidia/Cosmos-Predict2-2B-Video2World",
          "Cosmos-Predict2 2B Video2World")


def _slug(name: str) -> str:
    """A safe, readable folder name: lower-case letters, digits, '.', '_' and '-'."""
    return "diffusers-" + (re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "model")


def _hub_json(repo_id: str) -> Callable[[str], dict[str, Any] | None]:
    """Reads a JSON file of a Hub repo: from the Hugging Face cache, else downloaded (a few kB)."""
    def read(path: str) -> dict[str, Any] | None:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            return json_object_or_none(Path(hf_hub_download(repo_id, path, cache_dir=snapshot_cache())))
        except EntryNotFoundError:
            return None
        except Exception as e:  # not found, offline, no access
            raise UserError(f"--models {PREFIX}:{repo_id}: could not read its {path} from the Hugging Face Hub "
                            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); check the repo id, "
                            "the network (or HF_TOKEN), or pass a local diffusers folder") from e

    return read


def resolve(reference: str) -> ModelSpec:
    """`diffusers:<hub repo id or local folder>` -> a spec of the family its model_index.json names."""
    folder = Path(reference).expanduser()
    if folder.is_dir() or reference.startswith((".", "/", "~")):
        if not (folder / "model_index.json").is_file():
            raise UserError(f"--models {PREFIX}:{reference}: {folder} is not a diffusers folder (it has no "
                            "model_index.json); pass a folder written by save_pretrained or a Hub repo id")
        folder = folder.resolve()
        read_json = lambda path: json_object_or_none(folder / path)  # noqa: E731
        weights: SnapshotSpec | LocalFolderSpec = LocalFolderSpec(folder)
        name = folder.name
    elif _HUB_ID_RE.match(reference):
        read_json, weights, name = _hub_json(reference), SnapshotSpec(reference), reference.replace("/", "--")
    else:
        raise UserError(f"--models {PREFIX}:{reference}: neither a folder nor a Hugging Face repo id (org/name)")
    index = read_json("model_index.json")
    if index is None:
        raise UserError(f"--models {PREFIX}:{reference}: its model_index.json is not a JSON object")
    family = family_for(index)
    if family is None:
        raise UserError(f"--models {PREFIX}:{reference}: its pipeline {index.get('_class_name')!r} is not one the kit "
                        f"knows; known pipelines: {', '.join(pipeline_classes())} (see docs/diffusers.md, "
                        "'Adding a family')")
    model_id = _slug(name)
    return diffusers_spec(model_id, family, weights,
                          f"{family.title} through diffusers' {family.pipeline}, from {reference}.",
                          facts=family.read_facts(read_json), reference=f"{PREFIX}:{reference}")


register_resolver(PREFIX, resolve, "hub repo id or local diffusers folder")
