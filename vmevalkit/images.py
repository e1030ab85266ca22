"""Reading images from disk into plain 8-bit RGB, whatever their mode (grey, RGBA, 16-bit, palette)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from vmevalkit.errors import UserError

BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL image to 8-bit RGB: alpha is composited over white, 16-bit is scaled down."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode.startswith("I") or image.mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        top = arr.max(initial=0.0)
        peak = 65535.0 if image.mode.startswith("I;16") or top > 255 else 1.0 if top <= 1.0 and image.mode == "F" else 255.0
        image = Image.fromarray(np.clip(np.rint(arr / peak * 255.0), 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        image = Image.alpha_composite(canvas, rgba)
    return image.convert("RGB")


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image file as 8-bit RGB, raising UserError that names the file when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    return _open_rgb(path, str(path))


def decode_rgb(data: bytes, label: str) -> Image.Image:
    """Decode an encoded image (PNG, JPEG, ...) held in memory as 8-bit RGB; UserError names `label`."""
    return _open_rgb(io.BytesIO(data), label)


def _open_rgb(source: Path | io.BytesIO, label: str) -> Image.Image:
    try:
        with Image.open(source) as im:
            im.load()
            return to_rgb(im)
    except Image.DecompressionBombError as e:
        raise UserError(f"{label}: too large to open safely ({e}); scale it down") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        # Pillow names an in-memory source by its object address: say what it means instead
        detail = "no image format Pillow knows" if isinstance(e, UnidentifiedImageError) and not isinstance(
            source, Path) else e
        raise UserError(f"{label}: not a readable image ({detail}); replace it with a valid PNG or JPEG") from e
