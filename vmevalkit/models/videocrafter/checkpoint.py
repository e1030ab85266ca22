"""Reading official VideoCrafter checkpoints safely, and loading them strictly into our modules.

`.ckpt` files are Lightning checkpoints (a pickle holding `state_dict`); they are read with
`torch.load(weights_only=True, mmap=True)`, which refuses any pickle that would run code.
`.safetensors` files hold the same flat state dict and are read without pickle at all."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import Counter
from pathlib import Path

import torch

from vmevalkit.errors import CheckpointError


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Return the flat `{key: tensor}` dict of an official `.ckpt` or a `.safetensors` file (memory-mapped)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found; download it with `vmevalkit weights download <model>` "
                              "or pass the path to an official model.ckpt / .safetensors file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path}: unreadable safetensors file ({e}); it may be truncated, download it again") from e
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused to load: the file holds Python objects that would run code when unpickled "
            f"({str(e).splitlines()[0]}). Only plain tensor checkpoints are accepted; convert a trusted file "
            "to .safetensors first") from e
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({str(e).splitlines()[0]}); the file may be "
                              "truncated or corrupt, download it again") from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("module"), dict):  # DeepSpeed: keys under "_forward_module."
        obj = {k.removeprefix("_forward_module."): v for k, v in obj["module"].items()}
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a model checkpoint (expected a dict of tensors or a Lightning file "
                              "with 'state_dict')")
    return obj


def _module_of(key: str) -> str:
    """The top-level module of a key: `image_proj_model`, `model.diffusion_model`, `embedder.model`, ..."""
    parts = key.split(".")
    return ".".join(parts[:2]) if parts[0] == "model" or parts[1:2] == ["model"] else parts[0]


def _listing(title: str, items: list[str], limit: int = 12) -> list[str]:
    """A titled list, cut after `limit` lines, with a count per top-level module when it is long."""
    if not items:
        return []
    lines = [f"  {title} ({len(items)}):"]
    if len(items) > limit:
        groups = Counter(_module_of(k.split(":")[0]) for k in items)
        lines.append("    by module: " + ", ".join(f"{g}.* ({n})" for g, n in sorted(groups.items())))
    lines += [f"    {k}" for k in items[:limit]]
    if len(items) > limit:
        lines.append(f"    ... and {len(items) - limit} more")
    return lines


def check_keys(expected: dict[str, torch.Size], found: dict[str, torch.Tensor], source: str, config: str) -> None:
    """Raise CheckpointError listing missing keys, unexpected keys and shape differences."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shapes = sorted(f"{k}: checkpoint {tuple(found[k].shape)} vs model {tuple(expected[k])}"
                    for k in set(expected) & set(found) if tuple(found[k].shape) != tuple(expected[k]))
    if not (missing or unexpected or shapes):
        return
    lines = [f"{source} does not match the model built from config {config}:",
             *_listing("missing keys", missing), *_listing("unexpected keys", unexpected),
             *_listing("shape differences", shapes),
             "Check that the config belongs to this checkpoint (e.g. i2v_512_v1.0 for Image2Video-512, "
             "t2v_512_v2.0 for VideoCrafter2) and that the file is an official VideoCrafter checkpoint."]
    raise CheckpointError("\n".join(lines))
