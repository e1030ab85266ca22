"""Consistency: whether the parts of the scene a task must leave alone stayed put.

A task names those parts as boxes in the question's geometry (a wall segment, a given digit, a
panel) and gives a reference picture of how they must look. The video's final state, lined up with
the reference and colour-fitted to it on flat pixels that do not move (`candidates.read_against`),
is compared with it on blurred copies; the difference map (averaged over the colour channels) is
averaged over small windows, and a part changed when some window inside it differs by more than
a tolerance. Resampling, blur, noise and JPEG leave thin, faint differences along edges that the
window averages away; a stroke drawn, erased or recoloured fills the window. Pixels the task lets
move (the agent, the answer) can be left out.

The verdict is reported beside correctness (`Score.consistent`), never blended into it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from vmevalkit.tasks._draw import Box, Grid
from vmevalkit.tasks.candidates import context_mask, match_colours, read_against

SIGMA = 1.5  # px of Gaussian blur applied to both pictures before they are compared
WINDOW = 9  # px: the side of the windows the difference is averaged over
TOLERANCE = 30.0  # grey levels: the most a window inside a part that must stay may differ by
IGNORE_MARGIN = 4  # px an ignored region (the agent) is grown by, so its blurred rim is left out too


def _blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    im = Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
    return np.asarray(im.filter(ImageFilter.GaussianBlur(sigma)), np.float64)


def window_means(values: np.ndarray, side: int = WINDOW) -> np.ndarray:
    """The mean of `values` (H x W) over the side x side window centred on each pixel (edges padded)."""
    half = side // 2
    padded = np.pad(values, half, mode="edge")
    total = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = values.shape
    return (total[side:side + h, side:side + w] - total[:h, side:side + w] - total[side:side + h, :w]
            + total[:h, :w]) / (side * side)


def grown(mask: np.ndarray, margin: int = IGNORE_MARGIN) -> np.ndarray:
    """`mask` grown by `margin` px in every direction."""
    im = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(im.filter(ImageFilter.MaxFilter(2 * margin + 1))) > 0


def box_mask(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray:
    """An H x W mask that is True inside every box."""
    mask = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return mask


def grid_edges(grid: Grid, half_width: int) -> dict[str, Box]:
    """A band `half_width` px either side of every cell edge of `grid`, named by the cells it separates
    ("h r c": the top edge of cell (r, c); "v r c": its left edge; r == rows or c == cols: the border)."""
    bands = {}
    for r in range(grid.rows + 1):
        for c in range(grid.cols):
            x0, y0, x1, _ = grid.box(min(r, grid.rows - 1), c)
            y = grid.top + r * grid.cell
            bands[f"h {r} {c}"] = (x0, y - half_width, x1, y + half_width + 1)
    for r in range(grid.rows):
        for c in range(grid.cols + 1):
            x = grid.left + c * grid.cell
            _, y0, _, y1 = grid.box(r, min(c, grid.cols - 1))
            bands[f"v {r} {c}"] = (x - half_width, y0, x + half_width + 1, y1)
    return bands


def tiles(box: Box, side: int) -> dict[str, Box]:
    """`box` cut into `side`-px tiles (the last row and column may be narrower), named by their top-left pixel."""
    x0, y0, x1, y1 = box
    return {f"{x},{y}": (x, y, min(x + side, x1), min(y + side, y1))
            for y in range(y0, y1, side) for x in range(x0, x1, side)}


def shared_parts(first: np.ndarray, final: np.ndarray, answer_boxes: list[Box] = (), side: int = 32,
                 margin: int = IGNORE_MARGIN) -> tuple[dict[str, Box], np.ndarray]:
    """What must stay when it is whatever the first and the expected final frame share: (the frame cut into
    `side`-px tiles, named "picture x,y"; the mask to ignore: the pixels the two frames differ in and the
    `answer_boxes`, where any answer goes, grown by `margin` px)."""
    changed = np.any(np.asarray(first) != np.asarray(final), axis=-1) | box_mask(first.shape, list(answer_boxes))
    h, w = changed.shape
    return {f"picture {name}": box for name, box in tiles((0, 0, w, h), side).items()}, grown(changed, margin)


def aligned(final: np.ndarray, reference: np.ndarray, moving: np.ndarray, drift: bool = True) -> np.ndarray:
    """`final` (a final state) lined up with `reference` (unless `drift` is False: where most of what moves
    is the answer, lining up would chase it) and colour-fitted to it on the flat pixels outside the
    `moving` mask (what the video may change: its colours say nothing of a colour shift)."""
    context = context_mask(reference, []) & ~moving
    final = final.astype(np.float64)
    return read_against(final, reference, context) if drift else match_colours(final, reference, context)


def part_differences(seen: np.ndarray, reference: np.ndarray, parts: dict[str, Box | np.ndarray],
                     ignore: np.ndarray | None = None) -> dict[str, float]:
    """For each part (a box, or an H x W boolean mask), the largest window mean of the difference between
    blurred `seen` and blurred `reference` (grey levels, averaged over the colour channels) over the part's
    pixels outside `ignore`."""
    diff = np.abs(_blur(seen, SIGMA) - _blur(reference, SIGMA)).mean(axis=-1)
    local = window_means(diff if ignore is None else np.where(ignore, 0.0, diff))
    if ignore is not None:
        local[ignore] = -np.inf  # never the largest: an ignored pixel has no say
    out = {}
    for name, part in parts.items():
        if isinstance(part, np.ndarray):
            values = local[part]
        else:
            x0, y0, x1, y1 = part
            values = local[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
        largest = float(values.max()) if values.size else -np.inf
        out[name] = round(largest, 1) if np.isfinite(largest) else 0.0
    return out


def verdict(differences: dict[str, float], checked: str, tolerance: float = TOLERANCE
            ) -> tuple[bool, dict[str, Any]]:
    """(consistent, what goes into `details["consistency"]`): the parts over `tolerance` changed."""
    changed = sorted((name for name, d in differences.items() if d > tolerance), key=lambda n: -differences[n])
    worst = max(differences, key=differences.get) if differences else None
    return not changed, {"checked": checked, "parts": len(differences), "changed": changed,
                         "largest": {"part": worst, "difference": differences[worst]} if worst else None,
                         "tolerance": tolerance}
