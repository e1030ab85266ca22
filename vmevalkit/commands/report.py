"""`vmevalkit report`: the leaderboard of an experiment as Markdown, CSV, JSON and an HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmevalkit.commands._experiment import add_experiment_options, experiment_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="models x tasks success rates with 95%% bootstrap intervals (md, csv, json, html)",
        description="Build the leaderboard from scores.jsonl: success rates per model and task with 95% "
        "bootstrap intervals, consistency beside them where the scorers check it, pass@k with several samples, "
        "the controls as reference rows, scorer agreement, and an HTML page with the videos.")
    add_experiment_options(p)
    p.add_argument("--scorer", default="auto", metavar="NAME",
                   help="whose verdicts count: auto (exact > human > vlm > similarity, per item), or a scorer such "
                   "as human, similarity, vlm, vlm:MODEL")
    p.add_argument("--out", type=Path, metavar="DIR", help="where to write the report (default: EXPERIMENT/report)")
    p.add_argument("--resamples", type=int, default=10_000, metavar="N", help="bootstrap resamples (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--embed-limit-mb", type=float, default=64.0, metavar="MB",
                   help="embed the videos in the HTML page when together they are at most this size, else link them")
    p.add_argument("--pass-k", metavar="K,K,...", default=None,
                   help="report pass@k for these k, e.g. 1,3,5 (default: 1 and the number of samples per question, "
                   "when there are several)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import math

    from vmevalkit.errors import UserError
    from vmevalkit.limits import RESAMPLES, check_count
    from vmevalkit.report import write_report
    from vmevalkit.report.passk import parse_ks

    check_count("--resamples", args.resamples, RESAMPLES, minimum=100)  # fewer give no usable interval
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more (a bootstrap seed), got {args.seed}")
    if not (math.isfinite(args.embed_limit_mb) and args.embed_limit_mb >= 0):
        raise UserError(f"--embed-limit-mb must be a size in MB, 0 or more (0 links every video), "
                        f"got {args.embed_limit_mb}")
    pass_ks = parse_ks(args.pass_k) if args.pass_k is not None else None
    _, paths = write_report(experiment_dir(args), args.out, args.scorer, args.resamples, args.seed,
                            args.embed_limit_mb, pass_ks)
    print(paths["markdown"].read_text(encoding="utf-8"))
    for path in paths.values():
        print(f"wrote {path}")
    return 0
