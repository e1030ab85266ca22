"""`vmevalkit run`: run models on questions into an experiment folder (with no flags: the built-in demo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmevalkit.errors import UserError

HELP = """Run every model on every question; outputs go to OUTPUT_DIR/EXPERIMENT/<model>/<domain>_task/<id>/.
With no flags: the built-in demo (an easy maze, Sudoku and counting question; the controls and the untrained
videocrafter-tiny, on the CPU). A rerun skips finished items and regenerates those made with other settings.
The run ends by scoring (exact scorers for built-in tasks, else the similarity scorer) and printing the leaderboard."""


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """`["steps=25", "guidance=7.5"]` → `{"steps": "25", "guidance": "7.5"}`."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {pair}: write it as key=value, e.g. --set steps=25")
        out[key.strip()] = value.strip()
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run models on questions (no flags: a CPU demo)", description=HELP)
    p.add_argument("--models", nargs="+", metavar="ID", help="model ids, comma- or space-separated "
                   "(default: videocrafter-tiny; see `vmevalkit models`)")
    p.add_argument("--experiment", help="experiment name (default: the questions folder's name; with --tasks, "
                   "tasks-<names>; with --suite, suite-<name>; else 'demo')")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--questions", type=Path, metavar="DIR",
                        help="question folders: a dataset root of <domain>_task/<id>/, a folder of <id>/ folders, "
                        "or a folder of splits <split>/<task>/<id>/ (VBVR-Bench)")
    source.add_argument("--tasks", nargs="+", metavar="NAME", help="generate questions with built-in tasks "
                        "(comma- or space-separated; see `vmevalkit tasks`)")
    source.add_argument("--suite", metavar="NAME", help="generate a named, versioned suite of questions, the same "
                        "bytes in every lab (see `vmevalkit tasks suites`)")
    p.add_argument("--n", type=int, default=5,
                   help="questions per task with --tasks, made with seeds --seed .. --seed+N-1 (default 5)")
    p.add_argument("--difficulty", help="task difficulty with --tasks (default: the task's difficulties take turns)")
    p.add_argument("--output-dir", type=Path, default=Path("outputs"), help="where experiments go (default outputs)")
    p.add_argument("--seed", type=int, default=0, help="run seed; each question's seed is derived from it (default 0)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto: cuda when torch sees a GPU)")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                   help="model precision (default auto: the model's own)")
    p.add_argument("--limit", type=int, help="run only the first N questions")
    p.add_argument("--fit", default="letterbox", choices=["letterbox", "crop", "stretch"],
                   help="how a first frame is fitted to the model's resolution (default letterbox)")
    p.add_argument("--no-controls", action="store_true",
                   help="do not run the controls static (lower bound) and oracle (upper bound)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="a model setting, repeatable: --set steps=25 --set guidance=7.5 (applies to every "
                        "selected model that has it; `vmevalkit models --settings` lists them)")
    p.add_argument("--cache-dir", type=Path, help="weights folder (default $VMEVALKIT_WEIGHTS or "
                   "~/.cache/vmevalkit/weights)")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice; on a busy machine "
                   "1 is often fastest for small models)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-score", action="store_true", help="do not score and print the leaderboard at the end "
                   "(`vmevalkit score` does it later)")
    p.add_argument("--samples", type=int, default=1, metavar="K",
                   help="videos per (model, question), each with its own seed, for pass@k (default 1)")
    p.add_argument("--shard", metavar="I/N", help="make only shard I of N (0 <= I < N) of the items: for Slurm job "
                   "arrays or one process per GPU; score and report the merged experiment as usual")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="run the models on Ray actors: auto (join a running cluster, else start a local one), "
                   "local (start one on this machine, loopback only) or a cluster address (needs vmevalkit[ray])")
    p.add_argument("--max-cost", type=float, metavar="USD",
                   help="start no item whose estimated price would take this run's spend past USD (hosted models)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the items to make and their estimated price per model, then stop: nothing is "
                   "loaded or sent")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vmevalkit.runner import DEFAULT_MODELS, RunOptions, run_experiment
    from vmevalkit.runner.plan import parse_shard

    models = _split(args.models)
    if models == []:
        raise UserError("--models is empty; name at least one model (see `vmevalkit models`)")
    opts = RunOptions(
        models=models or list(DEFAULT_MODELS), experiment=args.experiment, output_dir=args.output_dir,
        questions=args.questions, tasks=_split(args.tasks), n=args.n, difficulty=args.difficulty, seed=args.seed,
        device=args.device, dtype=args.dtype, limit=args.limit, fit=args.fit, controls=not args.no_controls,
        overrides=parse_sets(args.sets), cache_dir=args.cache_dir, threads=args.threads,
        progress=not args.no_progress, score=not args.no_score, samples=args.samples,
        shard=parse_shard(args.shard) if args.shard is not None else None, max_cost=args.max_cost,
        dry_run=args.dry_run, ray=args.ray, suite=args.suite)
    return run_experiment(opts).exit_code
