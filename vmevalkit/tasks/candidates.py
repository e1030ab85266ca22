"""Reading an answer as the closest of a few candidate renderings.

Tasks whose answer is a picture (a view, a matrix panel, a filled box) render every candidate
answer themselves and judge a video by which candidate its final state is nearest to. Comparison
happens on small box-filtered copies, after undoing a global colour change, so blur, noise, JPEG
and resizing barely move the distances while a different answer moves them a lot.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

def thumbnail(image: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A box-filtered float copy of `image` (PIL, or an H x W x 3 array of 0..255) at `size` (w, h)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8))
    return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BOX), np.float64)


def standardised(pixels: np.ndarray) -> np.ndarray:
    """Each colour channel shifted to mean 0 and scaled to standard deviation 1."""
    flat = pixels.reshape(-1, 3)
    return (pixels - flat.mean(axis=0)) / np.maximum(flat.std(axis=0), 1e-6)


def match_colours(observed: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`observed` with a per-channel gain and offset applied, fitted by least squares so that its
    `mask` pixels best match `reference` (undoes a global brightness or colour shift)."""
    out = np.empty_like(observed)
    for c in range(3):
        x, y = observed[..., c][mask], reference[..., c][mask]
        var = x.var()
        gain = float(((x - x.mean()) * (y - y.mean())).mean() / var) if var > 1e-6 else 1.0
        out[..., c] = (observed[..., c] - x.mean()) * gain + y.mean()
    return out


def distances(observed: np.ndarray, candidates: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean absolute difference between `observed` and each candidate (arrays of the same shape)."""
    return {name: round(float(np.abs(observed - c).mean()), 4) for name, c in candidates.items()}


def closest(dist: dict[str, float]) -> tuple[str, float]:
    """The nearest candidate and its margin: how much farther the runner-up is."""
    ranked = sorted(dist.items(), key=lambda kv: (kv[1], kv[0]))
    margin = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else float("inf")
    return ranked[0][0], round(margin, 4)
