"""The consistency check: whether the parts of a scene that a task must leave alone stayed put.

What must stay is what the first frame and the expected final frame share outside the places where
an answer goes, a few pixels away from anything the answer changes: the lamps the rule leaves
alone, the figures that remain, the word, the map. The
final state, lined up with the expected frame (`candidates.register`), is compared with the
expected frame as the video would show it (its colours passed through the video's global colour
change, `candidates.ColourGroups`) by the *local mean* of their difference: the signed difference averaged over
a bell-shaped neighbourhood of the pixels that must stay, in luminance and, more coarsely, in colour.
Blur, resampling and JPEG move ink about without changing how much there is nearby, and noise
averages out, so they barely register; a part that was erased, added, recoloured or moved changes
the local mean a lot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vmevalkit.tasks._draw import Box

MARGIN = 5  # px kept clear of every pixel the answer changes
LUMA_RADIUS, COLOUR_RADIUS = 3, 4  # px, the sizes of the neighbourhoods averaged (see `smooth`)
MIN_WEIGHT = 0.5  # a place is compared when at least this share of its neighbourhood must stay
# Grey levels of local mean difference above which a place counts as changed, in luminance and in the
# largest colour channel's difference from luminance. The oracle under every validation distortion at
# once stays below about half of each; a changed letter or an erased stretch of line, a recoloured figure
# go well beyond (docs/tasks-d.md gives the measured margins).
LUMA_TOLERANCE, COLOUR_TOLERANCE = 20.0, 32.0
TILE = 16  # px, the grid in which changed places are reported


def _box(a: np.ndarray, radius: int) -> np.ndarray:
    """The mean of `a` over a (2 * radius + 1)-px window along its first axis; the border repeats."""
    padded = np.concatenate([np.repeat(a[:1], radius + 1, axis=0), a, np.repeat(a[-1:], radius, axis=0)])
    sums = np.cumsum(padded, axis=0)
    width = 2 * radius + 1
    return (sums[width:] - sums[:-width]) / width


def smooth(a: np.ndarray, radius: int) -> np.ndarray:
    """`a` (H x W or H x W x C) averaged over a bell-shaped neighbourhood: three passes of a box of
    `radius` along each axis (a close match to a Gaussian of sigma = 1.15 * radius, in linear time)."""
    for _ in range(2):  # down the columns, then (transposed) along the rows
        for _ in range(3):
            a = _box(a, radius)
        a = a.swapaxes(0, 1)
    return a


@dataclass(frozen=True, eq=False)
class MustStay:
    """The pixels that must stay (H x W) and, per neighbourhood radius, how much of each pixel's
    neighbourhood they cover (computed once per question)."""

    mask: np.ndarray
    cover: dict[int, np.ndarray]


def must_stay(first: np.ndarray, final: np.ndarray, answer_boxes: list[Box] = (), margin: int = MARGIN) -> MustStay:
    """What must stay: the pixels equal in the first and the expected final frame and outside the
    `answer_boxes` (where any answer is written, right or wrong), `margin` px from the rest."""
    changed = np.any(np.asarray(first) != np.asarray(final), axis=-1)
    for x0, y0, x1, y1 in answer_boxes:
        changed[max(y0, 0):y1, max(x0, 0):x1] = True
    near = changed.astype(np.float64)
    for _ in range(2):  # a pixel is near a change when a (2 * margin + 1)-px square about it holds one
        near = _box(near, margin).swapaxes(0, 1)
    mask = near < 0.5 / (2 * margin + 1) ** 2
    return MustStay(mask, {r: smooth(mask.astype(np.float64), r) for r in (LUMA_RADIUS, COLOUR_RADIUS)})


def local_mean(diff: np.ndarray, keep: MustStay, radius: int) -> np.ndarray:
    """H x W: the largest over the channels of `diff` (H x W x C) of its mean over the neighbourhood's
    (`smooth`) pixels that must stay, in absolute value; 0 where less than MIN_WEIGHT of it must stay."""
    weight = keep.cover[radius]
    mean = smooth(diff * keep.mask[..., None], radius) / np.maximum(weight, 1e-6)[..., None]
    return np.where(weight >= MIN_WEIGHT, np.abs(mean).max(axis=-1), 0.0)


def consistency(observed: np.ndarray, expected: np.ndarray, keep: MustStay, checked: str,
                parts: dict[str, Box] | None = None) -> dict:
    """The record a scorer puts in `details["consistency"]` for a final state `observed` lined up with
    `expected` (both H x W x 3, 0..255; `expected` as the video would show it, `ColourFit.apply`): what
    was checked, whether it stayed put (`consistent`), the TILE-px squares where it changed, which of the
    named `parts` hold a changed place, and the largest local differences in luminance and colour."""
    diff = np.asarray(observed, np.float64) - np.asarray(expected, np.float64)
    luma = diff @ np.array([0.299, 0.587, 0.114])
    luma_change = local_mean(luma[..., None], keep, LUMA_RADIUS)
    colour_change = local_mean(diff - luma[..., None], keep, COLOUR_RADIUS)
    changed = (luma_change > LUMA_TOLERANCE) | (colour_change > COLOUR_TOLERANCE)
    ys, xs = np.nonzero(changed)
    h, w = keep.mask.shape
    tiles = sorted({(int(x) // TILE * TILE, int(y) // TILE * TILE) for y, x in zip(ys, xs)})
    record = {"checked": checked, "consistent": not tiles,
              "changed_tiles": [[x, y, min(x + TILE, w), min(y + TILE, h)] for x, y in tiles],
              "largest_luminance_change": round(float(luma_change.max(initial=0.0)), 2),
              "largest_colour_change": round(float(colour_change.max(initial=0.0)), 2),
              "tolerances": {"luminance": LUMA_TOLERANCE, "colour": COLOUR_TOLERANCE}}
    if parts is not None:
        record["changed_parts"] = [name for name, (x0, y0, x1, y1) in parts.items()
                                   if changed[max(y0, 0):y1, max(x0, 0):x1].any()]
    return record
