"""Leaderboard reports of an experiment: Markdown, CSV, JSON and one self-contained HTML page."""

from __future__ import annotations

import os
from pathlib import Path

from vmevalkit.atomic import make_writable_dir, write_bytes, write_json, write_text
from vmevalkit.report.leaderboard import Leaderboard, build_leaderboard
from vmevalkit.report.render import as_json, csv_text, markdown, pass_csv_text

REPORT_DIR = "report"
FILES = {"markdown": "leaderboard.md", "csv": "leaderboard.csv", "json": "report.json", "html": "report.html"}
PASS_FILES = {"pass_csv": "pass_at_k.csv", "pass_plot": "pass_at_k.png"}  # written when pass@k is reported


def leaderboard_text(experiment_dir: str | os.PathLike, policy: str = "auto", pass_ks: list[int] | None = None) -> str:
    """The leaderboard as Markdown, for the terminal (what `vmevalkit run` prints at its end)."""
    return markdown(build_leaderboard(experiment_dir, policy, pass_ks=pass_ks))


def write_report(experiment_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, policy: str = "auto",
                 resamples: int = 10_000, seed: int = 0, embed_limit_mb: float = 64.0,
                 pass_ks: list[int] | None = None) -> tuple[Leaderboard, dict[str, Path]]:
    """Write the four report files (default: <experiment>/report/), and with pass@k its CSV and plot; return
    the board and their paths. `pass_ks`: the k for pass@k (default: 1 and the number of samples, when
    the questions have several)."""
    from vmevalkit.report.html import html_page, pass_plot_png

    out = Path(out_dir) if out_dir is not None else Path(experiment_dir) / REPORT_DIR
    make_writable_dir(out, "report folder", "--out")
    board = build_leaderboard(experiment_dir, policy, resamples, seed, pass_ks)
    settings = {"policy": policy, "bootstrap_resamples": resamples, "bootstrap_seed": seed, "confidence": 0.95,
                **({"pass_k": board.pass_ks} if board.pass_ks else {})}
    paths = {kind: out / name for kind, name in FILES.items()}
    pass_plot = None
    if board.pass_ks:
        paths.update({kind: out / name for kind, name in PASS_FILES.items()})
        write_text(paths["pass_csv"], pass_csv_text(board))
        pass_plot = pass_plot_png(board)
        write_bytes(paths["pass_plot"], pass_plot)
    write_text(paths["markdown"], markdown(board))
    write_text(paths["csv"], csv_text(board))
    write_json(paths["json"], as_json(board, settings))
    write_text(paths["html"], html_page(board, out, settings, embed_limit_mb, pass_plot))
    return board, paths
