"""The leaderboard as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from typing import Any

from vmevalkit.report.leaderboard import ALL, SCORER_PRECEDENCE, Cell, Leaderboard, Rate
from vmevalkit.report.passk import PassAtK


def _num(x: float, digits: int = 4) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def rate_text(rate: Rate) -> str:
    """`62.5% [37.5, 87.5] 5/8`: the rate, its 95% interval, hits/judged; `—` with nothing judged."""
    if not rate.judged:
        return "—"
    return f"{rate.value:.1%} [{rate.low * 100:.1f}, {rate.high * 100:.1f}] {rate.hits}/{rate.judged}"


def cell_text(cell: Cell) -> str:
    """The success rate's `rate_text`, plus `+2 unscored` when some items have no verdict."""
    return rate_text(cell.success) + (f" +{cell.unscored} unscored" if cell.unscored else "")


def pass_text(p: PassAtK) -> str:
    """`70.0% [50.0, 90.0] n=5`: pass@k, its 95% interval over questions, the questions counted."""
    return "—" if not p.questions else f"{p.value:.1%} [{p.low * 100:.1f}, {p.high * 100:.1f}] n={p.questions}"


def table_columns(board: Leaderboard) -> list[tuple[str, str]]:
    """(header, task) of the leaderboard's columns: each task's success rate, and beside it its consistency
    when the experiment has consistency readings."""
    columns = []
    for task in [ALL, *board.tasks]:
        columns.append((task, task))
        if board.has_consistency:
            columns.append((f"{task} consistent", task))
    return columns


def column_text(board: Leaderboard, model: str, header: str, task: str) -> str:
    cell = board.cells[(model, task)]
    return cell_text(cell) if header == task else rate_text(cell.consistency)


def row_label(board: Leaderboard, model: str) -> str:
    if model in board.controls:
        return f"{model} (control)"
    return f"{model} (UNTRAINED)" if model in board.untrained else model


def policy_text(board: Leaderboard) -> str:
    if board.policy == "auto":
        return "verdicts by the first scorer that judged each item in the order " + " > ".join(SCORER_PRECEDENCE)
    return f"verdicts by scorer {board.policy}"


def notes_text(board: Leaderboard) -> str:
    """What the columns mean beyond the success rate (samples, consistency); empty when neither applies."""
    notes = []
    if board.samples > 1:
        notes.append(f"Up to {board.samples} samples per question: a rate is the mean over questions of each "
                     "question's share of correct samples (pass@1), and its interval resamples questions; "
                     "correct/judged counts samples.")
    if board.has_consistency:
        notes.append("`<task> consistent`: share of judged items whose scene outside the answer stayed put (the "
                     "parts the task must leave alone, read by its exact checker), apart from the success rate.")
    return " ".join(notes)


def suite_text(board: Leaderboard) -> str:
    """`Questions from suite core-v1 (definition 3f2a…, questions 9c1b…)`; empty without a suite."""
    return "; ".join(
        f"Questions from suite {s['name']} (definition {str(s['definition_hash'])[:12]}, questions "
        f"{str(s['questions_hash'])[:12]}{'' if s.get('complete', True) else ', part of it'})" for s in board.suites)


def shows_generation(board: Leaderboard) -> bool:
    """Whether the report has a generation table: some item failed, or some model has a price."""
    return any(g.failed or g.cost_usd for g in board.generation.values())


def generation_rows(board: Leaderboard) -> list[dict[str, Any]]:
    """Per model: items, failed by kind, estimated spend (USD) and the refused items."""
    return [{"model": m, "items": g.items, "failed": g.failed, "failures": dict(sorted(g.failures.items())),
             "estimated_cost_usd": round(g.cost_usd, 4), "refused": g.refused}
            for m in board.rows for g in [board.generation.get(m)] if g is not None]


GENERATION_NOTE = ("Failed items by kind; an item the provider refused (content policy) counts as wrong in the rate, "
                   "any other failure is left unscored (rerun `vmevalkit run` to retry it). Spend is the price "
                   "table's estimate for the videos made.")


def failures_text(failures: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in failures.items()) or "—"


def pass_columns(board: Leaderboard) -> list[str]:
    return [ALL, *board.tasks]


