"""Stand-ins for the shared task toolkit (branch tasks-a) until it lands; to be replaced by it."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from vmevalkit.video import Video

SOLUTION_FPS = 8.0
LAST_FRAMES = 3


def task_rng(task: str, seed: int, difficulty: str) -> random.Random:
    """A generator seeded by a string, which Python hashes deterministically (unlike hash())."""
    return random.Random(f"{task}:{seed}:{difficulty}")


def solution_video(frames: list[Image.Image], hold: int = 4) -> Video:
    """The frames in order, the last one held for `hold` more frames."""
    return Video.from_images(frames + [frames[-1]] * hold, SOLUTION_FPS)


def final_state(video: Video) -> Image.Image:
    """The per-pixel median of the last frames: what the video settles on, robust to a stray frame."""
    tail = video.frames[-LAST_FRAMES:]
    return Image.fromarray(np.median(tail, axis=0).astype(np.uint8))
