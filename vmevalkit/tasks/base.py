"""The interface of a built-in reasoning task: a deterministic generator and an exact scorer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from PIL import Image

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.video import Video


@dataclass(frozen=True, eq=False)
class Generated:
    """A generated question and its solution video (written as ground_truth.mp4 for the oracle)."""

    question: Question
    solution: Video


class Task(ABC):
    """A built-in task. `generate` is a pure function of (seed, difficulty): same inputs, same bytes.

    Generated questions carry `metadata["task"] = name`, `metadata["task_version"]` and a
    machine-readable solution, so `score` can judge any video made for them."""

    name: str
    version: str
    description: str
    difficulties: tuple[str, ...] = ("easy", "medium", "hard")
    scorer_revision: int = 0  # raised when the scorer changes and the questions do not

    @property
    def scorer_version(self) -> str:
        """The version recorded with every score: the task's, plus the scorer's revision once it has one, so
        scores made by an earlier scorer are redone and questions of the same task version still count."""
        return f"{self.version}.{self.scorer_revision}" if self.scorer_revision else self.version

    @abstractmethod
    def generate(self, seed: int, difficulty: str) -> Generated:
        """Make one question (first frame, prompt, final frame, metadata with the solution) and its solution video."""

    @abstractmethod
    def score(self, question: Question, video: Video) -> Score:
        """Judge `video`, already mapped back to the question's geometry, from its final state."""

    @abstractmethod
    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """A final frame in a deliberately wrong state (for validating the scorer)."""

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The correct final frame with a part the task must leave alone changed as well (for validating the
        consistency check: the scorer must say correct and inconsistent)."""
        raise NotImplementedError(f"task {self.name} has no consistency check yet")
