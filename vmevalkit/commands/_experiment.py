"""The `--experiment NAME --output-dir DIR` options shared by score, report and review."""

from __future__ import annotations

import argparse
from pathlib import Path

from vmevalkit.errors import UserError


def add_experiment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experiment", required=True, metavar="NAME",
                        help="the experiment's name: its results are in OUTPUT_DIR/NAME")
    parser.add_argument("--output-dir", default="outputs", type=Path, metavar="DIR",
                        help="where experiments are written (default: outputs)")


def experiment_dir(args: argparse.Namespace) -> Path:
    """OUTPUT_DIR/NAME, which must exist; NAME follows the one rule for experiment names."""
    from vmevalkit.results import check_experiment_name

    path = args.output_dir / check_experiment_name(args.experiment)
    if not path.is_dir():
        known = sorted(p.name for p in args.output_dir.iterdir() if p.is_dir()) if args.output_dir.is_dir() else []
        raise UserError(f"{path}: no such experiment; "
                        + (f"experiments in {args.output_dir}: {', '.join(known)}" if known
                           else "run `vmevalkit run` first or pass --output-dir"))
    return path
