"""The controls `static` (lower bound) and `oracle` (upper bound), which run beside every model."""

from __future__ import annotations

from pathlib import Path

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel

_CONTROL_DEFAULTS = {"frames": 16, "fps": 8}


def _build_static(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                  weights: Path | None) -> VideoModel:
    from vmevalkit.models.baselines import StaticBaseline

    return StaticBaseline(**settings)


def _build_oracle(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                  weights: Path | None) -> VideoModel:
    from vmevalkit.models.baselines import OracleBaseline

    return OracleBaseline(**settings)


def _validate_static(settings: dict) -> None:
    from vmevalkit.models.baselines import StaticBaseline

    StaticBaseline(**settings)


def _validate_oracle(settings: dict) -> None:
    from vmevalkit.models.baselines import OracleBaseline

    OracleBaseline(**settings)


register_model(ModelSpec(
    id="static", family="control", kind="control", note="control: lower bound",
    description="Control, the lower bound: holds the first frame for the whole video (exactly what the older "
                "kit's broken VideoCrafter wrapper produced).",
    build=_build_static, defaults=_CONTROL_DEFAULTS, validate=_validate_static))
register_model(ModelSpec(
    id="oracle", family="control", kind="control", note="control: upper bound",
    description="Control, the upper bound: shows the solution (the question's ground_truth.mp4, else a "
                "cross-fade from the first to the final frame).",
    build=_build_oracle, defaults=_CONTROL_DEFAULTS, validate=_validate_oracle))
