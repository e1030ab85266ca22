"""How often the task-agnostic similarity scorer agrees with each built-in task's exact scorer.

    python benchmarks/scoring_agreement.py --n 20 --seed 0 [--tasks maze,sudoku] [--model-size 512x320]

For every registered task, N questions are generated (difficulties in turn) and four videos are
made per question: the solution (what `oracle` shows), the solution degraded by the task
validation's chain of distortions (blur, noise, JPEG, colour shift: `degraded`), the first frame
held (`static`) and an abrupt cut to a deliberately wrong final state (`wrong`). Each video goes through what a real run
does to it: fitted (letterbox) into the model's frame size, encoded as mp4, decoded and mapped back.
Both scorers then judge it; the table gives each scorer's pass rate per kind of video, and their
agreement (share of equal verdicts, Cohen's kappa) over all videos of the task.
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from vmevalkit.geometry import Fit
from vmevalkit.report.stats import agreement
from vmevalkit.scoring.similarity import SimilarityScorer
from vmevalkit.tasks import all_tasks
from vmevalkit.tasks.validation import all_distortions
from vmevalkit.video import Video, read_mp4, write_mp4

KINDS = ("oracle", "degraded", "static", "wrong")


def held(image, frames: int, fps: float) -> np.ndarray:
    return np.repeat(np.asarray(image.convert("RGB"), dtype=np.uint8)[None], frames, axis=0)


def through_model(video: Video, fit: Fit, work: Path) -> Video:
    """The video as a scorer sees it after a run: fitted to the model's size, mp4 round trip, mapped back."""
    fitted = Video.from_images([fit.apply(video.frame(i)) for i in range(video.num_frames)], video.fps)
    write_mp4(fitted, work / "video.mp4")
    return fit.invert_video(read_mp4(work / "video.mp4"))


def measure(task_name: str, n: int, seed: int, model_size: tuple[int, int], work: Path) -> dict:
    task = all_tasks()[task_name]
    verdicts = {kind: {"exact": [], "similarity": []} for kind in KINDS}
    errors = 0
    for i in range(n):
        level = task.difficulties[i % len(task.difficulties)]
        generated = task.generate(seed + i, level)
        q = generated.question
        fps = generated.solution.fps
        videos = {"oracle": generated.solution,
                  "degraded": all_distortions(generated.solution, np.random.default_rng([seed, i])),
                  "static": Video(held(q.first_frame, 16, fps), fps),
                  "wrong": Video(np.concatenate([held(q.first_frame, 8, fps),
                                                 held(task.wrong_final_frame(q, seed + i), 8, fps)]), fps)}
        fit = Fit.plan(q.first_frame, model_size, "letterbox")
        similarity = SimilarityScorer(fit.scaled_size)
        for kind, video in videos.items():
            seen = through_model(video, fit, work)
            exact, sim = task.score(q, seen), similarity.score(q, seen)
            verdicts[kind]["exact"].append(exact.correct)
            verdicts[kind]["similarity"].append(sim.correct)
            errors += sim.correct is None
    pairs = [(e, s) for kind in KINDS for e, s in zip(verdicts[kind]["exact"], verdicts[kind]["similarity"], strict=True)
             if e is not None and s is not None]
    return {"verdicts": verdicts, "agreement": agreement("exact", "similarity", pairs), "similarity_errors": errors}


def _rate(values: list) -> str:
    judged = [v for v in values if v is not None]
    return f"{sum(judged) / len(judged):.0%}" if judged else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="questions per task (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", help="comma-separated task names (default: every registered task)")
    parser.add_argument("--model-size", default="512x320", help="the model's frame size WxH (default 512x320)")
    args = parser.parse_args()
    names = args.tasks.split(",") if args.tasks else list(all_tasks())
    if not names:
        raise SystemExit("no built-in tasks are registered")
    size = tuple(int(v) for v in args.model_size.lower().split("x"))
    print(f"n={args.n} questions per task, seed {args.seed}, model size {size[0]}x{size[1]}; "
          f"{platform.platform()}, {platform.processor() or platform.machine()}\n")
    print("| task | exact: oracle / degraded / static / wrong pass | similarity: the same | "
          "agreement | Cohen's kappa | videos | similarity errors | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            start = time.perf_counter()
            m = measure(name, args.n, args.seed, size, Path(tmp))
            v, a = m["verdicts"], m["agreement"]
            kappa = "—" if math.isnan(a.kappa) else f"{a.kappa:.2f}"
            print(f"| {name} | " + " / ".join(_rate(v[k]["exact"]) for k in KINDS) + " | "
                  + " / ".join(_rate(v[k]["similarity"]) for k in KINDS)
                  + f" | {a.rate:.0%} | {kappa} | {a.items} | {m['similarity_errors']} | "
                  f"{time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
