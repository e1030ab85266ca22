"""`vmevalkit weights verify`: does a checkpoint fit the model a config builds? Keys, shapes and dtypes only.

The checkpoint's tensors are not read (a `.safetensors` header, or a memory-mapped `.ckpt`) and the model is
built on the meta device, so a 10 GB checkpoint is checked in seconds, before a long GPU job."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from vmevalkit.models.lvdm.checkpoint import key_differences, read_tensor_specs
from vmevalkit.models.lvdm.config import builtin_for_checkpoint, load_config
from vmevalkit.models.lvdm.pipeline import expected_tensors, model_tensors


def verify_checkpoint(path: str | os.PathLike, config: str | os.PathLike | None = None) -> tuple[bool, list[str]]:
    """(fits, report lines) for a checkpoint against `config` (a built-in name or YAML; default: the built-in
    config its keys and shapes point to). The report groups the differences when it does not fit."""
    specs = read_tensor_specs(path)
    suggested, evidence = builtin_for_checkpoint(specs)
    cfg = load_config(config if config is not None else suggested)
    expected = expected_tensors(cfg)
    found = model_tensors(specs, expected)
    dtypes = ", ".join(f"{n} {str(d).removeprefix('torch.')}" for d, n in Counter(t.dtype for t in specs.values())
                       .most_common())
    chosen = f"chosen from its keys: {evidence}" if config is None else "as given"
    lines = [f"{Path(path)}: {len(specs)} tensors ({dtypes}); config {cfg.name} ({chosen})"]
    differences = key_differences(expected, found)
    if not differences:
        return True, lines + [f"OK: every key and shape matches the {cfg.family} {cfg.kind} model of {cfg.name}"]
    hint = "" if config is None or str(config) == suggested else \
        f"; its keys and shapes point to the built-in config {suggested} ({evidence})"
    return False, lines + [f"MISMATCH with the model of {cfg.name}:", *differences,
                           f"The checkpoint does not fit this config{hint}."]
