"""The sampler arguments' rules, shared by the pipelines (their calls) and the runner (`--set`, before loading).

Plain Python, no torch: the runner checks settings before it imports or loads anything heavy."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable
from typing import Any

from vmevalkit.errors import UserError

# The training schedule of every LVDM config has 1000 timesteps; DDIM can take at most 999 of them.
MAX_STEPS = 999
TIMESTEP_SPACINGS = ("uniform", "uniform_trailing")
# The largest video (frames x height x width) a run may ask for: four times the largest official one
# (DynamiCrafter 1024: 16 x 576 x 1024). Its activations then need tens of GB even in half precision.
MAX_VIDEO_PIXELS = 4 * 16 * 576 * 1024
MAX_VIDEO_PIXELS_ENV = "VMEVALKIT_MAX_VIDEO_PIXELS"


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
        "frame_stride": (lambda v: is_whole(v) and v >= 1,
                         "a whole number >= 1 (the frame stride or fps the model is conditioned on)"),
        "timestep_spacing": (lambda v: v in TIMESTEP_SPACINGS, f"one of {', '.join(TIMESTEP_SPACINGS)}"),
        "guidance_rescale": (lambda v: is_finite(v) and 0 <= v <= 1, "a number from 0 to 1 (0: no rescale)"),
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


def max_video_pixels() -> int:
    """The video size limit: $VMEVALKIT_MAX_VIDEO_PIXELS when set, else MAX_VIDEO_PIXELS."""
    text = os.environ.get(MAX_VIDEO_PIXELS_ENV, "").strip()
    if not text:
        return MAX_VIDEO_PIXELS
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise UserError(f"{MAX_VIDEO_PIXELS_ENV}={text!r}: set it to a whole number of pixels >= 1 "
                        f"(frames x height x width; default {MAX_VIDEO_PIXELS})")
    return limit


def video_size_problem(frames: Any, height: Any, width: Any, names: tuple[str, str, str]) -> str | None:
    """A line naming the three sizes when frames x height x width is beyond `max_video_pixels()`, else None
    (sizes that are not whole positive numbers are left to their own rules)."""
    if not all(is_whole(v) and v >= 1 for v in (frames, height, width)):
        return None
    limit = max_video_pixels()
    if frames * height * width <= limit:
        return None
    return (f"{names[0]} x {names[1]} x {names[2]} = {frames} x {height} x {width} = {frames * height * width} "
            f"pixels is beyond the limit of {limit} (4 x the largest official video, 16 x 576 x 1024); ask for "
            f"fewer frames or a smaller size, or raise the limit with {MAX_VIDEO_PIXELS_ENV}")
