"""The Score value every scorer returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one video.

    `correct` is the verdict (None when the scorer could not judge, with `error` saying why);
    `score` is a number in [0, 1] where the scorer has one; `details` says what the scorer read."""

    scorer: str
    version: str
    correct: bool | None
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
