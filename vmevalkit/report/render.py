"""The leaderboard as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from typing import Any

from vmevalkit.report.leaderboard import ALL, SCORER_PRECEDENCE, Cell, Leaderboard


def _num(x: float, digits: int = 4) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def cell_text(cell: Cell) -> str:
    """`62.5% [37.5, 87.5] 5/8`, plus `+2 unscored` when some items have no verdict."""
    if not cell.judged:
        text = "—"
    else:
        text = f"{cell.rate:.1%} [{cell.low * 100:.1f}, {cell.high * 100:.1f}] {cell.correct}/{cell.judged}"
    return text + (f" +{cell.unscored} unscored" if cell.unscored else "")


def row_label(board: Leaderboard, model: str) -> str:
    if model in board.controls:
        return f"{model} (control)"
    return f"{model} (UNTRAINED)" if model in board.untrained else model


def policy_text(board: Leaderboard) -> str:
    if board.policy == "auto":
        return "verdicts by the first scorer that judged each item in the order " + " > ".join(SCORER_PRECEDENCE)
    return f"verdicts by scorer {board.policy}"


def markdown(board: Leaderboard) -> str:
    columns = [ALL, *board.tasks]
    lines = [f"## Leaderboard: {board.experiment}", "",
             f"Success rate [95% bootstrap interval] correct/judged; {policy_text(board)}; unscored items "
             "(no video, not scored, scorer error) are left out of the rate.", "",
             "| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for model in board.rows:
        cells = " | ".join(cell_text(board.cells[(model, c)]) for c in columns)
        lines.append(f"| {row_label(board, model)} | {cells} |")
    used: Counter = Counter()
    for model in board.rows:
        used.update(board.cells[(model, ALL)].scorers)
    if used:
        lines += ["", "Verdicts from: " + ", ".join(f"{name} {n}" for name, n in sorted(used.items()))]
    if board.agreements:
        lines += ["", "### Scorer agreement (items both judged)", "",
                  "| scorers | items | agreement | Cohen's kappa | both correct | both wrong | only first | only second |",
                  "|---|---|---|---|---|---|---|---|"]
        for a in board.agreements:
            kappa = "—" if math.isnan(a.kappa) else f"{a.kappa:.2f}"
            lines.append(f"| {a.first} vs {a.second} | {a.items} | {a.rate:.1%} | {kappa} | {a.both_correct} | "
                         f"{a.both_wrong} | {a.only_first} | {a.only_second} |")
    if not board.scored:
        lines += ["", f"No verdicts yet: run `vmevalkit score --experiment {board.experiment}`."]
    return "\n".join(lines) + "\n"


CSV_FIELDS = ["model", "control", "task", "correct", "judged", "rate", "ci_low", "ci_high", "unscored", "scorers"]


def csv_text(board: Leaderboard) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for model in board.rows:
        for task in [ALL, *board.tasks]:
            c = board.cells[(model, task)]
            writer.writerow({"model": model, "control": model in board.controls, "task": task, "correct": c.correct,
                             "judged": c.judged, "rate": _num(c.rate), "ci_low": _num(c.low), "ci_high": _num(c.high),
                             "unscored": c.unscored,
                             "scorers": ";".join(f"{k}={v}" for k, v in sorted(c.scorers.items()))})
    return out.getvalue()


def as_json(board: Leaderboard, settings: dict[str, Any]) -> dict[str, Any]:
    """Everything in the report, per item included."""
    return {
        "experiment": board.experiment,
        "policy": board.policy,
        "settings": settings,
        "tasks": board.tasks,
        "models": board.models,
        "controls": board.controls,
        "untrained": sorted(board.untrained),
        "leaderboard": [{"model": m, "control": m in board.controls, "task": t, "correct": c.correct,
                         "judged": c.judged, "rate": _num(c.rate), "ci_low": _num(c.low), "ci_high": _num(c.high),
                         "unscored": c.unscored, "scorers": dict(sorted(c.scorers.items()))}
                        for m in board.rows for t in [ALL, *board.tasks] for c in [board.cells[(m, t)]]],
        "agreement": [{"first": a.first, "second": a.second, "items": a.items, "agreement": _num(a.rate),
                       "kappa": _num(a.kappa), "both_correct": a.both_correct, "both_wrong": a.both_wrong,
                       "only_first": a.only_first, "only_second": a.only_second} for a in board.agreements],
        "items": [{"model": i.model, "question": i.question, "domain": i.domain, "control": i.control,
                   "has_video": i.video is not None, "verdict": i.verdict,
                   "scorer": i.chosen["scorer"] if i.chosen else None,
                   "scores": {name: {k: r.get(k) for k in ("correct", "score", "error", "version", "details")}
                              for name, r in sorted(i.rows.items())}}
                  for i in board.items],
    }
