"""How each model's videos were made, for the report: items made and failed (by failure kind), the
estimated spend of hosted models, the items a provider refused, and the suite the questions came from.

A refused item (the provider's content policy turned the request down) is the model's failure: the
leaderboard counts it as wrong (`REFUSED`), where any other failed item is left unscored.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.models.api.errors import REFUSED  # also the scorer name of a refused item's verdict
from vmevalkit.results import EXPERIMENT, ResultItem, error_kind, sample_suffix

OTHER_FAILURE = "error"  # the kind given to a failure that names none


def failure_kind(item: ResultItem) -> str | None:
    """The item's failure kind (`refused`, `timeout`, ...; `error` where none is named), None when it is ok."""
    return None if item.ok else error_kind(item.metadata) or OTHER_FAILURE


def estimated_cost(item: ResultItem) -> float:
    """The estimated price of the item's video (a hosted job's estimate; 0 for models that run locally)."""
    generation = item.metadata.get("generation")
    cost = generation.get("cost_estimate_usd") if isinstance(generation, dict) else None
    return float(cost) if isinstance(cost, (int, float)) and cost >= 0 else 0.0


def refused_row() -> dict[str, Any]:
    """The verdict that counts for a refused item: wrong, from no scorer but the provider's refusal."""
    return {"scorer": REFUSED, "correct": False, "consistent": None}


@dataclass
class Generation:
    """One model's items: how many, how many failed and why, what they cost, which were refused."""

    items: int = 0
    failures: Counter = field(default_factory=Counter)  # failure kind -> items
    cost_usd: float = 0.0
    refused: list[str] = field(default_factory=list)  # `<domain>_task/<question>[@k]` of each refused item

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def generation_by_model(items: list[ResultItem]) -> dict[str, Generation]:
    out: dict[str, Generation] = {}
    for item in items:
        tally = out.setdefault(item.model, Generation())
        tally.items += 1
        tally.cost_usd += estimated_cost(item)
        if (kind := failure_kind(item)) is not None:
            tally.failures[kind] += 1
            if kind == REFUSED:
                tally.refused.append(item.question_key + sample_suffix(item.sample))
    return out


def suites_of(experiment_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The distinct suites (name and hashes) the experiment's runs took their questions from."""
    data = json_object_or_none(Path(experiment_dir) / EXPERIMENT) or {}
    runs = data.get("runs") if isinstance(data.get("runs"), list) else []
    found: list[dict[str, Any]] = []
    for run in runs:
        suite = run.get("suite") if isinstance(run, dict) else None
        if isinstance(suite, dict) and isinstance(suite.get("name"), str):
            entry = {k: suite.get(k) for k in ("name", "definition_hash", "questions_hash", "questions", "complete")}
            if entry not in found:
                found.append(entry)
    return found
