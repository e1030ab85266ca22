"""The model registry: model id → `ModelSpec` (family, kind, weights, default settings), and `load_model`.

The built-in specs live in `vmevalkit.models.catalog`, one small module per family, registered when this
module is imported (the catalog modules import nothing heavy). Add your own model with `register_model(ModelSpec(...))`
(see docs/kit.md, "Adding a model"). Ids with a prefix, such as `diffusers:<repo or folder>`, are made on
demand by the resolver registered for that prefix (`register_resolver`)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError, WeightsMissingError
from vmevalkit.models.base import VideoModel
from vmevalkit.weights import AnyWeightsSpec, LocalFolderSpec, fetch_command, find_weights, weights_path
from vmevalkit.weights import weights_revision as _recorded_revision

KINDS = ("i2v", "t2v", "control")
INPUTS = ("image", "prompt")
CONTROLS = ("static", "oracle")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "float16", "bfloat16")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DEFAULT_INPUTS = {"i2v": ("image", "prompt"), "t2v": ("prompt",), "control": ("image",)}

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
    weights: AnyWeightsSpec | None = None  # None: nothing to download
    untrained: bool = False  # random weights: a smoke test, not a model to rank
    validate: Callable[[dict[str, Any]], None] | None = None  # raises UserError on settings it cannot use
    note: str = ""  # a few words for tables (e.g. a control's bound)
    reference: str | None = None  # what the user typed when it differs from the id (e.g. diffusers:org/repo)
    inputs: tuple[str, ...] | None = None  # what the model sees: "image", "prompt" (None: from the kind)
    env_vars: tuple[str, ...] = ()  # environment variables the model needs (API keys), checked before any work
    price: Callable[[dict[str, Any]], float | None] | None = None  # estimated USD per item for these settings
    gpus: float | None = None  # GPUs one loaded copy needs (Ray); None: 1 for local models on a GPU run
    remote: bool = False  # the model runs elsewhere (a hosted API): no device or GPU is needed for it
    runtime_settings: tuple[str, ...] = ()  # settings that never change the video (e.g. concurrency): kept out
    #                                         of the result key, so changing them reuses finished items

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise ValueError(f"model id {self.id!r}: use lower-case letters, digits, '.', '_' or '-'")
        if self.kind not in KINDS:
            raise ValueError(f"model {self.id}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.inputs is not None and not set(self.inputs) <= set(INPUTS):
            raise ValueError(f"model {self.id}: inputs must be among {', '.join(INPUTS)}, not {self.inputs!r}")

    @property
    def sees(self) -> tuple[str, ...]:
        """What the model is given of a question: the first frame ("image"), the prompt, or both."""
        return self.inputs if self.inputs is not None else _DEFAULT_INPUTS[self.kind]

    @property
    def label(self) -> str:
        """What tables show beside the id: UNTRAINED for random-weight models, else the note or the kind,
        and what the model does not see of a question."""
        if self.untrained:
            return "UNTRAINED smoke test, not a real model"
        text = self.note or self.kind
        if self.kind == "i2v" and "prompt" not in self.sees:
            text += "; ignores the prompt"
        return text


# A resolver turns the part after "<prefix>:" into a spec, e.g. "diffusers:org/repo" -> a diffusers model.
Resolver = Callable[[str], ModelSpec]

_REGISTRY: dict[str, ModelSpec] = {}
_RESOLVERS: dict[str, tuple[Resolver, str]] = {}


def _load_catalog() -> None:
    """Register the built-in specs: every module of vmevalkit.models.catalog (run once, at import)."""
    from vmevalkit.models import catalog

    for info in pkgutil.iter_modules(catalog.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{catalog.__name__}.{info.name}")


def register_model(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add a model to the registry (the hook for your own models). An existing id needs `replace=True`."""
    if spec.id in _REGISTRY and not replace:
        raise ValueError(f"model id {spec.id!r} is already registered; pass replace=True to override it")
    _REGISTRY[spec.id] = spec
    return spec


def register_resolver(prefix: str, resolve: Resolver, help: str) -> None:
    """Make ids `<prefix>:<anything>` mean `resolve(<anything>)`; `help` says what <anything> is."""
    _RESOLVERS[prefix] = (resolve, help)


def resolvers() -> dict[str, str]:
    """Each id prefix and what follows it (for `vmevalkit models`)."""
    return {prefix: help for prefix, (_, help) in sorted(_RESOLVERS.items())}


