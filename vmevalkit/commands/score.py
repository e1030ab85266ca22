"""`vmevalkit score`: judge every finished video of an experiment and append rows to scores.jsonl."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vmevalkit.commands._experiment import add_experiment_options, experiment_dir
from vmevalkit.scoring import SCORER_CHOICES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score", help="score an experiment's videos (resumable; appends to scores.jsonl)",
        description="Score every finished video of an experiment. --scorer auto uses a built-in task's exact "
        "checker and the task-agnostic similarity scorer elsewhere. Reruns skip what is already scored.")
    add_experiment_options(p)
    p.add_argument("--scorer", choices=SCORER_CHOICES, default="auto")
    g = p.add_argument_group("VLM judge (--scorer vlm; any OpenAI-compatible chat-completions endpoint)")
    g.add_argument("--vlm-base-url", metavar="URL", help="e.g. http://127.0.0.1:8000/v1 (env VMEVALKIT_VLM_BASE_URL)")
    g.add_argument("--vlm-model", metavar="NAME", help="the judge model's name (env VMEVALKIT_VLM_MODEL)")
    g.add_argument("--vlm-api-key", metavar="KEY",
                   help="API key (prefer env VMEVALKIT_VLM_API_KEY: a flag is visible to other local users)")
    g.add_argument("--vlm-frames", type=int, default=1, metavar="N", help="send the video's last N frames (default 1)")
    g.add_argument("--vlm-cache", type=Path, metavar="DIR",
                   help="answer cache (default $VMEVALKIT_VLM_CACHE or ~/.cache/vmevalkit/vlm)")
    g.add_argument("--vlm-timeout", type=float, default=120.0, metavar="S", help="seconds per request (default 120)")
    g.add_argument("--vlm-attempts", type=int, default=4, metavar="N",
                   help="tries per item before recording an error (default 4)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="items scored at once (default: 4 with --scorer vlm, so a server can batch them; else 1)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vmevalkit.limits import WORKERS, check_count
    from vmevalkit.results import experiment_options
    from vmevalkit.scoring.pipeline import score_experiment
    from vmevalkit.scoring.vlm import VLMConfig, VLMJudge

    root = experiment_dir(args)
    workers = check_count("--workers", args.workers, WORKERS) if args.workers is not None else (
        4 if args.scorer == "vlm" else 1)
    judge = None
    if args.scorer == "vlm":
        judge = VLMJudge(VLMConfig.from_options(
            args.vlm_base_url, args.vlm_model, args.vlm_api_key, frames=args.vlm_frames, cache_dir=args.vlm_cache,
            timeout=args.vlm_timeout, attempts=max(1, args.vlm_attempts)))
    summary = score_experiment(root, args.scorer, judge, log=(lambda line: None) if args.quiet else print,
                               workers=workers)
    for line in summary.lines():
        print(line, file=sys.stderr if line.startswith("error") else sys.stdout)
    print(f"rows in {root / 'scores.jsonl'}; next: vmevalkit report {experiment_options(root)}")
    return 1 if summary.errors else 0
