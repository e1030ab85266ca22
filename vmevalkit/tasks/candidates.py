"""Reading an answer as the closest of a few candidate renderings.

Tasks whose answer is a picture (a view, a matrix panel, a filled box) render every candidate
answer themselves and judge a video by which candidate its final state is nearest to. Comparison
happens on small box-filtered copies, after undoing a global colour change, so blur, noise, JPEG
and resizing barely move the distances while a different answer moves them a lot.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from vmevalkit.tasks._draw import Box

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


def flat_pixels(reference: Image.Image, radius: int = 3) -> np.ndarray:
    """Where `reference` is one flat colour over a (2*radius+1)-pixel square: the pixels whose colour
    blur and resampling leave alone, so a colour fit on them sees only the colour change."""
    size = 2 * radius + 1
    grey = reference.convert("L")
    spread = np.asarray(grey.filter(ImageFilter.MaxFilter(size)), np.int16) - np.asarray(
        grey.filter(ImageFilter.MinFilter(size)), np.int16)
    return spread == 0


def context_mask(reference: Image.Image, answer_boxes: list[Box]) -> np.ndarray:
    """The flat pixels of `reference` outside the boxes where the answer goes: the part of the frame
    that stays the same whatever the answer, on which a colour change can be measured."""
    mask = flat_pixels(reference)
    for x0, y0, x1, y1 in answer_boxes:
        mask[y0:y1, x0:x1] = False
    return mask


def box_states(seen: np.ndarray, empty: np.ndarray, filled: np.ndarray, boxes: list[Box],
               inset: int = 3) -> list[dict]:
    """For each box, whether `seen` looks more like the `empty` frame or the `filled` one there (the
    mean absolute difference of the box's inside, `inset` px clear of its outline)."""
    states = []
    for x0, y0, x1, y1 in boxes:
        inside = (slice(y0 + inset, y1 - inset), slice(x0 + inset, x1 - inset))
        d_empty = float(np.abs(seen[inside] - empty[inside]).mean())
        d_filled = float(np.abs(seen[inside] - filled[inside]).mean())
        states.append({"filled": d_filled < d_empty, "empty_distance": round(d_empty, 2),
                       "filled_distance": round(d_filled, 2)})
    return states


def distances(observed: np.ndarray, candidates: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean absolute difference between `observed` and each candidate (arrays of the same shape)."""
    return {name: round(float(np.abs(observed - c).mean()), 4) for name, c in candidates.items()}


def closest(dist: dict[str, float]) -> tuple[str, float]:
    """The nearest candidate and its margin: how much farther the runner-up is."""
    ranked = sorted(dist.items(), key=lambda kv: (kv[1], kv[0]))
    margin = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else float("inf")
    return ranked[0][0], round(margin, 4)
