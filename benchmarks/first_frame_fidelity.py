"""How close a model's first video frame stays to the question's first frame (and its last frame to it).

    python benchmarks/first_frame_fidelity.py --models dynamicrafter-256 --tasks maze,sudoku --n 5
    python benchmarks/first_frame_fidelity.py --models dynamicrafter-512,videocrafter2-512 --device cuda

DynamiCrafter concatenates the first frame's latent to every frame's input, so with trained weights its
first decoded frame should be close to the image it was given; this prints, per model, the mean absolute
difference (0-255) and PSNR of the first and the last frame against the fitted input image, over generated
questions. The weights must be downloaded (`vmevalkit weights download <id>`); a GPU is advisable."""

from __future__ import annotations

import argparse
import math
import statistics

import numpy as np

from vmevalkit.geometry import Fit
from vmevalkit.models import load_model
from vmevalkit.tasks import get_task


def _error(frame: np.ndarray, image: np.ndarray) -> tuple[float, float]:
    """(mean absolute difference, PSNR in dB) of two uint8 images."""
    diff = frame.astype(np.float64) - image.astype(np.float64)
    mse = float(np.mean(diff ** 2))
    return float(np.mean(np.abs(diff))), (math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="dynamicrafter-256")
    ap.add_argument("--tasks", default="maze,sudoku,counting")
    ap.add_argument("--n", type=int, default=3, help="questions per task")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a model setting, e.g. steps=25")
    args = ap.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    print("| model | questions | first frame: mean abs diff / median PSNR dB | last frame: the same |")
    print("|---|---|---|---|")
    for model_id in args.models.split(","):
        model = load_model(model_id, device=args.device, overrides=overrides)
        first, last = [], []
        for task_name in args.tasks.split(","):
            task = get_task(task_name)
            for seed in range(args.n):
                question = task.generate(seed, task.difficulties[0]).question
                image = Fit.plan(question.first_frame, model.resolution).apply(question.first_frame)
                video = model.generate(question, image, seed=seed, progress=False)
                pixels = np.asarray(image.convert("RGB"))
                first.append(_error(video.frames[0], pixels))
                last.append(_error(video.frames[-1], pixels))
        summary = [f"{statistics.mean(e[0] for e in errs):.1f} / {statistics.median(e[1] for e in errs):.1f}"
                   for errs in (first, last)]
        print(f"| {model_id} | {len(first)} | {summary[0]} | {summary[1]} |")


if __name__ == "__main__":
    main()
