"""What a run prints at the end: the summary table, the dry-run plan, and the leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from vmevalkit.results import EXPERIMENT, experiment_options
from vmevalkit.runner.context import ModelTally


def _table(rows: list[tuple[str, ...]], left: set[int], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        cells = [c.ljust(w) if j in left else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)


def print_summary(experiment_dir: Path, tallies: list[ModelTally], problems: int, out: TextIO) -> None:
    with_cost = any(t.cost_usd for t in tallies)
    shared = any(t.elsewhere or t.not_started for t in tallies)
    head = ("model", "ok", "failed", "skipped") + (("elsewhere", "held") if shared else ()) + \
        ("static", "time", "items/h") + (("cost $",) if with_cost else ()) + ("note",)
    rows = [head]
    for t in tallies:
        rate = t.items_per_hour
        rows.append((t.model, str(t.ok), str(t.failed), str(t.skipped))
                    + ((str(t.elsewhere), str(t.not_started)) if shared else ())
                    + (str(t.static), f"{t.seconds:.1f}s", f"{rate:.0f}" if rate else "-")
                    + ((f"{t.cost_usd:.2f}",) if with_cost else ()) + (t.note,))
    print(file=out)
    _table(rows, {0, len(head) - 1}, out)
    print("(ok/failed: made in this run; skipped: already finished with the same settings"
          + ("; elsewhere: being made by another process on this experiment; held: not started (budget or a "
             "stopped model)" if shared else "") + "; static: videos with no motion)", file=out)
    for t in tallies:
        if t.failures:
            print(f"{t.model}: failures by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(t.failures.items())),
                  file=out)
    if problems:
        print(f"{problems} question folder(s) could not be read (listed above); fix them and rerun.", file=out)
    failed = sum(t.failed for t in tallies)
    if failed:
        print(f"{failed} item(s) failed; the error is in each item's metadata.json; rerun to retry them.", file=out)
    print(f"outputs: {experiment_dir}/<model>/<domain>_task/<question_id>/ "
          f"(video.mp4, last_frame.png, metadata.json); run log: {experiment_dir / EXPERIMENT}", file=out)


def print_plan(rows: list[tuple[str, int, int, float | None]], out: TextIO) -> None:
    """The --dry-run table: per model, items to make, items already finished, price per item and in all."""
    table = [("model", "to make", "finished", "USD / item", "USD")]
    total = 0.0
    for model, todo, done, price in rows:
        cost = (price or 0.0) * todo
        total += cost
        table.append((model, str(todo), str(done), f"{price:.3f}" if price else "-", f"{cost:.2f}" if price else "-"))
    table.append(("total", str(sum(r[1] for r in rows)), str(sum(r[2] for r in rows)), "", f"{total:.2f}"))
    _table(table, {0}, out)
    print("(dry run: nothing was loaded or sent; prices are estimates from the price table)", file=out)


def print_leaderboard(experiment_dir: Path, out: TextIO) -> None:
    """Score the experiment with the automatic scorers (exact for built-in tasks, else similarity; resumable)
    and print the leaderboard."""
    from vmevalkit.report import leaderboard_text
    from vmevalkit.scoring.pipeline import score_experiment

    summary = score_experiment(experiment_dir, "auto")
    print(file=out)
    print(leaderboard_text(experiment_dir), file=out)
    for error in summary.errors:
        print(f"scoring error: {error}", file=out)
    where = experiment_options(experiment_dir)
    print(f"scores: {experiment_dir / 'scores.jsonl'}; full report: vmevalkit report {where}; "
          f"check by eye: vmevalkit review {where}", file=out)
