"""The sampler arguments' rules, shared by the pipeline (its call) and the runner (`--set`, before loading).

Plain Python, no torch: the runner checks settings before it imports or loads anything heavy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

# The training schedule of every VideoCrafter config has 1000 timesteps; DDIM can take at most 999 of them.
MAX_STEPS = 999


def is_whole(value: Any) -> bool:
    """An integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite(value: Any) -> bool:
    """A finite real number, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _rules(max_steps: int) -> dict[str, tuple[Callable[[Any], bool], str]]:
    whole_positive = (lambda v: is_whole(v) and v >= 1, "a whole number >= 1")
    return {
        "num_inference_steps": (lambda v: is_whole(v) and 1 <= v <= max_steps, f"a whole number from 1 to {max_steps}"),
        "guidance_scale": (lambda v: is_finite(v) and v >= 1, "a finite number >= 1 (1 turns guidance off)"),
        "eta": (lambda v: is_finite(v) and v >= 0, "a finite number >= 0 (0: deterministic DDIM)"),
        "fps": (lambda v: is_finite(v) and v > 0 and v == int(v), "a whole number > 0 (the model is conditioned on it)"),
        "num_frames": whole_positive,
        "decode_chunk": whole_positive,
    }


def argument_problems(values: dict[str, Any], max_steps: int = MAX_STEPS,
                      label: Callable[[str], str] = str) -> list[str]:
    """One line for each sampler argument in `values` ({pipeline argument name: value}) that breaks its rule,
    naming it as `label(name)` and saying what is allowed."""
    rules = _rules(max_steps)
    problems = []
    for name, value in values.items():
        ok, allowed = rules[name]
        if not ok(value):
            problems.append(f"{label(name)} must be {allowed} (got {value!r})")
    return problems
