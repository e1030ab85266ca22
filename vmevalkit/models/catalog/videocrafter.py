"""VideoCrafter: the official image-to-video and text-to-video checkpoints, and the untrained toy model."""

from __future__ import annotations

from pathlib import Path

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel
from vmevalkit.models.lvdm.backend import (
    OFFICIAL_SIZE_MULTIPLE,
    build_lvdm,
    check_settings,
    settings_validator,
)
from vmevalkit.weights import WeightsSpec


def _build_videocrafter_tiny(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                             weights: Path | None) -> VideoModel:
    from vmevalkit.models.lvdm.backend import LVDMModel

    return LVDMModel.tiny(spec.id, settings, device=device, dtype=dtype)


def _check_tiny_settings(settings: dict) -> None:
    """The tiny model's settings, its sizes checked against the toy config's multiple (before any model runs)."""
    from vmevalkit.models.lvdm.config import load_config
    from vmevalkit.models.lvdm.tiny import TINY_CONFIG

    check_settings("videocrafter-tiny", settings, load_config(TINY_CONFIG).size_multiple)


_VIDEOCRAFTER_DEFAULTS = {"steps": 50, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 16,
                          "height": 320, "width": 512}

register_model(ModelSpec(
    id="videocrafter2-512", family="videocrafter", kind="i2v", note="image-to-video (historical id)",
    description="VideoCrafter image-to-video at 320x512 (official i2v_512 v1.0 config and checkpoint). "
                "The id is historical, kept for VMEvalKit users: VideoCrafter2 itself is text-to-video "
                "(see videocrafter2-t2v-512); this is VideoCrafter's image-to-video model.",
    build=build_lvdm, defaults=_VIDEOCRAFTER_DEFAULTS,
    validate=settings_validator("videocrafter2-512", OFFICIAL_SIZE_MULTIPLE),
    weights=WeightsSpec("VideoCrafter/Image2Video-512", "model.ckpt", config="i2v_512_v1.0",
                        alt_repo_ids=("VideoCrafter/Image2Video-512-v1.0",))))
register_model(ModelSpec(
    id="videocrafter2-t2v-512", family="videocrafter", kind="t2v", note="text-to-video",
    description="VideoCrafter2 text-to-video at 320x512 (official t2v_512 v2.0 config); it sees the prompt "
                "only, never the first frame.",
    build=build_lvdm, defaults={**_VIDEOCRAFTER_DEFAULTS, "fps": 28},
    validate=settings_validator("videocrafter2-t2v-512", OFFICIAL_SIZE_MULTIPLE),
    weights=WeightsSpec("VideoCrafter/VideoCrafter2", "model.ckpt", config="t2v_512_v2.0")))
register_model(ModelSpec(
    id="videocrafter-tiny", family="videocrafter", kind="i2v", untrained=True,
    description="UNTRAINED: the VideoCrafter image-to-video architecture at toy size with random weights "
                "from a fixed seed, built on the fly. Runs the real pipeline on any CPU in seconds; "
                "its videos are noise. A smoke test, not a model to rank.",
    build=_build_videocrafter_tiny, validate=_check_tiny_settings,
    defaults={"steps": 5, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 8, "height": 40, "width": 64}))
