"""Reading an answer as the closest of a few candidate renderings.

Tasks whose answer is a picture (a view, a matrix panel, a filled box) render every candidate
answer themselves and judge a video by which candidate its final state is nearest to. The final
state is first lined up with the expected frame (a drift of a few pixels) and its colours fitted
to it on the part that never changes; comparison then happens on small box-filtered copies,
forgiving a shift of a pixel or two, so blur, noise, JPEG and resizing barely move the distances
while a different answer moves them a lot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from vmevalkit.tasks._draw import Box

MAX_DRIFT = 8  # px a video's picture may have moved from where the question drew it


def _image(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, np.ndarray):
        return Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8))
    return image


def thumbnail(image: Image.Image | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A box-filtered float copy of `image` (PIL, or an H x W x 3 array of 0..255) at `size` (w, h)."""
    return np.asarray(_image(image).convert("RGB").resize(size, Image.Resampling.BOX), np.float64)


def standardised(pixels: np.ndarray) -> np.ndarray:
    """Each colour channel shifted to mean 0 and scaled to standard deviation 1."""
    flat = pixels.reshape(-1, 3)
    return (pixels - flat.mean(axis=0)) / np.maximum(flat.std(axis=0), 1e-6)


def flat_pixels(image: Image.Image | np.ndarray, radius: int = 3) -> np.ndarray:
    """Where `image` is one flat colour over a (2*radius+1)-pixel square: the pixels whose colour
    blur and resampling leave alone."""
    size = 2 * radius + 1
    grey = _image(image).convert("L")
    spread = np.asarray(grey.filter(ImageFilter.MaxFilter(size)), np.int16) - np.asarray(
        grey.filter(ImageFilter.MinFilter(size)), np.int16)
    return spread == 0


def context_mask(image: Image.Image | np.ndarray, answer_boxes: list[Box]) -> np.ndarray:
    """The flat pixels of `image` outside the boxes where the answer goes: the part of the frame that
    stays the same whatever the answer, on which a colour change can be measured."""
    mask = flat_pixels(image)
    for x0, y0, x1, y1 in answer_boxes:
        mask[y0:y1, x0:x1] = False
    return mask


