"""Reading official VideoCrafter / DynamiCrafter checkpoints safely, and checking them against a model.

`.ckpt` files are Lightning checkpoints (a pickle holding `state_dict`); they are read with
`torch.load(weights_only=True)`, which refuses any pickle that would run code, memory-mapped when the
file is in torch's zip format (every torch.save since 1.6) and read whole when it is in the legacy format.
`.safetensors` files hold the same flat state dict and are read without pickle at all.
Key names are the official ones; the official DynamiCrafter 256 checkpoint's `framestride_embed` is
renamed to `fps_embedding` as the official loader does."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections import Counter
from pathlib import Path

import torch

from vmevalkit.errors import CheckpointError

_SAFETENSORS_DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64,
                       "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
                       "U8": torch.uint8, "BOOL": torch.bool}
ALIGNMENT = 64  # bytes: torch's CPU allocator, and the records of torch.save's zip files
RENAMED = {"framestride_embed": "fps_embedding"}  # DynamiCrafter 256's name -> the one its UNet uses


def _official_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = {}
    for key, value in state.items():
        for old, new in RENAMED.items():
            key = key.replace(old, new)
        renamed[key] = value
    return renamed


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def read_state_dict(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Return the flat `{key: tensor}` dict of an official `.ckpt` or a `.safetensors` file (memory-mapped;
    a `.safetensors` file is read straight onto `device`)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found; download it with `vmevalkit weights download <model>` "
                              "or pass the path to an official model.ckpt / .safetensors file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(path), device=str(device))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{path}: unreadable safetensors file ({e}); it may be truncated, download it again") from e
        # On the CPU the tensors are views of the file, aligned as its header packs them (often to 4 bytes);
        # CPU kernels round differently on such memory, so give each the alignment torch's own tensors (and
        # a .ckpt's) have: the same weights then give the same video from either file.
        return _official_names({k: v if v.data_ptr() % ALIGNMENT == 0 else v.clone() for k, v in state.items()})
    try:
        # torch's legacy (pre-1.6, non-zip) format cannot be memory-mapped; it is read whole, just as safely
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused to load: the file holds Python objects that would run code when unpickled "
            f"({_first_line(e)}). Only plain tensor checkpoints are accepted; convert a trusted file "
            "to .safetensors first") from e
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({_first_line(e)}); the file may be "
                              "truncated or corrupt, download it again") from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("module"), dict):  # DeepSpeed: keys under "_forward_module."
        obj = {k.removeprefix("_forward_module."): v for k, v in obj["module"].items()}
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a model checkpoint (expected a dict of tensors or a Lightning file "
                              "with 'state_dict')")
    return _official_names(obj)


def read_tensor_specs(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint with its shape and dtype but (for `.safetensors`) no data: meta tensors
    from the file's header; a `.ckpt` is memory-mapped, so its tensors are not read either until touched.
    Small buffers (`scale_arr`) are read for real: choosing the config may look at them."""
    path = Path(path)
    if path.suffix != ".safetensors" or not path.is_file():
        return read_state_dict(path)
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            specs = {}
            for key in f.keys():
                sliced = f.get_slice(key)
                specs[key] = f.get_tensor(key) if "." not in key else \
                    torch.empty(sliced.get_shape(), dtype=_SAFETENSORS_DTYPES[sliced.get_dtype()], device="meta")
    except (SafetensorError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path}: unreadable safetensors file ({e}); it may be truncated, download it again") from e
    return _official_names(specs)


def _module_of(key: str) -> str:
    """The top-level module of a key: `image_proj_model`, `model.diffusion_model`, `embedder.model`, ..."""
    parts = key.split(".")
    return ".".join(parts[:2]) if parts[0] == "model" or parts[1:2] == ["model"] else parts[0]


def _listing(title: str, items: list[str], limit: int = 12) -> list[str]:
    """A titled list; when it is longer than `limit`, a count per top-level module and the first entries of
    every module in turn, `limit` in all."""
    if not items:
        return []
    lines = [f"  {title} ({len(items)}):"]
    shown = items
    if len(items) > limit:
        groups: dict[str, list[str]] = {}
        for item in items:
            groups.setdefault(_module_of(item.split(":")[0]), []).append(item)
        lines.append("    by module: " + ", ".join(f"{g}{'' if g in members else '.*'} ({len(members)})"
                                                   for g, members in sorted(groups.items())))
        rounds = zip(*(members + [""] * (len(items) - len(members)) for _, members in sorted(groups.items())))
        shown = sorted([item for row in rounds for item in row if item][:limit])
    lines += [f"    {k}" for k in shown]
    if len(items) > limit:
        lines.append(f"    ... and {len(items) - limit} more")
    return lines


def key_differences(expected: dict[str, torch.Size], found: dict[str, torch.Tensor]) -> list[str]:
    """The grouped listing of missing keys, unexpected keys, shape differences and tensors that are not
    floating point; empty when the checkpoint fits."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    common = set(expected) & set(found)
    shapes = sorted(f"{k}: checkpoint {tuple(found[k].shape)} vs model {tuple(expected[k])}"
                    for k in common if tuple(found[k].shape) != tuple(expected[k]))
    dtypes = sorted(f"{k}: {str(found[k].dtype).removeprefix('torch.')}" for k in common
                    if not found[k].dtype.is_floating_point)
    return [*_listing("missing keys", missing), *_listing("unexpected keys", unexpected),
            *_listing("shape differences", shapes), *_listing("not floating point", dtypes)]


def check_keys(expected: dict[str, torch.Size], found: dict[str, torch.Tensor], source: str, config: str,
               suggestion: str) -> None:
    """Raise CheckpointError listing missing keys, unexpected keys and shape differences; `suggestion` is the
    built-in config the checkpoint's keys point to."""
    differences = key_differences(expected, found)
    if not differences:
        return
    lines = [f"{source} does not match the model built from config {config}:", *differences,
             f"Check that the config belongs to this checkpoint: its keys and shapes point to the built-in config "
             f"{suggestion} (i2v_512_v1.0: VideoCrafter Image2Video-512, t2v_512_v2.0: VideoCrafter2, "
             "dynamicrafter_256_v1.0 / _512_v1.0 / _1024_v1.0: DynamiCrafter)."]
    raise CheckpointError("\n".join(lines))
