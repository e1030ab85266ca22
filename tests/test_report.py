import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from experiment_tree import card_questions, write_controls, write_item

from vmevalkit.errors import UserError
from vmevalkit.report import leaderboard_text, write_report
from vmevalkit.report.leaderboard import ALL, build_leaderboard, choose_row
from vmevalkit.report.stats import agreement, bootstrap_interval
from vmevalkit.results import SCORES, read_item
from vmevalkit.review.server import human_row
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import append_row, read_rows

ROOT = Path(__file__).resolve().parent.parent


def test_bootstrap_interval_matches_resampling_the_items_themselves():
    outcomes = np.array([1] * 6 + [0] * 4)
    rng = np.random.default_rng(1)
    brute = rng.choice(outcomes, size=(20_000, outcomes.size)).mean(axis=1)
    low, high = bootstrap_interval([(6, 10)])
    assert low == pytest.approx(np.percentile(brute, 2.5), abs=0.05)
    assert high == pytest.approx(np.percentile(brute, 97.5), abs=0.05)
    assert low < 0.6 < high
    assert bootstrap_interval([(6, 10)]) == (low, high)  # seeded: the same report twice


def test_bootstrap_interval_narrows_with_more_items_and_keeps_tasks_apart():
    small = bootstrap_interval([(5, 10)])
    large = bootstrap_interval([(500, 1000)])
    assert large[1] - large[0] < (small[1] - small[0]) / 5
    # two tasks, one always solved and one never: stratified, so the overall rate cannot move
    assert bootstrap_interval([(10, 10), (0, 10)]) == (0.5, 0.5)
    assert all(math.isnan(x) for x in bootstrap_interval([(0, 0)]))


def test_agreement_and_cohens_kappa_worked_example():
    pairs = [(True, True)] * 8 + [(False, False)] * 7 + [(True, False)] * 3 + [(False, True)] * 2
    a = agreement("exact", "similarity", pairs)
    assert (a.items, a.both_correct, a.both_wrong, a.only_first, a.only_second) == (20, 8, 7, 3, 2)
    assert a.rate == 0.75
    assert a.kappa == pytest.approx(0.5)  # chance agreement 0.55*0.5 + 0.45*0.5 = 0.5
    assert math.isnan(agreement("a", "b", [(True, True)] * 3).kappa)


def _row(scorer, correct):
    return {"scorer": scorer, "correct": correct}


def test_choose_row_follows_the_precedence_and_skips_errors():
    rows = {s: _row(s, c) for s, c in [("similarity", True), ("vlm:qwen", False), ("human", True),
                                       ("exact", None)]}
    assert choose_row(rows)["scorer"] == "human"  # exact errored, so the next kind decides
    assert choose_row({**rows, "exact": _row("exact", False)})["scorer"] == "exact"
    assert choose_row(rows, "vlm")["scorer"] == "vlm:qwen"
    assert choose_row(rows, "vlm:qwen")["correct"] is False
    assert choose_row(rows, "similarity")["correct"] is True
    assert choose_row({"exact": _row("exact", None)}) is None


@pytest.fixture
def experiment(tmp_path):
    exp = tmp_path / "outputs" / "exp"
    questions = card_questions(3) + card_questions(2, domain="boards")
    write_controls(exp, questions)
    for i, q in enumerate(questions):  # model-a solves cards_00, cards_02 and boards_01
        write_item(exp, "model-a", q, [q.first_frame, q.final_frame if i % 2 == 0 else q.first_frame])
        write_item(exp, "model-b", q, [q.first_frame], status="failed" if i == 0 else "ok")
    return exp


def test_leaderboard_ranks_models_keeps_controls_apart_and_counts_unscored(experiment):
    score_experiment(experiment, "auto")
    board = build_leaderboard(experiment, resamples=2000)
    assert board.models == ["model-a", "model-b"] and board.controls == ["oracle", "static"]
    assert board.tasks == ["boards", "cards"]
    a = board.cells[("model-a", ALL)]
    assert (a.correct, a.judged, a.unscored, a.rate) == (3, 5, 0, 0.6) and a.low < 0.6 < a.high
    assert board.cells[("model-a", "cards")].correct == 2 and board.cells[("model-a", "boards")].correct == 1
    b = board.cells[("model-b", ALL)]
    assert (b.correct, b.judged, b.unscored) == (0, 4, 1)  # the failed generation is unscored, not wrong
    assert board.cells[("oracle", ALL)].rate == 1.0 and board.cells[("static", ALL)].rate == 0.0
    text = leaderboard_text(experiment)
    assert "| model-a | 60.0% [" in text and "3/5" in text and "+1 unscored" in text
    assert "oracle (control)" in text and "static (control)" in text


def test_runner_metadata_marks_controls_and_untrained_models(experiment):
    q = card_questions(1)[0]
    write_item(experiment, "tiny", q, [q.final_frame], untrained=True)
    write_item(experiment, "hold", q, [q.first_frame], model_description={"kind": "control"})
    score_experiment(experiment, "auto")
    board = build_leaderboard(experiment, resamples=200)
    assert "tiny" in board.models and board.controls == ["oracle", "static", "hold"]
    assert "| tiny (UNTRAINED) | 100.0%" in leaderboard_text(experiment)