def _grey(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Luminance, box-downsampled by `factor`, standardised to mean 0 and spread 1."""
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    h, w = (grey.shape[0] // factor) * factor, (grey.shape[1] // factor) * factor
    grey = grey[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return (grey - grey.mean()) / max(float(grey.std()), 1e-6)


def _best_shift(a: np.ndarray, b: np.ndarray, shifts: list[tuple[int, int]]) -> tuple[int, int]:
    """The (dy, dx) for which a[y + dy, x + dx] is closest to b[y, x] over their overlap."""
    h, w = a.shape
    best, found = np.inf, (0, 0)
    for dy, dx in shifts:
        pa = a[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
        pb = b[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        d = float(np.abs(pa - pb).mean())
        if d < best:
            best, found = d, (dy, dx)
    return found


def drift(observed: np.ndarray, reference: np.ndarray, max_drift: int = MAX_DRIFT) -> tuple[int, int]:
    """The whole-pixel shift (dy, dx), up to `max_drift` px each way, that lines `observed` up best
    with `reference` (compared as standardised grey, so colour changes do not matter)."""
    coarse = max_drift // 2
    dy, dx = _best_shift(_grey(observed, 2), _grey(reference, 2),
                         [(y, x) for y in range(-coarse, coarse + 1) for x in range(-coarse, coarse + 1)])
    return _best_shift(_grey(observed, 1), _grey(reference, 1),
                       [(2 * dy + y, 2 * dx + x) for y in (-1, 0, 1) for x in (-1, 0, 1)])


def shifted(observed: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """`observed` moved by `shift` (dy, dx, from `drift`); uncovered edges repeat the border."""
    dy, dx = shift
    if (dy, dx) == (0, 0):
        return observed
    my, mx = abs(dy), abs(dx)
    padded = np.pad(observed, ((my, my), (mx, mx), (0, 0)), mode="edge")
    h, w = observed.shape[:2]
    return padded[my + dy:my + dy + h, mx + dx:mx + dx + w]


def register(observed: np.ndarray, reference: np.ndarray, max_drift: int = MAX_DRIFT) -> np.ndarray:
    """`observed` moved by the shift that lines it up best with `reference` (`drift`): a video whose
    picture drifted a little is read where its content is."""
    return shifted(observed, drift(observed, reference, max_drift))


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(rows, axis=0, return_inverse=True, return_counts=True)` for an N x C array, by one
    lexicographic sort of the columns (the same result, many times faster than sorting rows as records)."""
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    starts = np.ones(len(rows), bool)
    starts[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(len(rows), np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse, np.bincount(inverse)


def match_colours(observed: np.ndarray, reference: np.ndarray, mask: np.ndarray,
                  min_pixels: int = 50) -> np.ndarray:
    """`observed` with a per-channel gain and offset that map its colour levels onto `reference`'s
    (undoes a global brightness or colour shift). The `mask` pixels (flat ones, from
    `context_mask`, on a registered frame) are grouped by their colour in `reference`; the fit runs
    through each group's mean observed colour, weighted by its size, so pixel noise averages out
    instead of flattening the gain. With a single level in a channel only the offset is fitted."""
    ref, obs = reference[mask], observed[mask]
    levels, group, counts = _unique_rows(ref)
    keep = counts >= min_pixels
    sums = np.zeros((len(levels), 3))
    np.add.at(sums, group.ravel(), obs)
    x, y, w = (sums / counts[:, None])[keep], levels[keep], counts[keep].astype(np.float64)
    out = np.empty_like(observed)
    for c in range(3):
        xm, ym = np.average(x[:, c], weights=w), np.average(y[:, c], weights=w)
        var = np.average((x[:, c] - xm) ** 2, weights=w)
        gain = np.average((x[:, c] - xm) * (y[:, c] - ym), weights=w) / var if var > 1.0 else 1.0
        out[..., c] = (observed[..., c] - xm) * gain + ym
    return out


def read_against(observed: np.ndarray, reference: np.ndarray, context: np.ndarray) -> np.ndarray:
    """`observed` lined up with `reference` and its colours fitted to it on the `context` pixels."""
    return match_colours(register(observed, reference), reference, context)


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


def zoomed(image: Image.Image, factor: float, fill: tuple[int, int, int]) -> Image.Image:
    """`image` scaled by `factor` about its centre, on a `fill` background, at its own size."""
    w, h = image.size
    scaled = image.resize((round(w * factor), round(h * factor)), Image.Resampling.BILINEAR)
    out = Image.new("RGB", (w, h), fill)
    out.paste(scaled, ((w - scaled.width) // 2, (h - scaled.height) // 2))
    return out


def aligned_distances(observed: np.ndarray, candidates: dict[str, np.ndarray],
                      max_shift: int) -> dict[str, float]:
    """For each candidate (an array of variants, e.g. zoomed copies, V x H x W x 3), the smallest
    mean absolute difference between `observed` (H x W x 3) and any variant moved by up to
    `max_shift` pixels each way, over the overlapping part: a video whose framing drifted a little
    still matches what it shows."""
    names = list(candidates)
    stack = np.stack([candidates[n] for n in names])  # K x V x H x W x 3
    h, w = observed.shape[:2]
    best = np.full(len(names), np.inf)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            a = observed[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
            b = stack[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            best = np.minimum(best, np.abs(b - a).mean(axis=(2, 3, 4)).min(axis=1))
    return {n: round(float(d), 4) for n, d in zip(names, best)}


def closest(dist: dict[str, float]) -> tuple[str, float]:
    """The nearest candidate and its margin: how much farther the runner-up is."""
    ranked = sorted(dist.items(), key=lambda kv: (kv[1], kv[0]))
    margin = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else float("inf")
    return ranked[0][0], round(margin, 4)


COLOUR_OUTLIER = 20.0  # grey levels off the fitted line: a colour that changed, left out of the fit
CLIPPED = 3  # observed levels this close to 0 or 255 may be clipped: they vote but are not fitted
MIN_GROUP = 50  # flat pixels of one colour needed for that colour to count
GAIN_RANGE = (0.75, 1.33)  # the colour changes looked for; a recoloured part implies a line far outside


@dataclass(frozen=True)
class ColourFit:
    """Per-channel gain and offset that take a rendering's colours to how a video shows them."""

    gain: np.ndarray  # (3,)
    offset: np.ndarray  # (3,)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """`image` (H x W x 3, 0..255) as the video would show it, clipped to 0..255 as the video is."""
        return np.clip(np.asarray(image, np.float64) * self.gain + self.offset, 0.0, 255.0)


def _channel_line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The gain and offset of y = clip(gain * x + offset) that most colours agree with (within
    COLOUR_OUTLIER; then the most pixels, then the gain nearest 1), among the lines through one colour
    with gain 1 or through two, refined by least squares on the agreeing levels not at 0 or 255."""
    lines = [(1.0, float(yi - xi)) for xi, yi in zip(x, y)]
    lines += [(float((y[j] - y[i]) / (x[j] - x[i])), float(y[i] - x[i] * (y[j] - y[i]) / (x[j] - x[i])))
              for i in range(len(x)) for j in range(i + 1, len(x)) if abs(x[j] - x[i]) >= 20]
    lines = [(g, o) for g, o in lines if GAIN_RANGE[0] <= g <= GAIN_RANGE[1]] or [(1.0, 0.0)]

    def agree(line: tuple[float, float]) -> np.ndarray:
        return np.abs(np.clip(line[0] * x + line[1], 0, 255) - y) <= COLOUR_OUTLIER

    gain, offset = max(lines, key=lambda line: (int(agree(line).sum()), float(w[agree(line)].sum()),
                                                -abs(line[0] - 1.0)))
    use = agree((gain, offset)) & (y > CLIPPED) & (y < 255 - CLIPPED)
    if use.any():
        xu, yu, wu = x[use], y[use], w[use]
        xm = np.average(xu, weights=wu)
        var = np.average((xu - xm) ** 2, weights=wu)
        if var > 1.0:
            gain = float(np.average((xu - xm) * (yu - np.average(yu, weights=wu)), weights=wu) / var)
        offset = float(np.average(yu - gain * xu, weights=wu))
    return gain, offset


@dataclass(frozen=True)
class ColourGroups:
    """A reference rendering's flat pixels in a mask, grouped by colour: what `fit` measures a video's
    colour change on. Unlike `match_colours` it maps the rendering forward, so levels the video clipped
    stay clipped, and it follows the line most of the picture agrees with, so a part whose colour changed
    does not bend it."""

    mask: np.ndarray  # H x W, the pixels used
    levels: np.ndarray  # G x 3, each group's colour in the reference
    group: np.ndarray  # the group of every masked pixel
    counts: np.ndarray  # G

    @classmethod
    def of(cls, reference: np.ndarray, mask: np.ndarray) -> ColourGroups:
        mask = mask & flat_pixels(reference)
        rgb = np.asarray(reference, np.int64)[mask]
        keys, group, counts = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2], return_inverse=True,
                                        return_counts=True)
        levels = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.float64)
        return cls(mask, levels, group, counts)

    def fit(self, observed: np.ndarray) -> ColourFit:
        """The colour change from the reference to `observed` (H x W x 3, lined up with the reference)."""
        big = self.counts >= MIN_GROUP
        if not big.any():
            return ColourFit(np.ones(3), np.zeros(3))
        sums = np.stack([np.bincount(self.group, weights=observed[..., c][self.mask], minlength=len(self.counts))
                         for c in range(3)], axis=1)
        means = sums[big] / self.counts[big, None]
        lines = [_channel_line(self.levels[big, c], means[:, c], self.counts[big].astype(np.float64))
                 for c in range(3)]
        return ColourFit(np.array([g for g, _ in lines]), np.array([o for _, o in lines]))
