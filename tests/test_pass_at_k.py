"""Samples and pass@k: the estimator against enumeration, the bootstrap over questions, sample folders
and rows, and the report on an experiment tree with three samples per question."""

import csv
import io
import json
import shutil
from itertools import combinations
from math import comb
from pathlib import Path

import numpy as np
import pytest
from experiment_tree import card_questions, write_item

from vmevalkit.errors import UserError
from vmevalkit.report import leaderboard_text, write_report
from vmevalkit.report.leaderboard import ALL, build_leaderboard
from vmevalkit.report.passk import choose_ks, estimate, parse_ks, pass_at_k
from vmevalkit.report.stats import mean_interval
from vmevalkit.results import iter_items
from vmevalkit.review.server import ReviewServer
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import append_row, latest_rows, read_rows


def test_pass_at_k_equals_the_share_of_k_subsets_holding_a_correct_sample():
    for n in range(1, 8):
        for c in range(n + 1):
            samples = [True] * c + [False] * (n - c)
            for k in range(1, n + 1):
                subsets = list(combinations(samples, k))
                direct = sum(any(s) for s in subsets) / len(subsets)
                assert len(subsets) == comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(direct, abs=1e-12), (n, c, k)
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)  # pass@1 is the share of correct samples
    for bad in [(3, 1, 0), (3, 1, 4), (3, 4, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(*bad)


def test_mean_interval_resamples_questions_within_each_task():
    values = [1.0, 2 / 3, 1 / 3, 0.0, 0.0, 1 / 3, 1.0, 2 / 3]
    low, high = mean_interval([values], resamples=4000, seed=3)
    brute = np.random.default_rng(1).choice(values, size=(20_000, len(values))).mean(axis=1)
    assert low == pytest.approx(np.percentile(brute, 2.5), abs=0.04)
    assert high == pytest.approx(np.percentile(brute, 97.5), abs=0.04)
    assert mean_interval([[0.5] * 6]) == (0.5, 0.5)  # every question alike: nothing to resample
    assert mean_interval([[1.0] * 5, [0.0] * 5]) == (0.5, 0.5)  # stratified: tasks keep their size
    assert all(np.isnan(mean_interval([[], []])))


def test_estimate_leaves_out_questions_with_fewer_than_k_judged_samples():
    per_task = {"a": [(3, 1), (3, 3), (2, 0)], "b": [(3, 0)]}
    p2 = estimate(per_task, 2, 500, 0)
    assert (p2.questions, p2.short) == (4, 0)
    assert p2.value == pytest.approx((2 / 3 + 1 + 0 + 0) / 4)
    p3 = estimate(per_task, 3, 500, 0)
    assert (p3.questions, p3.short) == (3, 1) and p3.value == pytest.approx((1 + 1 + 0) / 3)


def test_pass_k_option_values():
    assert parse_ks("5,1, 3,3") == [1, 3, 5]
    for bad in ("", "0,2", "a", "1.5"):
        with pytest.raises(UserError, match="--pass-k"):
            parse_ks(bad)
    assert choose_ks(None, 1) == [] and choose_ks(None, 4) == [1, 4] and choose_ks([2], 4) == [2]
    with pytest.raises(UserError, match="at most 3 sample"):
        choose_ks([1, 5], 3)


PATTERN = [[1, 1, 1], [1, 0, 0], [0, 0, 0], [0, 1, 0]]  # per question, which of its 3 samples are right


@pytest.fixture(scope="module")
def _trees(tmp_path_factory):
    """model-a makes 3 samples of 4 card questions, right as PATTERN says; the oracle control 3 right ones.
    Written once, and once more scored; each test gets its own copy."""
    root = tmp_path_factory.mktemp("trees")
    exp = root / "unscored"
    for q, pattern in zip(card_questions(4), PATTERN):
        for k, right in enumerate(pattern):
            write_item(exp, "model-a", q, [q.first_frame, q.final_frame if right else q.first_frame],
                       sample=k, samples=3)
            write_item(exp, "oracle", q, [q.first_frame, q.final_frame], sample=k, samples=3)
    shutil.copytree(exp, root / "scored")
    score_experiment(root / "scored", "auto")
    return root


@pytest.fixture
def sampled(_trees, tmp_path):
    return Path(shutil.copytree(_trees / "unscored", tmp_path / "outputs" / "exp"))


@pytest.fixture
def scored(_trees, tmp_path):
    return Path(shutil.copytree(_trees / "scored", tmp_path / "outputs" / "exp"))


def test_sample_folders_read_as_items_and_rows_are_keyed_by_sample(sampled):
    items = [i for i in iter_items(sampled) if i.model == "model-a"]
    assert [i.folder.name for i in items[:3]] == ["cards_00", "cards_00@1", "cards_00@2"]
    assert [(i.sample, i.samples) for i in items[:3]] == [(0, 3), (1, 3), (2, 3)]
    assert items[1].key == ("model-a", "cards_task/cards_00", 1) and items[1].label.endswith("cards_00@1")
    summary = score_experiment(sampled, "auto")
    assert summary.scored == 24
    rows = latest_rows(read_rows(sampled))
    assert len(rows) == 24 and {k[2] for k in rows} == {0, 1, 2}
    assert [rows[("model-a", "cards_task/cards_01", k, "similarity")]["correct"] for k in range(3)] == [True, False, False]
    assert score_experiment(sampled, "auto").already_scored == 24  # resumes sample by sample


def test_rows_and_items_written_before_samples_read_as_sample_zero(scored, tmp_path):
    row = next(r for r in read_rows(scored) if r["sample"] == 0)
    del row["sample"]
    append_row(scored, {**row, "correct": not row["correct"]})
    key = (row["model"], row["question"], 0, row["scorer"])
    assert latest_rows(read_rows(scored))[key]["correct"] is (not row["correct"])
    old = tmp_path / "old"
    q = card_questions(1)[0]
    write_item(old, "m", q, [q.final_frame])
    (item,) = iter_items(old)
    assert (item.sample, item.samples, item.folder.name) == (0, 1, "cards_00")


def test_a_bad_sample_number_leaves_that_item_out(sampled, capsys):
    q = card_questions(1)[0]
    write_item(sampled, "model-b", q, [q.final_frame], sample=3, samples=3)  # sample 3 of 0..2
    assert not [i for i in iter_items(sampled) if i.model == "model-b"]
    assert "not one of its samples" in capsys.readouterr().err


def test_report_gives_pass_at_k_per_task_and_overall_with_intervals_over_questions(scored):
    board = build_leaderboard(scored, resamples=500, pass_ks=[1, 2, 3])
    cell = board.cells[("model-a", ALL)]
    assert (cell.correct, cell.judged, cell.success.questions) == (5, 12, 4)
    assert cell.rate == pytest.approx(5 / 12)
    expected = {1: 5 / 12, 2: (1 + 2 / 3 + 0 + 2 / 3) / 4, 3: 3 / 4}
    for k, value in expected.items():
        for task in (ALL, "cards"):
            p = board.pass_at[("model-a", task, k)]
            assert p.value == pytest.approx(value) and p.questions == 4 and p.low <= p.value <= p.high
        assert board.pass_at[("oracle", ALL, k)].value == 1.0
    assert board.pass_at[("model-a", ALL, 1)].low == pytest.approx(cell.low)  # pass@1 is the success rate
    text = leaderboard_text(scored, pass_ks=[1, 3])
    assert "### pass@k" in text and "| model-a | 3 | 75.0% [" in text and "n=4" in text
    assert "Up to 3 samples per question" in text
    assert build_leaderboard(scored, resamples=200).pass_ks == [1, 3]  # default: 1 and the number of samples


def test_intervals_resample_questions_not_samples(tmp_path):
    exp = tmp_path / "exp"
    for q in card_questions(4):  # every question: one right sample of three
        for k in range(3):
            write_item(exp, "m", q, [q.first_frame, q.final_frame if k == 0 else q.first_frame], sample=k, samples=3)
    score_experiment(exp, "auto")
    cell = build_leaderboard(exp, resamples=500).cells[("m", ALL)]
    assert (cell.rate, cell.low, cell.high) == pytest.approx((1 / 3, 1 / 3, 1 / 3))  # the questions are alike


def test_report_files_with_samples(scored):
    _, paths = write_report(scored, resamples=300, pass_ks=[1, 2])
    rows = list(csv.DictReader(io.StringIO(paths["pass_csv"].read_text())))
    assert len(rows) == 2 * 2 * 2  # (model-a, oracle) x (all, cards) x (k = 1, 2)
    first = rows[0]
    assert (first["model"], first["task"], first["k"], first["questions"]) == ("model-a", "all", "1", "4")
    assert float(first["pass_at_k"]) == pytest.approx(5 / 12, abs=1e-4)
    assert paths["pass_plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(paths["json"].read_text())
    assert report["samples"] == 3 and report["pass_at_k"]["k"] == [1, 2] and report["settings"]["pass_k"] == [1, 2]
    assert sorted({(i["question"], i["sample"]) for i in report["items"]})[:3] == [
        ("cards_task/cards_00", 0), ("cards_task/cards_00", 1), ("cards_task/cards_00", 2)]
    html = paths["html"].read_text()
    assert '<table id="pass-at-k">' in html and 'id="pass-plot"' in html and html.count("<video") == 24
    assert 'data-sample="2"' in html and "</b> sample 2<br>" in html


def test_report_command_pass_k_errors_are_one_line(scored, capsys):
    from vmevalkit.cli import main

    args = ["report", "--experiment", "exp", "--output-dir", str(scored.parent), "--resamples", "200"]
    assert main([*args, "--pass-k", "0"]) == 2
    assert main([*args, "--pass-k", "4"]) == 2
    err = capsys.readouterr().err
    assert "every k must be 1 or more" in err and "at most 3 sample(s) per question" in err
    assert "Traceback" not in err


def test_without_samples_the_report_has_no_pass_at_k_section(tmp_path):
    exp = tmp_path / "exp"
    for q in card_questions(2):
        write_item(exp, "m", q, [q.final_frame])
    score_experiment(exp, "auto")
    board, paths = write_report(exp, resamples=200)
    assert board.pass_ks == [] and board.samples == 1
    assert "pass@k" not in paths["markdown"].read_text() and "pass-at-k" not in paths["html"].read_text()
    assert set(paths) == {"markdown", "csv", "json", "html"}
    assert "pass@k" in leaderboard_text(exp, pass_ks=[1])  # asked for: shown


def test_review_page_lists_samples_and_a_verdict_lands_on_its_sample(sampled):
    server = ReviewServer(sampled)
    entries = server.item_list()
    assert {(e["sample"], e["samples"]) for e in entries} == {(0, 3), (1, 3), (2, 3)}
    index = server.index_of[next(e["id"] for e in entries if e["model"] == "model-a" and e["sample"] == 1)]
    row = server.record(index, True, "")
    assert row["sample"] == 1
    humans = [e for e in server.item_list() if e["human"] is not None]
    assert [(e["model"], e["question"], e["sample"]) for e in humans] == [("model-a", "cards_task/cards_00", 1)]
    server.httpd.server_close()
