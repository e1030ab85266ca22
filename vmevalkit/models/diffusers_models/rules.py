"""The settings check of a diffusers model, run before its weights are loaded: the family's size and
frame-count rules, what the checkpoint's config fixes (`facts`), and the memory settings' choices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.models.diffusers_models.families import DTYPE_CHOICES, OFFLOAD_CHOICES, Family

# `facts` keys, read from the checkpoint's component configs by the resolver (or written in a built-in spec):
FIXED_SIZE = "fixed_size"  # [height, width] the transformer's learned position embeddings allow (CogVideoX 1.0)
BUCKET_SIZE = "bucket_size"  # HunyuanVideo 1.5: the transformer's target_size; the pipeline picks a size bucket


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_timesteps(text: str) -> list[float]:
    """`"1000,993,0.03"` -> [1000.0, 993.0, 0.03]; an empty text is no list."""
    return [float(part) for part in text.split(",") if part.strip()]


def size_buckets(target_size: int) -> list[tuple[int, int]]:
    """The (height, width) buckets HunyuanVideo 1.5 chooses among (its pipeline's own list)."""
    from diffusers.pipelines.hunyuan_video1_5.image_processor import generate_crop_size_list

    return [(h, w) for w, h in generate_crop_size_list(base_size=target_size, patch_size=16)]


def _frame_problem(family: Family, frames: Any) -> str | None:
    step = family.frames_step
    if not _whole(frames) or frames < 2 or (frames - 1) % step:
        if step == 1:
            return f"frames must be a whole number >= 2 (got {frames!r})"
        low = max(1, (frames - 1) // step) * step + 1 if _whole(frames) else 1 + 4 * step
        return (f"frames must be {step}k+1 for {family.title} (the VAE packs {step} frames per latent after the "
                f"first), e.g. {low} or {low + step} (got {frames!r})")
    return None


def _size_problems(family: Family, settings: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in ("height", "width"):
        value = settings[key]
        if not _whole(value) or value < family.size_multiple or value % family.size_multiple:
            problems.append(f"{key} must be a multiple of {family.size_multiple} ({family.size_reason}; "
                            f"got {value!r})")
    if problems:
        return problems
    size = (settings["height"], settings["width"])
    if FIXED_SIZE in facts and size != tuple(facts[FIXED_SIZE]):
        h, w = facts[FIXED_SIZE]
        problems.append(f"height x width must be {h}x{w}: its transformer's learned position embeddings allow only "
                        f"that size (got {size[0]}x{size[1]})")
    if BUCKET_SIZE in facts and size not in size_buckets(int(facts[BUCKET_SIZE])):
        near = sorted(size_buckets(int(facts[BUCKET_SIZE])), key=lambda b: abs(b[0] / b[1] - size[0] / size[1]))
        problems.append(f"height x width must be one of the pipeline's {facts[BUCKET_SIZE]}-pixel size buckets "
                        f"(it picks the bucket nearest the first frame's shape), e.g. "
                        f"{', '.join(f'{h}x{w}' for h, w in near[:3])} (got {size[0]}x{size[1]})")
    return problems


def settings_problems(family: Family, settings: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """Every rule the settings break, each naming the setting and the rule."""
    problems = []
    if not _whole(settings["steps"]) or settings["steps"] < 1:
        problems.append(f"steps must be a whole number >= 1 (got {settings['steps']!r})")
    if not isinstance(settings["guidance"], (int, float)) or settings["guidance"] < 0:
        problems.append(f"guidance must be a number >= 0 (got {settings['guidance']!r})")
    if not isinstance(settings["fps"], (int, float)) or settings["fps"] <= 0:
        problems.append(f"fps must be > 0 (got {settings['fps']!r})")
    problem = _frame_problem(family, settings["frames"])
    if problem:
        problems.append(problem)
    problems += _size_problems(family, settings, facts)
    if settings["dtype"] not in DTYPE_CHOICES:
        problems.append(f"dtype must be one of {', '.join(DTYPE_CHOICES)} (got {settings['dtype']!r})")
    if settings["offload"] not in OFFLOAD_CHOICES:
        problems.append(f"offload must be one of {', '.join(OFFLOAD_CHOICES)} (got {settings['offload']!r})")
    if "timesteps" in settings and settings["timesteps"]:
        try:
            count = len(parse_timesteps(settings["timesteps"]))
        except ValueError:
            problems.append(f"timesteps must be numbers separated by commas (got {settings['timesteps']!r})")
        else:
            if count != settings["steps"]:
                problems.append(f"steps={settings['steps']} but timesteps lists {count}; give as many steps as "
                                "timesteps, or clear them (--set timesteps=) to space the steps evenly")
    return problems


def check_settings(model_id: str, family: Family, settings: Mapping[str, Any],
                   facts: Mapping[str, Any] | None = None) -> None:
    """Raise one UserError naming every broken rule, before anything is loaded."""
    problems = settings_problems(family, settings, facts or {})
    if problems:
        raise UserError(f"{model_id}: " + "; ".join(problems) + "; change it with --set key=value")
