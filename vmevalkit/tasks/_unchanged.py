"""Consistency checks: whether the parts of a scene that a task must leave alone still look as drawn.

The final state, lined up and colour-fitted to the expected final frame (`candidates.read_against`),
is compared with it region by region, as blurred luminance, in two ways:

- *similarity*: the normalised cross-correlation of the region's pattern (blur sigma 1 px). A redrawn
  numeral or a clue digit changed into another lowers it even where little ink moved; blur, noise,
  JPEG and resampling barely do, since they keep the pattern in place;
- *difference*: the largest difference at any pixel (blur sigma 2 px), so that a mark painted on a
  flat part (where a pattern has nothing to correlate) or a strong local change is never averaged
  away over a large region.

A region is unchanged when its similarity is at least `min_similarity` (where it has a pattern) and
its largest difference at most `max_difference` grey levels."""

from __future__ import annotations

import numpy as np

from vmevalkit.tasks._draw import Box
from vmevalkit.tasks._read import blurred, luminance

PATTERN_SIGMA, DIFFERENCE_SIGMA = 1.0, 2.0  # px of Gaussian blur for the two comparisons
MIN_CONTRAST = 8.0  # grey levels of spread a region needs in the reference to have a pattern to correlate
# the distorted oracles of the clock, hanoi, sliding and nonogram tasks stay above 0.96 and below 20; a digit
# changed into a similar one (5 into 6 at 17 px) falls to about 0.9
MIN_SIMILARITY, MAX_DIFFERENCE = 0.93, 45.0


def box_mask(shape: tuple[int, ...], box: Box) -> np.ndarray:
    """A boolean H x W mask that is True inside `box` (clipped to the picture)."""
    mask = np.zeros(shape[:2], bool)
    x0, y0, x1, y1 = box
    mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return mask


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Normalised cross-correlation of two equally shaped arrays; None where `b` (the reference) is flat."""
    a, b = a - a.mean(), b - b.mean()
    if b.std() < MIN_CONTRAST:
        return None
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-6))


def compare_regions(seen: np.ndarray, reference: np.ndarray,
                    regions: dict[str, np.ndarray]) -> dict[str, tuple[float | None, float]]:
    """For each region (a boolean mask), its (similarity, largest difference) between `seen`, already lined
    up and colour-fitted to `reference`, and `reference`."""
    seen_l, ref_l = luminance(seen), luminance(reference)
    pattern = blurred(seen_l, PATTERN_SIGMA), blurred(ref_l, PATTERN_SIGMA)
    diff = np.abs(blurred(seen_l, DIFFERENCE_SIGMA) - blurred(ref_l, DIFFERENCE_SIGMA))
    out = {}
    for name, mask in regions.items():
        similarity = _correlation(pattern[0][mask], pattern[1][mask])
        out[name] = (None if similarity is None else round(similarity, 4),
                     round(float(diff[mask].max(initial=0.0)), 1))
    return out


def unchanged(seen: np.ndarray, reference: np.ndarray, regions: dict[str, np.ndarray], checked: str,
              min_similarity: float = MIN_SIMILARITY,
              max_difference: float = MAX_DIFFERENCE) -> tuple[bool, dict]:
    """Whether every region is unchanged, and details saying what was checked (`checked`), which regions
    changed, and the lowest similarity and largest difference seen."""
    compared = compare_regions(seen, reference, regions)
    changed = [name for name, (similarity, difference) in compared.items()
               if (similarity is not None and similarity < min_similarity) or difference > max_difference]
    similarities = {name: s for name, (s, _) in compared.items() if s is not None}
    least = min(similarities, key=similarities.get) if similarities else None
    most = max(compared, key=lambda name: compared[name][1]) if compared else None
    return not changed, {"checked": checked, "regions": len(compared), "changed": changed,
                         "lowest_similarity": similarities.get(least), "lowest_similarity_in": least,
                         "min_similarity": min_similarity,
                         "largest_difference": compared[most][1] if most else None,
                         "largest_difference_in": most,
                         "max_difference": max_difference}
