"""Baselines (controls) that run beside every model, so every leaderboard carries its bounds.

- `static` is the lower bound: it holds the first frame, so it never solves anything that needs change.
- `oracle` is the upper bound: it shows the solution, so a scorer that fails it is broken.

Both work at the question's own size (`resolution = None`) and need no weights, GPU or torch."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from vmevalkit import limits
from vmevalkit.errors import UserError
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question
from vmevalkit.video import Video, read_mp4


class _Baseline(VideoModel):
    """A control: `frames` frames at `fps`, at the question's own size, no weights."""

    resolution = None
    min_frames = 1
    bound = ""

    def __init__(self, frames: int = 16, fps: float = 8) -> None:
        if frames < self.min_frames or not 0 < fps < float("inf"):
            raise UserError(f"{self.id}: frames must be >= {self.min_frames} and fps > 0 "
                            f"(got frames={frames}, fps={fps})")
        limits.FRAMES.check(frames, f"{self.id}: --set frames={frames}", "choose fewer frames")
        self.frames, self.fps = int(frames), fps

    def _check_size(self, image: Image.Image, frames: int) -> None:
        """Refuse, before any frame is made, a video over the pixel budget that every video read whole has."""
        (w, h) = image.size
        limits.VIDEO_PIXELS.check(w * h * frames, f"{self.id}: {frames} frames of {w}x{h}",
                                  "choose fewer frames (--set frames=N) or smaller question frames")

    @property
    def settings(self) -> dict[str, Any]:
        return {"frames": self.frames, "fps": self.fps}

    def describe(self) -> dict[str, Any]:
        return {"control": self.bound}


class StaticBaseline(_Baseline):
    """Lower-bound control: the first frame held for `frames` frames.

    This is exactly what the older kit's broken VideoCrafter wrapper produced while claiming to be a
    model; here it is named for what it is and kept as the floor every real model must beat."""

    id = "static"
    bound = "lower bound: first frame held"

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        self._check_size(image, self.frames)
        frame = np.asarray(image.convert("RGB"), dtype=np.uint8)
        return Video(np.repeat(frame[None], self.frames, axis=0), self.fps)


class OracleBaseline(_Baseline):
    """Upper-bound control: the question's solution video (ground_truth.mp4) at the question's size, or,
    when there is none, a linear cross-fade over `frames` frames from the first frame to the final frame."""

    id = "oracle"
    bound = "upper bound: shows the solution"
    min_frames = 2

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        if question.ground_truth is not None:
            solution = read_mp4(question.ground_truth)
            self._check_size(image, solution.num_frames)  # it is brought to the question's size
            return _resize_video(solution, image.size)
        if question.final_frame is None:
            raise UserError(f"oracle: question {question.key} has neither ground_truth.mp4 nor final_frame.png, "
                            "so there is no solution to show")
        self._check_size(image, self.frames)
        first = np.asarray(image.convert("RGB"), dtype=np.float32)
        final = np.asarray(question.final_frame.convert("RGB").resize(image.size, Image.Resampling.LANCZOS),
                           dtype=np.float32)
        weights = np.linspace(0.0, 1.0, self.frames, dtype=np.float32)[:, None, None, None]
        frames = np.rint(first[None] * (1 - weights) + final[None] * weights)
        return Video(np.clip(frames, 0, 255).astype(np.uint8), self.fps)


def _resize_video(video: Video, size: tuple[int, int]) -> Video:
    """Bring a solution video to `size` (w, h): drop the one-pixel padding mp4 adds to odd sizes, else resize."""
    (w, h), (vw, vh) = size, video.size
    if (vw, vh) == (w, h):
        return video
    if w <= vw <= w + 1 and h <= vh <= h + 1:
        return Video(np.ascontiguousarray(video.frames[:, :h, :w]), video.fps)
    return Video.from_images([video.frame(i).resize(size, Image.Resampling.BILINEAR)
                              for i in range(video.num_frames)], video.fps)
