"""Test-only models, registered by `register()`; run as a script it registers them and is the `vmevalkit` CLI:
`python tests/models_for_tests.py run --models counting ...` (for tests that start real processes).

- `counting`: holds the first frame; every generate call appends one line to $VMEVALKIT_TEST_CALLS, so a test
  can count how often each item was made across processes; sleeps $VMEVALKIT_TEST_SLEEP seconds per item.
- `priced`: `counting` with a price of 0.25 USD per item, for --max-cost and --dry-run.
- `crashing`: `counting` that SIGKILLs its own process on the first item it makes while the file named by
  $VMEVALKIT_TEST_CRASH_ONCE does not exist yet (it creates it first): a worker lost mid-item."""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel
from vmevalkit.video import Video


class CountingModel(VideoModel):
    def __init__(self, frames: int = 3, crash: bool = False) -> None:
        self.frames, self.crash = frames, crash

    @property
    def settings(self):
        return {"frames": self.frames}

    def generate(self, question, image, *, seed, progress=True):
        marker = os.environ.get("VMEVALKIT_TEST_CRASH_ONCE")
        if self.crash and marker and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        calls = os.environ.get("VMEVALKIT_TEST_CALLS")
        if calls:
            fd = os.open(calls, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, f"{self.id} {question.key} {seed} {os.getpid()}\n".encode())
            os.close(fd)
        time.sleep(float(os.environ.get("VMEVALKIT_TEST_SLEEP", "0")))
        frame = np.asarray(image.convert("RGB"), dtype=np.uint8)
        shifted = [np.roll(frame, i, axis=1) for i in range(self.frames)]
        return Video(np.stack(shifted), 8, info={"cost_usd": 0.25} if self.id == "priced" else {})


def _build(spec, settings, device, dtype, weights):
    return CountingModel(settings["frames"], crash=spec.id == "crashing")


def register() -> None:
    for model_id, price in (("counting", None), ("priced", 0.25), ("crashing", None)):
        register_model(ModelSpec(model_id, "test", "i2v", "test-only model", build=_build, defaults={"frames": 3},
                                 price=(lambda settings, p=price: p) if price else None), replace=True)


if __name__ == "__main__":
    from vmevalkit.cli import main

    register()
    sys.exit(main(sys.argv[1:]))
