"""What every executor shares: the run's context, each model's share of the work, the tallies, and
`RunContext.publish`, the one way an item's outcome is turned into metadata, written and counted."""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from vmevalkit.errors import UserError
from vmevalkit.models import ModelSpec
from vmevalkit.runner.budget import Budget
from vmevalkit.runner.claims import Claims
from vmevalkit.runner.item import Produced, error_record, finish_metadata, item_metadata
from vmevalkit.runner.options import RunOptions
from vmevalkit.runner.plan import Item
from vmevalkit.runner.writer import Experiment
from vmevalkit.secrets import scrub


class DiskFullError(UserError):
    """The disk filled up mid-run: continuing would fail every item, so the run stops; a rerun resumes."""


@dataclass
class ModelTally:
    """One model's line in the summary table and the run record."""

    model: str
    note: str = ""
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    static: int = 0
    elsewhere: int = 0  # claimed by another process running the same experiment
    not_started: int = 0  # held back: over the --max-cost budget, or the model stopped (e.g. its key refused)
    seconds: float = 0.0
    load_s: list[float] = field(default_factory=list)  # per loaded copy (one per Ray actor)
    cost_usd: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)  # failure kind -> count

    @property
    def items_per_hour(self) -> float | None:
        made = self.ok + self.failed
        return made / self.seconds * 3600 if made and self.seconds > 0 else None


@dataclass
class ModelWork:
    """One model's part of a run: its spec, settings and the items left to make."""

    spec: ModelSpec
    settings: dict[str, Any]
    items: list[Item]
    tally: ModelTally
    stopped: str | None = None  # why the model's remaining items are not started


@dataclass
class RunContext:
    """Everything an executor needs besides the models: where to write, the options, claims, budget, progress."""

    exp: Experiment
    opts: RunOptions
    device: str
    versions: dict[str, Any]
    claims: Claims
    budget: Budget
    bar: Any
    say: Callable[[str], None]
    samples: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, work: ModelWork, item: Item) -> bool:
        """Whether to make `item` now: not if the model was stopped, the budget is spent, another process
        claims it, or it got finished meanwhile. Every False is counted and moves the bar."""
        reason = work.stopped
        if reason is None and not self.budget.reserve(work.spec, work.settings):
            reason = work.stopped = f"--max-cost {self.budget.limit:g} USD reached"
            self.say(f"{work.spec.id}: {reason}; its remaining items are not started")
        if reason is not None:
            return self._count(work, "not_started")
        if not self.claims.take(item.name):
            return self._count(work, "elsewhere", release=(work.spec, work.settings))
        if self.exp.finished(item) is not None:
            self.claims.release(item.name)
            return self._count(work, "skipped", release=(work.spec, work.settings))
        return True

    def _count(self, work: ModelWork, what: str, release=None) -> bool:
        if release is not None:
            self.budget.settle(*release, actual=0.0)
        with self._lock:
            setattr(work.tally, what, getattr(work.tally, what) + 1)
        self.bar.update(1)
        return False

    def publish(self, work: ModelWork, item: Item, described: dict[str, Any], produced: Produced,
                load_seconds: float | None) -> None:
        """Write an item's outcome, release its claim and count it; a disk-full write stops the run."""
        spec, tally = work.spec, work.tally
        meta = item_metadata(self.exp.name, spec, described, work.settings, item, self.samples, self.device,
                             self.opts.dtype, self.opts.seed, self.opts.fit, self.versions)
        finish_metadata(meta, produced, load_seconds)
        cost = float((produced.video.info if produced.video is not None else {}).get("cost_usd") or 0.0)
        self.budget.settle(spec, work.settings, actual=cost)
        if not produced.ok:
            self.say(f"{item.model} {item.path}: failed: {meta['error']['type']}: {meta['error']['message']}")
        written = True
        try:
            self.exp.write(item, meta, produced.video, produced.model_input)
        except Exception as e:  # noqa: BLE001 -- the item stays unfinished; the run goes on (unless the disk is full)
            written = False
            self.say(scrub(f"{item.model} {item.path}: could not write the result: {type(e).__name__}: {e}"))
            if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(f"no space left on device under {self.exp.dir}; free some space and rerun "
                                    "(finished items are kept and the rerun resumes)") from e
        finally:
            self.claims.release(item.name)
        ok = written and produced.ok
        kind = produced.error_kind
        with self._lock:
            tally.ok += ok
            tally.failed += not ok
            tally.static += ok and bool(meta["motion"]["static"])
            tally.cost_usd += cost
            if kind:
                tally.failures[kind] = tally.failures.get(kind, 0) + 1
        if kind == "auth" and work.stopped is None:
            work.stopped = "its API key was refused"
            self.say(f"{spec.id}: {work.stopped}; its remaining items are not started")
        self.bar.update(1)

    def fail_load(self, work: ModelWork, e: BaseException) -> None:
        """Record a model that could not load: each of its items fails with the load error."""
        self.say(scrub(f"{work.spec.id}: could not load: {type(e).__name__}: {e}"))
        error = error_record(e, "load")
        for item in work.items:
            if self.begin(work, item):
                self.publish(work, item, {}, Produced({"status": "failed", "error": error}), None)


def timed() -> Callable[[], float]:
    """A stopwatch: call the result to get the seconds since it was made."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
