"""The model registry: model id → `ModelSpec` (family, kind, weights, default settings), and `load_model`.

Built in: the VideoCrafter models (real weights from the Hugging Face Hub), `videocrafter-tiny` (an
UNTRAINED toy-size model for smoke tests) and the controls `static` and `oracle`. Add your own model with
`register_model(ModelSpec(...))`; see docs/kit.md, "Adding a model"."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError, WeightsMissingError
from vmevalkit.models.base import VideoModel
from vmevalkit.weights import WeightsSpec, fetch_command, find_weights, weights_path

KINDS = ("i2v", "t2v", "control")
CONTROLS = ("static", "oracle")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

# build(spec, settings, device, dtype, weights) -> VideoModel. `settings` are the spec's defaults with the
# user's overrides applied; `device` is "cpu" or "cuda[:n]"; `dtype` is None (the model's default) or a torch
# dtype name; `weights` is the checkpoint path found on disk (None for models without weights).
Builder = Callable[["ModelSpec", dict, str, "str | None", "Path | None"], VideoModel]


@dataclass(frozen=True)
class ModelSpec:
    """Everything the kit knows about a model before loading it."""

    id: str
    family: str
    kind: str  # "i2v" | "t2v" | "control"
    description: str
    build: Builder
    defaults: Mapping[str, Any] = field(default_factory=dict)  # every setting a user may change with --set
    weights: WeightsSpec | None = None  # None: nothing to download
    untrained: bool = False  # random weights: a smoke test, not a model to rank
    validate: Callable[[dict[str, Any]], None] | None = None  # raises UserError on settings it cannot use
    note: str = ""  # a few words for tables (e.g. a control's bound)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise ValueError(f"model id {self.id!r}: use lower-case letters, digits, '.', '_' or '-'")
        if self.kind not in KINDS:
            raise ValueError(f"model {self.id}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    @property
    def label(self) -> str:
        """What tables show beside the id: UNTRAINED for random-weight models, else the note or the kind."""
        return "UNTRAINED smoke test, not a real model" if self.untrained else self.note or self.kind


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add a model to the registry (the hook for your own models). An existing id needs `replace=True`."""
    if spec.id in _REGISTRY and not replace:
        raise ValueError(f"model id {spec.id!r} is already registered; pass replace=True to override it")
    _REGISTRY[spec.id] = spec
    return spec


def list_models() -> list[ModelSpec]:
    """Every registered model, controls last."""
    return sorted(_REGISTRY.values(), key=lambda s: s.kind == "control")


def get_spec(model_id: str) -> ModelSpec:
    """The registered spec of `model_id`; an unknown id is a UserError that lists the known ones."""
    if model_id not in _REGISTRY:
        raise UserError(f"unknown model {model_id!r}; known models: {', '.join(s.id for s in list_models())} "
                        "(see `vmevalkit models`)")
    return _REGISTRY[model_id]


def weights_present(model_id: str, cache_dir: str | os.PathLike | None = None) -> bool:
    """True when the model needs no weights or its checkpoint is on disk."""
    spec = get_spec(model_id)
    return spec.weights is None or find_weights(spec.id, spec.weights, cache_dir) is not None


def check_weights(model_id: str, cache_dir: str | os.PathLike | None = None) -> None:
    """Raise WeightsMissingError, whose one line is the command that fetches them, when they are absent."""
    spec = get_spec(model_id)
    if spec.weights is not None and not weights_present(model_id, cache_dir):
        where = weights_path(spec.id, spec.weights, cache_dir)
        raise WeightsMissingError(f"{spec.id} needs its weights ({spec.weights.filename} from the Hugging Face repo "
                                  f"{spec.weights.repo_id}), not found at {where}; fetch them with: "
                                  f"{fetch_command(spec.id, cache_dir)}")


