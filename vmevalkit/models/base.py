"""The interface every video model backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from PIL import Image

from vmevalkit.questions import Question
from vmevalkit.video import Video


class VideoModel(ABC):
    """A loaded model. It is built once and `generate` is called for many questions.

    `resolution` is the (width, height) the model works at; the runner fits each first frame to it
    (see vmevalkit.geometry) before calling `generate`. None means the question's own size.
    `settings` holds every generation argument; together with the model id, the weights and the
    question it identifies a result, so a rerun with other settings never reuses old videos."""

    id: str
    resolution: tuple[int, int] | None = None

    @property
    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Every argument that changes the output (steps, guidance, fps, frames, ...), JSON-serialisable."""

    def describe(self) -> dict[str, Any]:
        """What to record about the loaded model: weights file and hash, device, dtype, untrained flag."""
        return {}

    @abstractmethod
    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        """Make a video for `question`; `image` is its first frame already fitted to `resolution`."""
