"""Reading images from disk into plain 8-bit RGB, whatever their mode (grey, RGBA, 16-bit, palette)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from vmevalkit import limits
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


def _fitting_size(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The largest (width, height) of the same aspect ratio with at most `max_pixels` pixels."""
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """Open an image file as 8-bit RGB, raising UserError that names the file when it cannot be read.

    Its file size and its pixel count (from the header, before decoding) are bounded by
    vmevalkit.limits.IMAGE_BYTES and IMAGE_PIXELS; over the pixel limit the image is refused, or shrunk to
    fit when the user opted in (VMEVALKIT_DOWNSCALE_IMAGES=1; JPEGs are then decoded at a reduced scale)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    limits.IMAGE_BYTES.check(path.stat().st_size, str(path), "replace it with a smaller PNG or JPEG")
    return _open_rgb(path, str(path))


def decode_rgb(data: bytes, label: str) -> Image.Image:
    """Decode an encoded image (PNG, JPEG, ...) held in memory as 8-bit RGB, with the bounds of `load_rgb`;
    UserError names `label`."""
    limits.IMAGE_BYTES.check(len(data), label, "replace it with a smaller PNG or JPEG")
    return _open_rgb(io.BytesIO(data), label)


def _open_rgb(source: Path | io.BytesIO, label: str) -> Image.Image:
    try:
        with Image.open(source) as im:
            width, height = im.size
            max_pixels = limits.IMAGE_PIXELS.value
            if width * height <= max_pixels:
                im.load()
                return to_rgb(im)
            if not limits.downscale_images():
                limits.IMAGE_PIXELS.check(width * height, f"{label} ({width}x{height})",
                                          f"scale it down, set {limits.DOWNSCALE_IMAGES_ENV}=1 to have it shrunk")
            target = _fitting_size(width, height, max_pixels)
            im.draft("RGB", target)  # JPEG: decode at 1/2, 1/4 or 1/8 scale where that still covers the target
            im.load()
            image = to_rgb(im)
            image.thumbnail(target, Image.Resampling.LANCZOS)
            return image
    except Image.DecompressionBombError as e:
        raise UserError(f"{label}: too large to open safely ({e}); scale it down") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        # Pillow names an in-memory source by its object address: say what it means instead
        detail = "no image format Pillow knows" if isinstance(e, UnidentifiedImageError) and not isinstance(
            source, Path) else e
        raise UserError(f"{label}: not a readable image ({detail}); replace it with a valid PNG or JPEG") from e
