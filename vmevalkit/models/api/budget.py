"""A run's spending cap (`--max-cost USD`): hosted models reserve a job's estimated cost right before they
create it, so no request is sent once the estimated spend would pass the cap. Jobs already paid for (found
in the ledger) are polled and downloaded without touching the budget."""

from __future__ import annotations

import threading

from vmevalkit.errors import UserError


class BudgetExceeded(UserError):
    """A job was not created because its estimated cost would pass the run's cap (or its price is unknown).
    Not a model failure: the item stays unfinished and a rerun with a larger cap makes it."""


class Budget:
    """`max_usd` to spend across every hosted model of a run; thread-safe."""

    def __init__(self, max_usd: float) -> None:
        if not max_usd >= 0:
            raise UserError(f"--max-cost {max_usd}: give an amount in USD >= 0")
        self.max_usd = float(max_usd)
        self.spent = 0.0
        self.refused = 0  # jobs not created because of the cap
        self._lock = threading.Lock()

    def reserve(self, model_id: str, usd: float | None) -> None:
        """Count `usd` against the cap, or raise BudgetExceeded (also when the price is unknown)."""
        with self._lock:
            if usd is None:
                self.refused += 1
                raise BudgetExceeded(f"{model_id}: no price is known, so --max-cost cannot bound it; add it to the "
                                     "price file named by VMEVALKIT_PRICES (see docs/hosted.md)")
            if self.spent + usd > self.max_usd + 1e-9:
                self.refused += 1
                raise BudgetExceeded(f"{model_id}: not submitted: ${usd:.2f} more would bring the estimated spend to "
                                     f"${self.spent + usd:.2f}, over --max-cost ${self.max_usd:.2f}")
            self.spent += usd

    def release(self, usd: float | None) -> None:
        """Give back a reservation whose create request was refused (nothing was paid)."""
        if usd is not None:
            with self._lock:
                self.spent = max(0.0, self.spent - usd)
