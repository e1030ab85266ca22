import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from experiment_tree import card_questions, noise_frames, write_controls, write_item
from PIL import Image

from vmevalkit.cli import main
from vmevalkit.questions import Question, read_question
from vmevalkit.report.leaderboard import build_leaderboard
from vmevalkit.results import SCORES, VIDEO
from vmevalkit.scoring import pipeline
from vmevalkit.scoring.base import Score
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import latest_rows, read_rows
from vmevalkit.tasks import generate_questions
from vmevalkit.tasks.base import Generated, Task

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def questions():
    return card_questions(3) + card_questions(2, domain="boards")


@pytest.fixture
def experiment(tmp_path, questions):
    exp = tmp_path / "outputs" / "exp1"
    write_controls(exp, questions)
    return exp


def _verdicts(exp):
    return {(r["model"], r["question"]): r["correct"] for r in latest_rows(read_rows(exp)).values()}


def test_auto_scores_every_item_once_and_a_rerun_resumes(experiment):
    summary = score_experiment(experiment, "auto")
    assert summary.scored == 10 and not summary.errors
    rows = read_rows(experiment)
    assert len(rows) == 10 and {r["scorer"] for r in rows} == {"similarity"}
    verdicts = _verdicts(experiment)
    assert all(v is True for (m, _), v in verdicts.items() if m == "oracle")
    assert all(v is False for (m, _), v in verdicts.items() if m == "static")
    for row in rows:
        assert row["video_sha256"] and row["version"] == "1" and row["domain"] in ("cards", "boards")
        assert 0.0 <= row["score"] <= 1.0 and "changed" in row["details"]
    again = score_experiment(experiment, "auto")
    assert again.scored == 0 and again.already_scored == 10
    assert len(read_rows(experiment)) == 10


def test_a_regenerated_video_is_scored_again_and_its_new_row_wins(experiment, questions):
    score_experiment(experiment, "auto")
    q = questions[1]
    write_item(experiment, "static", q, [q.first_frame] * 3 + [q.final_frame] * 3)  # now it solves it
    summary = score_experiment(experiment, "auto")
    assert summary.scored == 1 and summary.already_scored == 9
    assert _verdicts(experiment)[("static", q.key)] is True
    assert len(read_rows(experiment)) == 11


def test_failed_unreadable_and_unscorable_items_never_stop_the_batch(experiment, questions):
    write_item(experiment, "broken", questions[0], [questions[0].first_frame], status="failed")
    corrupt = write_item(experiment, "broken", questions[1], noise_frames(questions[1]))
    (corrupt / VIDEO).write_bytes(b"not an mp4 at all")
    still = Question(id="still", domain="odd", prompt="do nothing", first_frame=questions[2].first_frame,
                     final_frame=questions[2].first_frame)
    write_item(experiment, "broken", still, [still.first_frame])
    summary = score_experiment(experiment, "auto")
    assert summary.scored == 11 and summary.unfinished == [f"broken {questions[0].key}"]
    assert len(summary.errors) == 2
    assert any("not a readable video" in e and questions[1].key in e for e in summary.errors)
    assert any("same as first_frame" in e for e in summary.errors)
    verdicts = _verdicts(experiment)
    assert ("broken", questions[1].key) not in verdicts and verdicts[("oracle", questions[4].key)] is True
    # deterministic scorer errors are final for that video: a rerun does not append them again; the broken
    # video is no verdict of a scorer: it is reported again on every run, until `vmevalkit run` redoes it
    again = score_experiment(experiment, "auto")
    assert again.scored == 0 and [e for e in again.errors if "not a readable video" in e]


@pytest.mark.parametrize("line", [b'{"model": "oracle\xff", "question": "q", "scorer": "exact"}\n', b"[1, 2]\n",
                                  b'{"model": ["oracle"], "question": "q", "scorer": "exact"}\n',
                                  b'{"model": "oracle", "question": "q", "scorer": "exact", "correct": "yes"}\n'])
def test_a_bad_row_in_scores_is_skipped_with_its_line_number(experiment, capsys, line):
    score_experiment(experiment, "auto")
    with open(experiment / SCORES, "ab") as f:
        f.write(line)
    assert score_experiment(experiment, "auto").already_scored == 10
    board = build_leaderboard(experiment, resamples=100)
    assert board.scored == 10
    assert f"warning: {experiment / SCORES}:11: skipped" in capsys.readouterr().err


@pytest.mark.parametrize("broken", [b'{"status": "ok\xff"}', b"[]", b'{"status": "ok", "model": "oracle"'])
def test_a_broken_metadata_json_is_skipped_with_a_warning(experiment, questions, capsys, broken):
    meta = experiment / "oracle" / questions[0].key / "metadata.json"
    meta.write_bytes(broken)
    summary = score_experiment(experiment, "auto")
    assert summary.scored == 9 and not summary.errors
    assert f"warning: {meta}: " in capsys.readouterr().err
    assert ("oracle", questions[0].key) not in _verdicts(experiment)
    assert len(build_leaderboard(experiment, resamples=100).items) == 9


