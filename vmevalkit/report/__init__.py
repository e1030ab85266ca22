"""Leaderboard reports of an experiment: Markdown, CSV, JSON and one self-contained HTML page."""

from __future__ import annotations

import os
from pathlib import Path

from vmevalkit.atomic import make_writable_dir, write_json, write_text
from vmevalkit.report.leaderboard import Leaderboard, build_leaderboard
from vmevalkit.report.render import as_json, csv_text, markdown

REPORT_DIR = "report"
FILES = {"markdown": "leaderboard.md", "csv": "leaderboard.csv", "json": "report.json", "html": "report.html"}


def leaderboard_text(experiment_dir: str | os.PathLike, policy: str = "auto") -> str:
    """The leaderboard as Markdown, for the terminal (what `vmevalkit run` prints at its end)."""
    return markdown(build_leaderboard(experiment_dir, policy))


def write_report(experiment_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, policy: str = "auto",
                 resamples: int = 10_000, seed: int = 0, embed_limit_mb: float = 64.0
                 ) -> tuple[Leaderboard, dict[str, Path]]:
    """Write the four report files (default: <experiment>/report/) and return the board and their paths."""
    from vmevalkit.report.html import html_page

    out = Path(out_dir) if out_dir is not None else Path(experiment_dir) / REPORT_DIR
    make_writable_dir(out, "report folder", "--out")
    board = build_leaderboard(experiment_dir, policy, resamples, seed)
    settings = {"policy": policy, "bootstrap_resamples": resamples, "bootstrap_seed": seed, "confidence": 0.95}
    paths = {kind: out / name for kind, name in FILES.items()}
    write_text(paths["markdown"], markdown(board))
    write_text(paths["csv"], csv_text(board))
    write_json(paths["json"], as_json(board, settings))
    write_text(paths["html"], html_page(board, out, settings, embed_limit_mb))
    return board, paths
