"""Scale-out overhead: the Ray executor with 1, 4, 8, 16 actors over a few hundred items of a model that only
sleeps (no compute), so what is measured is the kit's scheduling and writing, not the model; and the local
executor's per-item overhead (a model that returns at once).

    python benchmarks/scaleout.py --items 200 --sleep 1 --actors 1,4,8,16

Efficiency at N actors = T1 / (N * TN): 1.0 means N actors finish N times sooner. "wall" includes starting the
actors; "steady" runs from the first item's end to the last's (actor start-up left out)."""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question, write_question
from vmevalkit.results import iter_items
from vmevalkit.runner import RunOptions, run_experiment
from vmevalkit.video import Video


class SleepingModel(VideoModel):
    """Holds the first frame for 2 frames after sleeping `sleep` seconds."""

    def __init__(self, sleep: float) -> None:
        self.sleep = sleep

    @property
    def settings(self):
        return {"sleep": self.sleep}

    def generate(self, question, image, *, seed, progress=True):
        time.sleep(self.sleep)
        frame = np.asarray(image.convert("RGB"))
        return Video(np.stack([frame, frame]), 8)


register_model(ModelSpec("sleeping", "benchmark", "i2v", "sleeps, then holds the first frame",
                         build=lambda spec, settings, *rest: SleepingModel(settings["sleep"]),
                         defaults={"sleep": 1.0}))


def make_questions(root: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        image = Image.fromarray(rng.integers(0, 255, (32, 48, 3), dtype=np.uint8))
        write_question(Question(id=f"q{i:04d}", domain="bench", prompt="p", first_frame=image), root)
    return root


def timed_run(out: Path, questions: Path, sleep: float, ray: str | None, actors: int | None) -> tuple[float, float]:
    """(wall seconds, steady seconds) of one run of the sleeping model over every question."""
    overrides = {"sleep": str(sleep)}
    if actors is not None:
        overrides.update(actors=str(actors), cpus=str(min(1.0, 2 / actors)))
    opts = RunOptions(models=["sleeping"], questions=questions, output_dir=out, experiment="bench", controls=False,
                      overrides=overrides, progress=False, score=False, ray=ray)
    start = time.perf_counter()
    run_experiment(opts, out=io.StringIO())
    wall = time.perf_counter() - start
    ends = sorted(os.path.getmtime(item.folder / "metadata.json") for item in iter_items(out / "bench"))
    return wall, ends[-1] - ends[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds each item sleeps on Ray")
    parser.add_argument("--actors", default="1,4,8,16")
    parser.add_argument("--local-items", type=int, default=200, help="items for the local per-item overhead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        questions = make_questions(root / "questions", max(args.items, args.local_items))
        local_qs = make_questions(root / "local-questions", args.local_items)
        wall, _ = timed_run(root / "local", local_qs, 0.0, None, None)
        print(f"local executor, {args.local_items} items of a model that returns at once: "
              f"{wall / args.local_items * 1000:.1f} ms per item (planning, claim, fit, mp4 + png + metadata, publish)")
        import ray

        ray.cloudpickle.register_pickle_by_value(__import__(__name__))
        ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False,
                 _node_ip_address="127.0.0.1")
        subset = make_questions(root / "ray-questions", args.items) if args.items < len(list(
            questions.glob("*/*"))) else questions
        print(f"\nRay, {args.items} items sleeping {args.sleep:g} s each "
              f"(ideal T1 = {args.items * args.sleep:.0f} s), {os.cpu_count()} CPUs")
        print("| actors | wall s | steady s | efficiency (wall) | efficiency (steady) |")
        print("|---|---|---|---|---|")
        results = {}
        for n in [int(a) for a in args.actors.split(",")]:
            results[n] = timed_run(root / f"ray-{n}", subset, args.sleep, "auto", n)
            t1 = results.get(1, (args.items * args.sleep,) * 2)
            wall, steady = results[n]
            ideal_steady = t1[1] / n
            print(f"| {n} | {wall:.1f} | {steady:.1f} | {t1[0] / (n * wall):.3f} | "
                  f"{ideal_steady / steady if steady else float('nan'):.3f} |", flush=True)
        ray.shutdown()
        print(json.dumps({str(k): v for k, v in results.items()}))


if __name__ == "__main__":
    main()
