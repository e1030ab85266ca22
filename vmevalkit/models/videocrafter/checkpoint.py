"""Reading official VideoCrafter checkpoints safely, and loading them strictly into our modules.

`.ckpt` files are Lightning checkpoints (a pickle holding `state_dict`); they are read with
`torch.load(weights_only=True, mmap=True)`, which refuses any pickle that would run code.
`.safetensors` files hold the same flat state dict and are read without pickle at all."""

from __future__ import annotations

import os
import pickle
import zipfile
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
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a model checkpoint (expected a dict of tensors or a Lightning file "
                              "with 'state_dict')")
    return obj
