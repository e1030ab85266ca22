"""`--max-cost`: the estimated spend of a run, reserved before each item starts and settled when it ends, so
that no item is started whose estimated price would take the run past the budget (items in flight count)."""

from __future__ import annotations

import threading
from typing import Any

from vmevalkit.models import ModelSpec


def item_price(spec: ModelSpec, settings: dict[str, Any]) -> float:
    """The estimated USD of one item of this model with these settings (0 for models that cost nothing)."""
    price = spec.price(settings) if spec.price is not None else None
    return float(price or 0.0)


class Budget:
    """The run's spending limit in USD (None: no limit) and what is reserved and spent against it."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.reserved = 0.0
        self.spent = 0.0
        self._lock = threading.Lock()

    def reserve(self, spec: ModelSpec, settings: dict[str, Any]) -> bool:
        """Reserve one item's price; False (nothing reserved) when that would pass the limit."""
        price = item_price(spec, settings)
        with self._lock:
            if self.limit is not None and price > 0 and self.spent + self.reserved + price > self.limit + 1e-9:
                return False
            self.reserved += price
            return True

    def settle(self, spec: ModelSpec, settings: dict[str, Any], actual: float) -> None:
        """End a reservation: `actual` is what the item really cost (0 for a job resumed from the ledger)."""
        with self._lock:
            self.reserved = max(0.0, self.reserved - item_price(spec, settings))
            self.spent += actual
