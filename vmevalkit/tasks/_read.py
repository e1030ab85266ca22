"""Reading a video's final state back: last-frame medians, colour masks, glyph template matching.

Everything here is meant to survive what video models do to frames: resampling (fit to the
model's size and back), blur, noise, JPEG artefacts and small colour shifts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from vmevalkit.tasks._draw import Box
from vmevalkit.video import Video

LAST_FRAMES = 3  # the final state is the per-pixel median of this many last frames


def frames_at(video: Video, size: tuple[int, int]) -> np.ndarray:
    """All frames as float32 T x H x W x 3 at `size` (w, h), resized only if the video differs."""
    if video.size == size:
        return video.frames.astype(np.float32)
    return np.stack([np.asarray(video.frame(i).resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
                     for i in range(video.num_frames)])


def final_state(video: Video, size: tuple[int, int], k: int = LAST_FRAMES) -> np.ndarray:
    """The video's final state: per-pixel median of its last `k` frames, float32 H x W x 3 at `size`.

    A video shorter than `k` frames uses an odd number of its last frames (a 2-frame video: its last
    frame), so the state is always one a frame shows, never the average of two different states."""
    count = k if video.num_frames >= k else video.num_frames - (1 - video.num_frames % 2)
    tail = Video(video.frames[-count:], video.fps)
    return np.median(frames_at(tail, size), axis=0)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def crop(array: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return array[y0:y1, x0:x1]


def red_mask(rgb: np.ndarray, margin: float = 60.0) -> np.ndarray:
    """Pixels clearly red: red exceeds both green and blue by `margin` grey levels."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r - np.maximum(g, b) > margin) & (r > 120)


def blurred(gray: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian-blur a 2D float array (values 0..255) through PIL, keeping float precision enough."""
    im = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), mode="L")
    return np.asarray(im.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32)


def _normalised(a: np.ndarray) -> np.ndarray:
    """Zero mean and unit norm over the last two axes (all zeros where an array is flat)."""
    a = a - a.mean(axis=(-2, -1), keepdims=True)
    norm = np.sqrt((a * a).sum(axis=(-2, -1), keepdims=True))
    return a / np.maximum(norm, 1e-6)


def ncc_scores(patch: np.ndarray, templates: np.ndarray, max_shift: int = 2) -> np.ndarray:
    """For each of K templates (K x H x W), the best normalised cross-correlation with the H x W
    `patch` over shifts up to `max_shift` px (the templates' borders are left out so all shifts fit)."""
    s = max_shift
    cores = _normalised(templates[:, s:templates.shape[1] - s, s:templates.shape[2] - s])
    windows = _normalised(np.lib.stride_tricks.sliding_window_view(patch, cores.shape[1:]))
    return np.einsum("ijhw,khw->kij", windows, cores).reshape(len(cores), -1).max(axis=1)


@dataclass(frozen=True)
class GlyphMatch:
    label: str
    score: float  # normalised cross-correlation with the best template, -1..1
    margin: float  # best score minus the runner-up's


class GlyphReader:
    """Reads which of a few glyphs a patch shows by template matching against our own rendering.

    `render(label)` draws the patch exactly as the task draws it (same font, size and position);
    templates and patches go through the same blur, and the match is the best normalised
    cross-correlation over small shifts, so contrast, brightness and colour changes do not matter."""

    def __init__(self, labels: list[str], render: Callable[[str], np.ndarray], sigma: float = 1.0,
                 max_shift: int = 2):
        self.sigma, self.max_shift = sigma, max_shift
        self.labels = list(labels)
        self.templates = np.stack([self._features(render(label)) for label in self.labels])

    def _features(self, rgb: np.ndarray) -> np.ndarray:
        return blurred(luminance(rgb), self.sigma)

    def read(self, rgb: np.ndarray) -> GlyphMatch:
        scores = ncc_scores(self._features(rgb), self.templates, self.max_shift)
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        runner_up = float(scores[order[1]]) if len(order) > 1 else -1.0
        return GlyphMatch(self.labels[order[0]], round(best, 4), round(best - runner_up, 4))