def list_models() -> list[ModelSpec]:
    """Every registered model (once each, under its id), controls last."""
    specs = {id(s): s for s in _REGISTRY.values()}.values()
    return sorted(specs, key=lambda s: s.kind == "control")


def get_spec(model_id: str) -> ModelSpec:
    """The spec of `model_id`: a registered id, or `<prefix>:<rest>` made by that prefix's resolver (and
    registered, so later look-ups by either name find it). Unknown ids are a UserError listing the known ones."""
    if model_id in _REGISTRY:
        return _REGISTRY[model_id]
    prefix, sep, rest = model_id.partition(":")
    if sep and prefix in _RESOLVERS:
        if not rest:
            raise UserError(f"--models {model_id}: say what follows '{prefix}:' ({_RESOLVERS[prefix][1]})")
        spec = _RESOLVERS[prefix][0](rest)
        existing = _REGISTRY.get(spec.id)
        if existing is not None and existing.reference != spec.reference:
            raise UserError(f"--models {model_id}: its folder name {spec.id!r} is already taken by "
                            f"{existing.reference or existing.id}; rename one of them")
        _REGISTRY[spec.id] = spec
        _REGISTRY[model_id] = spec
        return spec
    known = ", ".join(dict.fromkeys(s.id for s in list_models()))
    prefixes = "".join(f"; or {p}:<{h}>" for p, h in resolvers().items())
    raise UserError(f"unknown model {model_id!r}; known models: {known}{prefixes} (see `vmevalkit models`)")


def _as_spec(model: ModelSpec | str) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else get_spec(model)


def weights_present(model: ModelSpec | str, cache_dir: str | os.PathLike | None = None) -> bool:
    """True when the model (a spec or an id) needs no weights or its checkpoint is on disk."""
    spec = _as_spec(model)
    return spec.weights is None or find_weights(spec.id, spec.weights, cache_dir) is not None


def check_weights(model: ModelSpec | str, cache_dir: str | os.PathLike | None = None) -> None:
    """Raise WeightsMissingError, whose one line is the command that fetches them, when they are absent."""
    spec = _as_spec(model)
    if spec.weights is not None and not weights_present(spec, cache_dir):
        where = weights_path(spec.id, spec.weights, cache_dir)
        fix = ("check the path" if isinstance(spec.weights, LocalFolderSpec) else
               f"fetch them with: {fetch_command(spec.reference or spec.id, cache_dir)}")
        raise WeightsMissingError(f"{spec.id} needs its weights ({spec.weights.source}), not found at {where}; "
                                  f"{fix}")


def weights_revision(model_id: str, cache_dir: str | os.PathLike | None = None) -> str | None:
    """The recorded revision (Hub commit, or a local folder's fingerprint) of a model's weights, without loading
    anything; None for models without weights or without a record. Part of a result's identity."""
    spec = get_spec(model_id)
    return _recorded_revision(spec.id, spec.weights, cache_dir)


def check_environment(model: ModelSpec | str) -> None:
    """Raise UserError naming every environment variable the model needs (its API key) that is not set."""
    spec = _as_spec(model)
    missing = [name for name in spec.env_vars if not os.environ.get(name)]
    if missing:
        raise UserError(f"{spec.id} needs the environment variable{'s' if len(missing) > 1 else ''} "
                        f"{' and '.join(missing)} (its API key); set {'them' if len(missing) > 1 else 'it'} "
                        "and rerun")


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
    return build_model(get_spec(model_id), device=device, dtype=dtype, overrides=overrides, cache_dir=cache_dir)


def build_model(spec: ModelSpec, *, device: str = "auto", dtype: str | None = None,
                overrides: Mapping[str, Any] | None = None, cache_dir: str | os.PathLike | None = None) -> VideoModel:
    """`load_model` for a spec in hand (a Ray actor gets the spec itself: the registry of the process that
    planned the run may hold models this process never registered)."""
    settings = resolve_settings(spec, overrides)
    check_weights(spec, cache_dir)
    check_environment(spec)
    if dtype is not None and dtype not in DTYPES:
        raise UserError(f"--dtype {dtype}: choose one of {', '.join(DTYPES)}")
    resolved_device = "cpu" if spec.kind == "control" or spec.remote else resolve_device(device)
    weights = find_weights(spec.id, spec.weights, cache_dir) if spec.weights else None
    model = spec.build(spec, settings, resolved_device, None if dtype in (None, "auto") else dtype, weights)
    model.id = spec.id
    return model

_load_catalog()
