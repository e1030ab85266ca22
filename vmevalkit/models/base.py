"""The interface every video model backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from PIL import Image

from vmevalkit.questions import Question
from vmevalkit.video import Video


class VideoModel(ABC):
    """A loaded model. It is built once and `generate` is called for many questions.

    `resolution` is the (width, height) the model works at; the runner fits each first frame to it
    (see vmevalkit.geometry) before calling `generate`. None means the question's own size.
    `settings` holds every generation argument; together with the model id, the weights and the
    question it identifies a result, so a rerun with other settings never reuses old videos.

    `workdir` is set by the runner, before the first `generate`, to a folder of the experiment that is kept
    across reruns: the place for state that must outlive a killed run (a hosted model's job ledger).
    `generate` may put what it learned about one call (a provider's job id, its cost, the arguments it
    really used) in the returned Video's `info`; the runner records it in that item's metadata."""

    id: str
    resolution: tuple[int, int] | None = None
    workdir: Path | None = None

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
