"""A task-agnostic scorer for any question with a first and an expected final frame.

It looks only where the expected final frame differs from the first frame (the "change mask"),
so a video that holds the first frame scores 0 however similar the two frames are overall:

- `changed`: the share of the change mask (weighted by how much each pixel changes) where the
  video's frame is closer to the expected final frame than half the expected change;
- `kept`: the share of the rest of the frame that still matches the expected final frame;
- `score = changed * kept`, taken as the best of the video's last few frames; correct when
  `score >= THRESHOLD`.

Frames are compared after a box-filter downscale to at most `COMPARE_SIDE`, and to at most half
the detail the model saw (the question image's size inside the model's frame), which evens out
compression noise, sub-pixel shifts and the blur of working at a low resolution.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.video import Video

NAME = "similarity"
VERSION = "1"
COMPARE_SIDE = 256  # pixels: frames are box-downscaled so that their longest side is at most this
CHANGE_LEVEL = 20.0  # grey levels (RMS over RGB): a pixel is in the change mask above this
KEEP_LEVEL = 30.0  # grey levels: outside the mask, a pixel is kept when it is this close to expected
MIN_CHANGED_SHARE = 0.001  # below this share of changed pixels the question cannot be scored this way
LAST_FRAMES = 3  # the best of the video's last frames counts
THRESHOLD = 0.75  # calibrated on built-in tasks: a wrong state that gets half the change right scores ~0.5


def compare_size(size: tuple[int, int], seen_size: tuple[int, int] | None = None) -> tuple[int, int]:
    """The size frames are compared at: `size`, shrunk to COMPARE_SIDE and to half of `seen_size`."""
    w, h = size
    side = min(COMPARE_SIDE, max(seen_size or size) / 2) if seen_size else COMPARE_SIDE
    s = min(1.0, side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _pixels(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BOX), dtype=np.float32)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel RMS colour distance, in grey levels."""
    return np.sqrt(((a - b) ** 2).mean(axis=-1))


class SimilarityScorer:
    """Scores how far a video's last frames went from the first frame to the expected final frame."""

    name = NAME
    version = VERSION
    retry_errors = False
    last_frames = LAST_FRAMES

    def __init__(self, seen_size: tuple[int, int] | None = None):
        """`seen_size`: the question image's (width, height) inside the model's frame, where known."""
        self.seen_size = seen_size

    def score(self, question: Question, video: Video) -> Score:
        if question.final_frame is None:
            return Score(NAME, VERSION, None, error=f"question {question.key} has no final_frame.png; "
                         "this scorer needs the expected final frame (use --scorer vlm or human review)")
        size = compare_size(question.first_frame.size, self.seen_size)
        first = _pixels(question.first_frame, size)
        expected = _pixels(question.final_frame, size)
        change = _distance(expected, first)
        mask = change > CHANGE_LEVEL
        changed_share = float(mask.mean())
        if changed_share < MIN_CHANGED_SHARE:
            return Score(NAME, VERSION, None, details={"changed_share": round(changed_share, 5)},
                         error=f"question {question.key}: final_frame.png is (nearly) the same as first_frame.png, "
                         "so matching it cannot tell a solved video from a still one")
        weight = np.where(mask, change, 0.0)
        frames = []
        for index in range(max(0, video.num_frames - LAST_FRAMES), video.num_frames):
            to_expected = _distance(_pixels(video.frame(index), size), expected)
            changed = float((weight * (to_expected < 0.5 * change)).sum() / weight.sum())
            kept = float((to_expected[~mask] < KEEP_LEVEL).mean()) if (~mask).any() else 1.0
            frames.append({"frame": index, "changed": round(changed, 4), "kept": round(kept, 4),
                           "score": round(changed * kept, 4)})
        best = max(frames, key=lambda f: f["score"])
        return Score(NAME, VERSION, best["score"] >= THRESHOLD, best["score"], details={
            "frame": best["frame"], "changed": best["changed"], "kept": best["kept"],
            "changed_share": round(changed_share, 5), "compared_at": list(size), "threshold": THRESHOLD,
            "frames": frames})
