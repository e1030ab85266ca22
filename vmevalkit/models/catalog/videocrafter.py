"""VideoCrafter: the official image-to-video and text-to-video checkpoints, and the untrained toy model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel
from vmevalkit.weights import WeightsSpec


def build_videocrafter(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                       weights: Path | None) -> VideoModel:
    """The builder of VideoCrafter checkpoints: use it in your own spec to register, e.g., a fine-tuned
    checkpoint (`weights=WeightsSpec(repo, file, config=<built-in config name or YAML path>)`)."""
    from vmevalkit.models.videocrafter_backend import VideoCrafterModel

    assert spec.weights is not None and weights is not None
    return VideoCrafterModel.from_checkpoint(spec.id, weights, settings, config=spec.weights.config,
                                             device=device, dtype=dtype)


def _build_videocrafter_tiny(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                             weights: Path | None) -> VideoModel:
    from vmevalkit.models.videocrafter_backend import VideoCrafterModel

    return VideoCrafterModel.tiny(spec.id, settings, device=device, dtype=dtype)


def _sampler_validator(model_id: str, official: bool) -> Callable[[dict], None]:
    """Checks VideoCrafter settings before any work (sizes: the official configs' multiple; the tiny model's
    sizes are checked by its pipeline when it is built, in a second)."""
    def validate(settings: dict) -> None:
        from vmevalkit.models.videocrafter_backend import OFFICIAL_SIZE_MULTIPLE, check_settings

        check_settings(model_id, settings, OFFICIAL_SIZE_MULTIPLE if official else 1)

    return validate


_VIDEOCRAFTER_DEFAULTS = {"steps": 50, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 16,
                          "height": 320, "width": 512}

register_model(ModelSpec(
    id="videocrafter2-512", family="videocrafter", kind="i2v", note="image-to-video (historical id)",
    description="VideoCrafter image-to-video at 320x512 (official i2v_512 v1.0 config and checkpoint). "
                "The id is historical, kept for VMEvalKit users: VideoCrafter2 itself is text-to-video "
                "(see videocrafter2-t2v-512); this is VideoCrafter's image-to-video model.",
    build=build_videocrafter, defaults=_VIDEOCRAFTER_DEFAULTS,
    validate=_sampler_validator("videocrafter2-512", official=True),
    weights=WeightsSpec("VideoCrafter/Image2Video-512", "model.ckpt", config="i2v_512_v1.0",
                        alt_repo_ids=("VideoCrafter/Image2Video-512-v1.0",))))
register_model(ModelSpec(
    id="videocrafter2-t2v-512", family="videocrafter", kind="t2v", note="text-to-video",
    description="VideoCrafter2 text-to-video at 320x512 (official t2v_512 v2.0 config); it sees the prompt "
                "only, never the first frame.",
    build=build_videocrafter, defaults={**_VIDEOCRAFTER_DEFAULTS, "fps": 28},
    validate=_sampler_validator("videocrafter2-t2v-512", official=True),
    weights=WeightsSpec("VideoCrafter/VideoCrafter2", "model.ckpt", config="t2v_512_v2.0")))
register_model(ModelSpec(
    id="videocrafter-tiny", family="videocrafter", kind="i2v", untrained=True,
    description="UNTRAINED: the VideoCrafter image-to-video architecture at toy size with random weights "
                "from a fixed seed, built on the fly. Runs the real pipeline on any CPU in seconds; "
                "its videos are noise. A smoke test, not a model to rank.",
    build=_build_videocrafter_tiny, validate=_sampler_validator("videocrafter-tiny", official=False),
    defaults={"steps": 5, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 8, "height": 40, "width": 64}))
