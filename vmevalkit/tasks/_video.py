"""Building solution videos (what the `oracle` control shows) and held-frame videos."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from vmevalkit.video import Video

FPS = 8  # VideoCrafter's frame rate
HOLD_START = 4  # frames the question is shown before anything moves
HOLD_END = 6  # frames the answer is held, so a last-frames reader sees it settled


def solution_video(frames: Sequence[Image.Image], fps: float = FPS, hold_start: int = HOLD_START,
                   hold_end: int = HOLD_END) -> Video:
    """The first frame held, then every frame in order, then the last frame held."""
    frames = list(frames)
    return Video.from_images([frames[0]] * hold_start + frames + [frames[-1]] * hold_end, fps)


def held_video(image: Image.Image, n: int = 16, fps: float = FPS) -> Video:
    """One image held for `n` frames (a model that never moves)."""
    return Video(np.repeat(np.asarray(image.convert("RGB"), dtype=np.uint8)[None], n, axis=0), fps)


def cut_video(first: Image.Image, last: Image.Image, n: int = 8, fps: float = FPS) -> Video:
    """`first` held for `n` frames, then `last` held for `n` frames (an abrupt change of state)."""
    return Video(np.concatenate([held_video(first, n, fps).frames, held_video(last, n, fps).frames]), fps)


def ending_on(video: Video, last: Image.Image, n: int = HOLD_END) -> Video:
    """`video`, then `last` held for `n` frames (a solution whose final state was changed at the end)."""
    return Video(np.concatenate([video.frames, held_video(last, n, video.fps).frames]), video.fps)
