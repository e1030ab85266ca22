"""The bounds on every input and every count the kit accepts, each raisable with an environment variable.

Each limit is checked before the work it bounds: an image's pixel count and file size from its header and
its directory entry, a video's width x height x frames from its container header, a count of questions
or resamples before anything is generated. Over the limit is one UserError naming the file or flag, the
limit and the variable that raises it. docs/kit.md ("Limits") lists them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from vmevalkit.errors import UserError


@dataclass(frozen=True)
class Limit:
    """A positive integer bound: `default`, unless the environment variable `env` sets another."""

    env: str
    default: int
    unit: str  # what is counted, for messages: "pixels", "bytes", "frames", ...

    @property
    def value(self) -> int:
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise UserError(f"{self.env}={raw!r} must be a positive whole number of {self.unit} "
                            f"(the default is {self.default})")
        return value

    def check(self, amount: int, what: str, fix: str = "") -> None:
        """Raise UserError when `amount` (of `what`: a file, a flag) is over the limit."""
        limit = self.value
        if amount > limit:
            raise UserError(f"{what}: {amount:,} {self.unit} is over the limit of {limit:,}; "
                            + (f"{fix}, or " if fix else "") + f"raise the limit with {self.env}={amount}")


MIB = 1 << 20

# A first or final frame: 8192 x 8192 (64 Mi pixels, 192 MiB as RGB), and a file of at most 128 MiB.
IMAGE_PIXELS = Limit("VMEVALKIT_MAX_IMAGE_PIXELS", 8192 * 8192, "pixels")
IMAGE_BYTES = Limit("VMEVALKIT_MAX_IMAGE_BYTES", 128 * MIB, "bytes")
# prompt.txt and question_metadata.json.
TEXT_BYTES = Limit("VMEVALKIT_MAX_TEXT_BYTES", 16 * MIB, "bytes")
# A video read whole (ground_truth.mp4, a model's video.mp4): width x height x frames, 2^28 pixels
# (768 MiB as RGB; e.g. 128 frames of 1920 x 1080), and a file of at most 1 GiB.
VIDEO_PIXELS = Limit("VMEVALKIT_MAX_VIDEO_PIXELS", 1 << 28, "pixels")
VIDEO_BYTES = Limit("VMEVALKIT_MAX_VIDEO_BYTES", 1024 * MIB, "bytes")
# The controls' `frames` setting.
FRAMES = Limit("VMEVALKIT_MAX_FRAMES", 1024, "frames")
# Questions per task (`--n`) and bootstrap resamples (`report --resamples`).
QUESTIONS_PER_TASK = Limit("VMEVALKIT_MAX_N", 10_000, "questions")
# Questions in one run (`run --limit`) and videos per question (`run --samples`).
QUESTIONS = Limit("VMEVALKIT_MAX_QUESTIONS", 1_000_000, "questions")
SAMPLES = Limit("VMEVALKIT_MAX_SAMPLES", 1000, "samples")
RESAMPLES = Limit("VMEVALKIT_MAX_RESAMPLES", 100_000, "resamples")
# Items `vmevalkit score --workers` judges at once (each holds its question and video in memory).
WORKERS = Limit("VMEVALKIT_MAX_WORKERS", 64, "workers")
# One reply of the VLM judge's endpoint (a rating and a sentence or two are a few hundred bytes).
REPLY_BYTES = Limit("VMEVALKIT_MAX_REPLY_BYTES", 8 * MIB, "bytes")
ALL = (IMAGE_PIXELS, IMAGE_BYTES, TEXT_BYTES, VIDEO_PIXELS, VIDEO_BYTES, FRAMES, QUESTIONS_PER_TASK, QUESTIONS,
       SAMPLES, RESAMPLES, WORKERS, REPLY_BYTES)

# Set to 1 to shrink an image over IMAGE_PIXELS to fit instead of refusing it.
DOWNSCALE_IMAGES_ENV = "VMEVALKIT_DOWNSCALE_IMAGES"


def check_environment() -> None:
    """UserError naming the first limit variable that is set to something other than a positive whole number
    (the CLI checks them all at its start, rather than failing on the first file they bound)."""
    for limit in ALL:
        limit.value  # noqa: B018 -- reading it validates it


def downscale_images() -> bool:
    return os.environ.get(DOWNSCALE_IMAGES_ENV, "").strip().lower() in ("1", "true", "yes")


def check_count(flag: str, value: int, limit: Limit, minimum: int = 1) -> int:
    """`value` of a counting flag (`--n`, `--limit`, ...) when it is from `minimum` to the limit, else UserError
    naming the flag."""
    if value < minimum:
        raise UserError(f"{flag} must be at least {minimum}, got {value}")
    limit.check(value, flag)
    return value