def markdown(board: Leaderboard) -> str:
    columns = table_columns(board)
    lines = [f"## Leaderboard: {board.experiment}", "",
             f"Success rate [95% bootstrap interval] correct/judged; {policy_text(board)}; unscored items "
             "(no video, not scored, scorer error) are left out of the rate.", ""]
    if notes := notes_text(board):
        lines += [notes, ""]
    if suites := suite_text(board):
        lines += [suites + ".", ""]
    lines += ["| model | " + " | ".join(h for h, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for model in board.rows:
        cells = " | ".join(column_text(board, model, h, t) for h, t in columns)
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
    if board.pass_ks:
        tasks = pass_columns(board)
        lines += ["", "### pass@k", "", PASS_NOTE, "",
                  "| model | k | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 2) + "|"]
        for model in board.rows:
            for k in board.pass_ks:
                cells = " | ".join(pass_text(board.pass_at[(model, t, k)]) for t in tasks)
                lines.append(f"| {row_label(board, model)} | {k} | {cells} |")
    if shows_generation(board):
        lines += ["", "### Generation", "", GENERATION_NOTE, "",
                  "| model | items | failed | estimated spend (USD) |", "|---|---|---|---|"]
        rows = generation_rows(board)
        for row in rows:
            lines.append(f"| {row_label(board, row['model'])} | {row['items']} | {failures_text(row['failures'])} | "
                         f"{row['estimated_cost_usd']:.2f} |")
        for row in rows:
            if row["refused"]:
                lines.append(f"\nRefused for {row['model']}: " + ", ".join(row["refused"]))
    if not board.scored:
        lines += ["", f"No verdicts yet: run `vmevalkit score --experiment {board.experiment}`."]
    return "\n".join(lines) + "\n"


PASS_NOTE = ("pass@k [95% bootstrap interval over questions] n=questions: the unbiased estimate 1 - C(n-c, k)/C(n, k) "
             "from each question's n judged samples of which c are correct, averaged over the questions with at "
             "least k judged samples.")


CSV_FIELDS = ["model", "control", "task", "correct", "judged", "rate", "ci_low", "ci_high", "unscored", "scorers",
              "questions", "consistent", "consistency_judged", "consistency_rate", "consistency_ci_low",
              "consistency_ci_high"]
PASS_CSV_FIELDS = ["model", "control", "task", "k", "pass_at_k", "ci_low", "ci_high", "questions", "short"]


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
                             "scorers": ";".join(f"{k}={v}" for k, v in sorted(c.scorers.items())),
                             "questions": c.success.questions, "consistent": c.consistency.hits,
                             "consistency_judged": c.consistency.judged, "consistency_rate": _num(c.consistency.value),
                             "consistency_ci_low": _num(c.consistency.low),
                             "consistency_ci_high": _num(c.consistency.high)})
    return out.getvalue()


def pass_rows(board: Leaderboard) -> list[dict[str, Any]]:
    """One row per (model, task, reported k)."""
    return [{"model": m, "control": m in board.controls, "task": t, "k": k, "pass_at_k": _num(p.value),
             "ci_low": _num(p.low), "ci_high": _num(p.high), "questions": p.questions, "short": p.short}
            for m in board.rows for t in pass_columns(board) for k in board.pass_ks for p in [board.pass_at[(m, t, k)]]]


def pass_csv_text(board: Leaderboard) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, PASS_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(pass_rows(board))
    return out.getvalue()


def _rate_json(rate: Rate) -> dict[str, Any]:
    return {"hits": rate.hits, "judged": rate.judged, "questions": rate.questions, "rate": _num(rate.value),
            "ci_low": _num(rate.low), "ci_high": _num(rate.high)}


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
        "samples": board.samples,
        "leaderboard": [{"model": m, "control": m in board.controls, "task": t, "correct": c.correct,
                         "judged": c.judged, "rate": _num(c.rate), "ci_low": _num(c.low), "ci_high": _num(c.high),
                         "unscored": c.unscored, "scorers": dict(sorted(c.scorers.items())),
                         "questions": c.success.questions, "consistency": _rate_json(c.consistency)}
                        for m in board.rows for t in [ALL, *board.tasks] for c in [board.cells[(m, t)]]],
        "pass_at_k": {"k": board.pass_ks, "rows": pass_rows(board)},
        "suites": board.suites,
        "generation": generation_rows(board),
        "agreement": [{"first": a.first, "second": a.second, "items": a.items, "agreement": _num(a.rate),
                       "kappa": _num(a.kappa), "both_correct": a.both_correct, "both_wrong": a.both_wrong,
                       "only_first": a.only_first, "only_second": a.only_second} for a in board.agreements],
        "items": [{"model": i.model, "question": i.question, "sample": i.sample, "domain": i.domain,
                   "control": i.control, "has_video": i.video is not None, "verdict": i.verdict,
                   "consistent": i.consistent, "scorer": i.chosen["scorer"] if i.chosen else None,
                   "scores": {name: {k: r.get(k) for k in ("correct", "consistent", "score", "error", "version",
                                                           "details")}
                              for name, r in sorted(i.rows.items())}}
                  for i in board.items],
    }
