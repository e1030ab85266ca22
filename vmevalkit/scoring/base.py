"""The Score value every scorer returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one video.

    `correct` is the verdict (None when the scorer could not judge, with `error` saying why);
    `score` is a number in [0, 1] where the scorer has one; `details` says what the scorer read.
    `consistent` is whether the parts of the scene the task must leave alone stayed put (the maze walls, a
    Sudoku's givens), None where the scorer does not check it; it is reported beside `correct`, never
    blended into it (`details["consistency"]` says what was checked)."""

    scorer: str
    version: str
    correct: bool | None
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    consistent: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
