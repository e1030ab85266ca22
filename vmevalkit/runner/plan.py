"""Planning, a pure step: models × questions × samples → items, each with its seed and result key.

An item is the unit of work everywhere (the local executor, claims, shards, Ray): one video of one model for
one question, sample k of K. Its result key hashes everything that changes the output (model, question
fingerprint, settings, seed, fit policy, weights revision), so a rerun reuses a result only when nothing that
matters changed. Sample 0 keeps the key and folder a run without samples gives, so adding `--samples` to an
experiment reuses what it already has."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.questions import Question
from vmevalkit.results import sample_suffix



@dataclass(frozen=True, eq=False)
class Item:
    """One unit of work: sample `sample` of model `model` on `question`."""

    model: str
    question: Question
    sample: int
    seed: int
    key: str  # the result key

    @property
    def path(self) -> str:
        """`<domain>_task/<id>` (sample 0) or `<domain>_task/<id>@<k>`: the item's folder under its model."""
        return self.question.key + sample_suffix(self.sample)

    @property
    def name(self) -> str:
        """`<model>/<path>`: unique within an experiment, used in messages, claims and shards."""
        return f"{self.model}/{self.path}"


def question_seed(run_seed: int, question: Question, sample: int = 0) -> int:
    """The seed of one sample of one question, derived from the run's seed, the question's key and the sample."""
    text = f"{run_seed}/{question.key}" + (f"/{sample}" if sample else "")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


def result_key(model_id: str, question: Question, settings: dict[str, Any], seed: int, fit_policy: str,
               sample: int = 0, revision: str | None = None) -> str:
    """What identifies a result: a rerun with the same key reuses it, any other key regenerates it."""
    fields: dict[str, Any] = {"model": model_id, "question": question.key, "fingerprint": question.fingerprint,
                              "settings": settings, "seed": seed, "fit": fit_policy}
    if sample:
        fields["sample"] = sample
    if revision:
        fields["revision"] = revision
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_items(model_id: str, settings: dict[str, Any], questions: list[Question], run_seed: int, fit_policy: str,
               samples: int = 1, revision: str | None = None, runtime: tuple[str, ...] = ()) -> list[Item]:
    """Every item of one model, question by question, sample by sample; `runtime` names the settings that do
    not change the video (left out of the key)."""
    settings = {k: v for k, v in settings.items() if k not in runtime}
    items = []
    for question in questions:
        for sample in range(samples):
            seed = question_seed(run_seed, question, sample)
            items.append(Item(model_id, question, sample, seed,
                              result_key(model_id, question, settings, seed, fit_policy, sample, revision)))
    return items


def parse_shard(text: str) -> tuple[int, int]:
    """`"I/N"` → (I, N) with 0 <= I < N, or a UserError naming --shard."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = -1
    if not sep or n < 1 or not 0 <= i < n:
        raise UserError(f"--shard {text}: write it as I/N with 0 <= I < N, e.g. --shard 0/4 "
                        "(Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-<N-1>)")
    return i, n


def shard_of(item: Item, count: int) -> int:
    """The shard an item belongs to among `count`: from its name, so every process agrees without talking."""
    return int.from_bytes(hashlib.sha256(item.name.encode()).digest()[:8], "big") % count


def in_shard(items: list[Item], shard: tuple[int, int] | None) -> list[Item]:
    """The items of shard (I, N); all of them when `shard` is None."""
    if shard is None:
        return items
    index, count = shard
    return [item for item in items if shard_of(item, count) == index]