def _coerce(model_id: str, key: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        raise UserError(f"--set {key}={value}: {model_id} expects {type(default).__name__} for {key} "
                        f"(default {default!r})") from None
    return value


def resolve_settings(spec: ModelSpec, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The spec's defaults with `overrides` applied (values given as text are converted to the default's type),
    checked by the spec's `validate`, so that unusable settings stop a run before any work."""
    settings = dict(spec.defaults)
    for key, value in (overrides or {}).items():
        if key not in settings:
            valid = ", ".join(settings) or "none"
            raise UserError(f"unknown setting {key!r} for {spec.id}; valid settings: {valid}")
        settings[key] = _coerce(spec.id, key, value, settings[key])
    if spec.validate is not None:
        spec.validate(settings)
    return settings


def resolve_device(device: str = "auto") -> str:
    """The device to use: `auto` is cuda when torch sees a GPU, else cpu; cuda without a GPU is a clear error."""
    if device not in DEVICES and not device.startswith("cuda:"):
        raise UserError(f"--device {device}: choose one of {', '.join(DEVICES)}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: torch sees no CUDA GPU here; use --device cpu (or auto)")
    return device


def load_model(model_id: str, *, device: str = "auto", dtype: str | None = None,
               overrides: Mapping[str, Any] | None = None, cache_dir: str | os.PathLike | None = None) -> VideoModel:
    """Build a model once, ready for many `generate` calls. Missing weights raise WeightsMissingError first."""
    spec = get_spec(model_id)
    settings = resolve_settings(spec, overrides)
    check_weights(model_id, cache_dir)
    if dtype is not None and dtype not in DTYPES:
        raise UserError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    resolved_device = "cpu" if spec.kind == "control" else resolve_device(device)
    weights = find_weights(spec.id, spec.weights, cache_dir) if spec.weights else None
    model = spec.build(spec, settings, resolved_device, None if dtype in (None, "auto") else dtype, weights)
    model.id = spec.id
    return model


# --- built-in models ---------------------------------------------------------------------------------------

def _build_static(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                  weights: Path | None) -> VideoModel:
    from vmevalkit.models.baselines import StaticBaseline

    return StaticBaseline(**settings)


def _build_oracle(spec: ModelSpec, settings: dict, device: str, dtype: str | None,
                  weights: Path | None) -> VideoModel:
    from vmevalkit.models.baselines import OracleBaseline

    return OracleBaseline(**settings)


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


def _validate_static(settings: dict) -> None:
    from vmevalkit.models.baselines import StaticBaseline

    StaticBaseline(**settings)


def _validate_oracle(settings: dict) -> None:
    from vmevalkit.models.baselines import OracleBaseline

    OracleBaseline(**settings)


def _sampler_validator(model_id: str, official: bool) -> Callable[[dict], None]:
    """Checks VideoCrafter settings before any work (sizes: the official configs' multiple; the tiny model's
    sizes are checked by its pipeline when it is built, in a second)."""
    def validate(settings: dict) -> None:
        from vmevalkit.models.videocrafter_backend import OFFICIAL_SIZE_MULTIPLE, check_settings

        check_settings(model_id, settings, OFFICIAL_SIZE_MULTIPLE if official else 1)

    return validate


_VIDEOCRAFTER_DEFAULTS = {"steps": 50, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 16,
                          "height": 320, "width": 512}
_CONTROL_DEFAULTS = {"frames": 16, "fps": 8}

_BUILT_IN = [
    ModelSpec(
        id="videocrafter2-512", family="videocrafter", kind="i2v", note="image-to-video (historical id)",
        description="VideoCrafter image-to-video at 320x512 (official i2v_512 v1.0 config and checkpoint). "
                    "The id is historical, kept for VMEvalKit users: VideoCrafter2 itself is text-to-video "
                    "(see videocrafter2-t2v-512); this is VideoCrafter's image-to-video model.",
        build=build_videocrafter, defaults=_VIDEOCRAFTER_DEFAULTS,
        validate=_sampler_validator("videocrafter2-512", official=True),
        weights=WeightsSpec("VideoCrafter/Image2Video-512", "model.ckpt", config="i2v_512_v1.0",
                            alt_repo_ids=("VideoCrafter/Image2Video-512-v1.0",))),
    ModelSpec(
        id="videocrafter2-t2v-512", family="videocrafter", kind="t2v", note="text-to-video",
        description="VideoCrafter2 text-to-video at 320x512 (official t2v_512 v2.0 config); it sees the prompt "
                    "only, never the first frame.",
        build=build_videocrafter, defaults={**_VIDEOCRAFTER_DEFAULTS, "fps": 28},
        validate=_sampler_validator("videocrafter2-t2v-512", official=True),
        weights=WeightsSpec("VideoCrafter/VideoCrafter2", "model.ckpt", config="t2v_512_v2.0")),
    ModelSpec(
        id="videocrafter-tiny", family="videocrafter", kind="i2v", untrained=True,
        description="UNTRAINED: the VideoCrafter image-to-video architecture at toy size with random weights "
                    "from a fixed seed, built on the fly. Runs the real pipeline on any CPU in seconds; "
                    "its videos are noise. A smoke test, not a model to rank.",
        build=_build_videocrafter_tiny, validate=_sampler_validator("videocrafter-tiny", official=False),
        defaults={"steps": 5, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 8, "height": 40, "width": 64}),
    ModelSpec(
        id="static", family="control", kind="control", note="control: lower bound",
        description="Control, the lower bound: holds the first frame for the whole video (exactly what the older "
                    "kit's broken VideoCrafter wrapper produced).",
        build=_build_static, defaults=_CONTROL_DEFAULTS, validate=_validate_static),
    ModelSpec(
        id="oracle", family="control", kind="control", note="control: upper bound",
        description="Control, the upper bound: shows the solution (the question's ground_truth.mp4, else a "
                    "cross-fade from the first to the final frame).",
        build=_build_oracle, defaults=_CONTROL_DEFAULTS, validate=_validate_oracle),
]
for _spec in _BUILT_IN:
    register_model(_spec)
