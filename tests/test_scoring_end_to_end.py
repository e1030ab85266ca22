"""The whole path on the older kit's questions: the real runner's controls, then score, report, review data."""

import json
import os
import subprocess
import sys
from pathlib import Path

from vmevalkit.report.leaderboard import ALL, build_leaderboard
from vmevalkit.scoring.rows import latest_rows, read_rows

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_runner_controls_then_score_and_report_rank_oracle_above_static_on_every_question(tmp_path, test_questions):
    _cli("run", "--questions", str(test_questions), "--models", "static,oracle", "--experiment", "older",
         "--output-dir", "outputs", "--no-progress", "--no-score", cwd=tmp_path)
    exp = tmp_path / "outputs" / "older"
    printed = _cli("score", "--experiment", "older", cwd=tmp_path)
    assert "scored 10 item(s)" in printed
    assert "scored 0 item(s); 10 already scored" in _cli("score", "--experiment", "older", cwd=tmp_path)
    rows = latest_rows(read_rows(exp))
    scores = {(model, question): row["score"] for (model, question, _, _), row in rows.items()}
    questions = sorted({q for _, q in scores})
    assert len(questions) == 5 and all(row["scorer"] == "similarity" for row in rows.values())
    for q in questions:
        assert scores[("oracle", q)] > scores[("static", q)], q
        assert rows[("oracle", q, 0, "similarity")]["correct"] is True
        assert rows[("static", q, 0, "similarity")]["correct"] is False
    board = build_leaderboard(exp, resamples=500)
    assert board.controls == ["oracle", "static"] and not board.models
    assert board.cells[("oracle", ALL)].rate == 1.0 and board.cells[("static", ALL)].rate == 0.0
    report = _cli("report", "--experiment", "older", "--resamples", "500", cwd=tmp_path)
    assert "| oracle (control) | 100.0%" in report and "| static (control) | 0.0%" in report
    summary = json.loads((exp / "report" / "report.json").read_text())
    assert len(summary["items"]) == 10