def test_rows_about_an_earlier_video_no_longer_count(experiment):
    score_experiment(experiment, "auto")
    q = card_questions(3)[1]
    write_item(experiment, "model-a", q, [q.first_frame, q.final_frame])  # regenerated; not yet re-scored
    board = build_leaderboard(experiment, resamples=200)
    assert board.cells[("model-a", ALL)].unscored == 1
    score_experiment(experiment, "auto")
    assert build_leaderboard(experiment, resamples=200).cells[("model-a", ALL)].correct == 4


def test_agreement_between_scorers_that_judged_the_same_items(experiment):
    score_experiment(experiment, "auto")
    for model, question, verdict in [("model-a", "cards_00", True), ("model-a", "cards_01", True),
                                     ("oracle", "cards_00", True), ("static", "cards_00", False)]:
        item = read_item(experiment / model / "cards_task" / question)
        append_row(experiment, human_row(item, verdict, "tester"))
    board = build_leaderboard(experiment, resamples=200)
    (a,) = board.agreements
    assert (a.first, a.second, a.items, a.both_correct, a.both_wrong, a.only_first) == ("human", "similarity", 4, 2, 1, 1)
    assert board.cells[("model-a", ALL)].correct == 4  # the human verdict outranks the similarity scorer
    only_similarity = build_leaderboard(experiment, "similarity", resamples=200)
    assert only_similarity.cells[("model-a", ALL)].correct == 3
    with pytest.raises(UserError, match="it has: human, similarity"):
        build_leaderboard(experiment, "simlarity")
    assert "human vs similarity | 4 | 75.0%" in leaderboard_text(experiment)


def test_report_files(experiment):
    score_experiment(experiment, "auto")
    board, paths = write_report(experiment, resamples=500)
    assert sorted(p.name for p in paths.values()) == ["leaderboard.csv", "leaderboard.md", "report.html",
                                                      "report.json"]
    assert all(p.parent == experiment / "report" for p in paths.values())
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert len(rows) == 4 * 3  # (2 models + 2 controls) x (all + 2 tasks)
    first = rows[0]
    assert (first["model"], first["task"], first["correct"], first["judged"], first["rate"]) == \
        ("model-a", "all", "3", "5", "0.6")
    report = json.loads(paths["json"].read_text())
    assert report["controls"] == ["oracle", "static"] and len(report["items"]) == 20
    assert report["settings"]["bootstrap_resamples"] == 500
    failed = [i for i in report["items"] if not i["has_video"]]
    assert len(failed) == 1 and failed[0]["verdict"] is None
    html = paths["html"].read_text()
    assert html.count("<video") == 19 and 'src="data:video/mp4;base64,' in html
    assert '<table id="leaderboard">' in html and 'id="plot"' in html
    # over the embedding limit the videos are linked relative to the page, and the links resolve
    _, linked = write_report(experiment, experiment / "linked", resamples=500, embed_limit_mb=0)
    srcs = [s.split('"')[0] for s in linked["html"].read_text().split(' src="')[1:] if "video.mp4" in s.split('"')[0]]
    assert len(srcs) == 19 and all((linked["html"].parent / s).resolve().is_file() for s in srcs)


def test_report_before_scoring_says_what_to_do(experiment):
    text = leaderboard_text(experiment)
    assert "No verdicts yet: run `vmevalkit score --experiment exp`" in text and "+5 unscored" in text


def test_report_command(experiment):
    out = experiment.parent
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args, "--output-dir", str(out)], env=env,
                              capture_output=True, text=True, timeout=120)

    assert cli("score", "--experiment", "exp").returncode == 0
    done = cli("report", "--experiment", "exp", "--resamples", "500")
    assert done.returncode == 0, done.stderr
    assert "| model-a | 60.0%" in done.stdout and "wrote " in done.stdout
    assert (experiment / "report" / "report.html").is_file() and (experiment / SCORES).is_file()
    assert len(read_rows(experiment)) == 19


def _report_args(experiment: Path) -> list[str]:
    return ["report", "--experiment", "exp", "--output-dir", str(experiment.parent), "--resamples", "200"]


def test_report_command_refuses_a_negative_seed(experiment):
    from vmevalkit.cli import main

    assert main([*_report_args(experiment), "--seed", "-1"]) == 2


def test_report_into_an_out_that_cannot_be_created_is_one_error(experiment, tmp_path):
    from vmevalkit.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main([*_report_args(experiment), "--out", str(blocker / "report")]) == 2
    with pytest.raises(UserError, match="cannot create the report folder"):
        write_report(experiment, blocker / "report", resamples=200)


def test_linked_videos_under_a_folder_with_a_quote_or_hash_stay_inside_their_attribute(tmp_path):
    from html.parser import HTMLParser
    from urllib.parse import unquote

    exp = tmp_path / 'my "runs" #1' / "exp"
    write_controls(exp, card_questions(1))
    score_experiment(exp, "auto")
    _, paths = write_report(exp, tmp_path / "report", resamples=200, embed_limit_mb=0)
    sources = []

    class Videos(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "video":
                sources.append(dict(attrs)["src"])

    Videos().feed(paths["html"].read_text())
    assert len(sources) == 2 and all("#" not in s and '"' not in s for s in sources)
    assert all((paths["html"].parent / unquote(s)).resolve().is_file() for s in sources)