class ToyTask(Task):
    """A built-in task stand-in: solved when the last frame is mostly red."""

    name = "toy"
    version = "7"
    description = "turn the square red"

    def generate(self, seed, difficulty):
        first = Image.new("RGB", (64, 48), (255, 255, 255))
        final = Image.new("RGB", (64, 48), (255, 0, 0))
        q = Question(id=f"toy_{seed}", domain="toy", prompt="paint it red", first_frame=first, final_frame=final,
                     metadata={"task": "toy", "task_version": self.version})
        return Generated(q, None)

    def score(self, question, video):
        r, g, b = video.frames[-1].reshape(-1, 3).mean(axis=0)
        return Score("toy-colour", "7", bool(r > 200 and g < 60), float(r / 255), {"mean_rgb": [r, g, b]})

    def wrong_final_frame(self, question, seed):
        return question.first_frame


def test_auto_uses_the_exact_scorer_of_a_built_in_task(experiment, monkeypatch):
    monkeypatch.setattr(pipeline, "all_tasks", lambda: {"toy": ToyTask()})
    toy = ToyTask().generate(0, "easy").question
    write_item(experiment, "oracle", toy, [toy.first_frame, toy.final_frame])
    write_item(experiment, "static", toy, [toy.first_frame, toy.first_frame])
    score_experiment(experiment, "auto")
    rows = {(r["model"], r["question"]): r for r in read_rows(experiment)}
    exact = rows[("oracle", toy.key)]
    assert exact["scorer"] == "exact" and exact["method"] == "toy-colour" and exact["version"] == "7"
    assert exact["task"] == "toy" and exact["correct"] is True and rows[("static", toy.key)]["correct"] is False
    assert rows[("oracle", "cards_task/cards_00")]["scorer"] == "similarity"
    # --scorer exact judges only built-in tasks and says why it skips the rest
    only_exact = score_experiment(experiment, "exact")
    assert only_exact.scored == 0 and only_exact.already_scored == 2 and len(only_exact.not_applicable) == 10
    # --scorer similarity adds its own rows beside the exact ones
    assert score_experiment(experiment, "similarity").scored == 2


def test_built_in_tasks_get_their_exact_scorer_and_agreement_with_similarity(tmp_path):
    folders = generate_questions(["maze", "sudoku"], 2, 0, None, tmp_path / "questions")
    questions = [read_question(f) for f in folders]
    exp = tmp_path / "outputs" / "tasks"
    write_controls(exp, questions, model_size=(512, 320))
    assert score_experiment(exp, "auto").scored == 8
    rows = latest_rows(read_rows(exp))
    assert {(scorer, row["task"]) for (_, _, _, scorer), row in rows.items()} == {("exact", "maze"), ("exact", "sudoku")}
    assert all(row["correct"] is (model == "oracle") for (model, _, _, _), row in rows.items())
    assert score_experiment(exp, "similarity").scored == 8
    (agreement,) = build_leaderboard(exp, resamples=200).agreements
    assert (agreement.first, agreement.second, agreement.items, agreement.rate) == ("exact", "similarity", 8, 1.0)


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_score_command(experiment):
    out = experiment.parent
    done = _cli("score", "--experiment", "exp1", "--output-dir", str(out), cwd=out)
    assert done.returncode == 0, done.stderr
    assert "scored 10 item(s)" in done.stdout
    assert len((experiment / SCORES).read_text().splitlines()) == 10
    rerun = _cli("score", "--experiment", "exp1", "--output-dir", str(out), "--quiet", cwd=out)
    assert rerun.returncode == 0 and "scored 0 item(s); 10 already scored" in rerun.stdout
    missing = _cli("score", "--experiment", "nope", "--output-dir", str(out), cwd=out)
    assert missing.returncode == 2 and "no such experiment" in missing.stderr and "exp1" in missing.stderr
    no_judge = _cli("score", "--experiment", "exp1", "--output-dir", str(out), "--scorer", "vlm", cwd=out)
    assert no_judge.returncode == 2 and "VMEVALKIT_VLM_BASE_URL" in no_judge.stderr


def _hint(printed: str, before: str, after: str | None = None) -> list[str]:
    """The words of the command printed after `before` (up to `after`), as a shell would split them."""
    text = printed.split(before, 1)[1]
    return shlex.split(text.split(after, 1)[0] if after else text.splitlines()[0])


def test_the_next_command_printed_by_score_works_as_typed(tmp_path, questions, capsys, monkeypatch):
    exp = tmp_path / "my outputs;x" / "exp-1"  # experiment names are plain (check_experiment_name); folders not
    write_controls(exp, questions[:1])
    assert main(["score", "--experiment", exp.name, "--output-dir", str(exp.parent), "--quiet"]) == 0
    command = _hint(capsys.readouterr().out, "next: ")
    assert command == ["vmevalkit", "report", "--experiment", exp.name, "--output-dir", str(exp.parent)]
    assert main(command[1:] + ["--resamples", "100"]) == 0
    monkeypatch.chdir(tmp_path)
    write_controls(tmp_path / "outputs" / "exp2", questions[:1])
    assert main(["score", "--experiment", "exp2", "--quiet"]) == 0
    assert _hint(capsys.readouterr().out, "next: ") == ["vmevalkit", "report", "--experiment", "exp2"]


def test_a_broken_line_in_scores_is_skipped_not_fatal(experiment, capsys):
    score_experiment(experiment, "auto")
    with open(experiment / SCORES, "a") as f:
        f.write('{"model": "oracle", "quest\n')
    assert len(read_rows(experiment)) == 10
    assert "skipped a broken line" in capsys.readouterr().err
    assert json.loads((experiment / SCORES).read_text().splitlines()[0])["scorer"] == "similarity"
