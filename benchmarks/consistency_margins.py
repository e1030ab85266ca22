"""How far each task's consistency check is from its tolerance: the largest part difference per video kind.

    python benchmarks/consistency_margins.py --tasks light_sequence,subway --n 36 --seed 1

For every task that checks consistency, on `n` generated questions (difficulties taking turns): the largest
difference (grey levels, `details["consistency"]["largest"]`) of the oracle's mp4, of the held first frame,
of the oracle under each validation distortion and under all of them applied twice over ("twice"), and,
for the inconsistent final frame, how many were caught and the smallest difference among them; also how
many wrong final states were judged consistent. Tolerance: `vmevalkit.tasks.consistency.TOLERANCE`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from vmevalkit.tasks.consistency import TOLERANCE
from vmevalkit.tasks.validation import DISTORTIONS, TaskValidation, all_distortions, validate_task


def twice(video, rng):
    """All the validation distortions, then all of them again: headroom beyond what validation asks."""
    return all_distortions(all_distortions(video, rng), rng)


def _largest(result: TaskValidation, video: str) -> list[float]:
    return [c.scores[video].details["consistency"]["largest"]["difference"] for c in result.checks]


def row(result: TaskValidation) -> list[str]:
    distorted = [max(_largest(result, f"distorted:{d}")) for d in DISTORTIONS]
    caught = [c for c in result.checks if c.consistency_passed("inconsistent")]
    weakest = min((c.scores["inconsistent"].details["consistency"]["largest"]["difference"] for c in caught),
                  default=float("nan"))
    n = len(result.checks)
    return [result.task, str(n), f"{max(_largest(result, 'oracle')):.1f}", f"{max(_largest(result, 'static')):.1f}",
            f"{max(distorted):.1f}", f"{len(caught)} of {n}, {weakest:.1f}",
            f"{sum(c.scores['wrong'].consistent is True for c in result.checks)} of {n}",
            f"{max(_largest(result, 'distorted:twice')):.1f}",
            f"{sum(c.consistency_passed('distorted:twice') is True for c in result.checks)} of {n}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", required=True, help="comma-separated task names")
    parser.add_argument("--n", type=int, default=36, help="questions per task (default 36: 12 per difficulty)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    head = ["task", "n", "oracle", "held first frame", "distorted oracle (each and all)",
            "inconsistent caught, smallest", "wrong judged consistent", "twice distorted", "twice: consistent"]
    lines = [f"Largest part difference, grey levels (tolerance {TOLERANCE:g}); seed {args.seed}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    with tempfile.TemporaryDirectory(prefix="vmevalkit-margins-") as work:
        for name in args.tasks.split(","):
            result = validate_task(name, args.n, args.seed, Path(work) / name, {**DISTORTIONS, "twice": twice})
            if result.consistency_rate("oracle") is None:
                print(f"{name}: no consistency check", file=sys.stderr)
                continue
            lines.append("| " + " | ".join(row(result)) + " |")
            print(lines[-1], file=sys.stderr)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
