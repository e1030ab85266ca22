"""Validate every registered task's exact scorer on >= 50 generated questions and print the table.

    python benchmarks/validate_tasks.py --n 50 --seed 0 [--tasks maze,chess] [--jobs 2] [--markdown FILE]

Per task: oracle % correct, static (first frame held) % correct, wrong final state % caught,
oracle % correct under each distortion (fit to 512x320 letterbox and back, blur sigma 1 px,
noise sigma 5/255, JPEG q50, colour shift, all of them chained), whether generating the same
questions in a second, freshly spawned process gives byte-identical folders, and, where the task
checks consistency, oracle and static % consistent, the inconsistent oracle % caught (correct but
inconsistent) and the lowest % consistent over the distorted oracles ("n/a" for tasks without it)."""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from vmevalkit.tasks import all_tasks
from vmevalkit.tasks.validation import (
    COLUMNS,
    CONSISTENCY_COLUMNS,
    TaskValidation,
    deterministic_across_processes,
    table,
    validate_task,
)


def _validate(name: str, n: int, seed: int, work: str) -> tuple[TaskValidation, float]:
    start = time.perf_counter()
    result = validate_task(name, n, seed, Path(work) / "a")
    result.deterministic = deterministic_across_processes([name], n, seed, Path(work) / "a", Path(work) / "b")[name]
    return result, time.perf_counter() - start


def _machine() -> str:
    import chess
    import numpy
    import PIL
    return (f"{platform.platform()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
            f"Pillow {PIL.__version__}, numpy {numpy.__version__}, python-chess {chess.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="questions per task (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default=None, help="comma-separated task names (default: all registered)")
    parser.add_argument("--jobs", type=int, default=1, help="tasks validated in parallel processes")
    parser.add_argument("--out", type=Path, default=None, help="keep the generated questions here")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    names = args.tasks.split(",") if args.tasks else list(all_tasks())
    work = args.out or Path(tempfile.mkdtemp(prefix="vmevalkit-validate-"))
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(_validate, name, args.n, args.seed, str(work / name)) for name in names}
        results = []
        for name, future in futures.items():
            result, seconds = future.result()
            print(f"{name}: {len(result.checks)} questions validated in {seconds:.0f} s", file=sys.stderr)
            results.append(result)
    elapsed = time.perf_counter() - started
    lines = [(f"Validation of the exact scorers, {datetime.date.today().isoformat()}, seed {args.seed}, "
              f"{args.n} questions per task (difficulties taking turns), {elapsed:.0f} s."),
             f"Machine: {_machine()}.",
             f"Command: `python benchmarks/validate_tasks.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
             "", table(results), ""]
    for result in results:
        for column in COLUMNS:
            for check in result.failures(column):
                score = check.scores[column]
                lines.append(f"- {result.task} {column} failed on {check.key}: "
                             f"correct={score.correct} error={score.error} details={score.details}")
        for column in CONSISTENCY_COLUMNS:
            for check in result.consistency_failures(column):
                score = check.scores[column]
                lines.append(f"- {result.task} {column} consistency failed on {check.key}: correct={score.correct} "
                             f"consistent={score.consistent} consistency={score.details.get('consistency')}")
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    ok = all(r.rate("oracle") == 1 and r.rate("static") == 1 and r.rate("wrong") >= 0.95
             and all(r.rate(f"distorted:{d}") >= 0.95 for d in ("fit", "blur", "noise", "jpeg", "colour", "all"))
             and r.deterministic and r.consistency_ok() for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
