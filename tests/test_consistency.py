"""Consistency, reported apart from correctness: the comparison helpers, what the tasks call changed,
tasks without the check reading n/a, and the report's consistency columns."""

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pytest
from experiment_tree import write_controls, write_item
from PIL import Image, ImageDraw, ImageFilter

from vmevalkit.questions import Question
from vmevalkit.report import write_report
from vmevalkit.report.leaderboard import ALL
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import read_rows
from vmevalkit.tasks import get_task
from vmevalkit.tasks._draw import Grid
from vmevalkit.tasks._video import ending_on, held_video
from vmevalkit.tasks.base import Task
from vmevalkit.tasks.consistency import TOLERANCE, grid_edges, part_differences, verdict, window_means
from vmevalkit.tasks.maze import Maze
from vmevalkit.tasks.sudoku import SudokuTask
from vmevalkit.tasks.validation import table, validate_task
from vmevalkit.video import Video

MODEL_SIZE = (512, 320)  # VideoCrafter's: items are fitted to it and mapped back, as the runner does


def test_window_means_is_the_mean_over_each_window():
    values = np.random.default_rng(0).random((12, 15))
    means = window_means(values, 5)
    padded = np.pad(values, 2, mode="edge")
    assert means == pytest.approx(np.array([[padded[y:y + 5, x:x + 5].mean() for x in range(15)] for y in range(12)]))


def test_grid_edges_cover_every_cell_edge_once():
    grid = Grid.centred(3, 4)
    edges = grid_edges(grid, 2)
    assert len(edges) == 4 * 4 + 3 * 5  # (rows + 1) x cols horizontal, rows x (cols + 1) vertical
    x0, y0, x1, y1 = edges["v 1 4"]  # the right border beside row 1
    assert x1 - x0 == 5 and x0 < grid.left + 4 * grid.cell < x1 and (y0, y1) == (grid.box(1, 0)[1], grid.box(1, 0)[3])


def _picture() -> np.ndarray:
    im = Image.new("RGB", (96, 96), (255, 255, 255))
    ImageDraw.Draw(im).rectangle((20, 20, 70, 22), fill=(20, 20, 20))
    return np.asarray(im, np.float64)


def test_part_differences_see_a_stroke_but_not_a_blur_and_skip_ignored_pixels():
    reference = _picture()
    blurred = np.asarray(Image.fromarray(reference.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1)), np.float64)
    erased = reference.copy()
    erased[19:24, 20:71] = 255
    parts = {"stroke": (16, 16, 76, 28), "elsewhere": (0, 50, 96, 96)}
    assert max(part_differences(blurred, reference, parts).values()) < TOLERANCE / 2
    changed = part_differences(erased, reference, parts)
    assert changed["stroke"] > 2 * TOLERANCE and changed["elsewhere"] == 0  # a 3 px stroke: 235 grey levels
    ignore = np.zeros((96, 96), bool)
    ignore[10:34, 10:82] = True
    assert part_differences(erased, reference, parts, ignore)["stroke"] == 0
    consistent, details = verdict(changed, "a stroke")
    assert consistent is False and details["changed"] == ["stroke"] and details["largest"]["part"] == "stroke"


def _fitted(video: Video) -> Video:
    """`video` letterboxed into the model's size and mapped back, as the runner and the scorer do."""
    from vmevalkit.geometry import Fit

    fit = Fit.plan(video.frame(0), MODEL_SIZE, "letterbox")
    return fit.invert_video(Video.from_images([fit.apply(video.frame(i)) for i in range(video.num_frames)], video.fps))


def _reinked(task: SudokuTask, question: Question, cell: tuple[int, int]) -> Image.Image:
    """The solved grid with the given in `cell` written in the solver's blue ink."""
    board, givens, solution = task.board_of(question)
    givens = [row[:] for row in givens]
    answers = [[0 if givens[i][j] else solution[i][j] for j in range(board.side)] for i in range(board.side)]
    r, c = cell
    givens[r][c], answers[r][c] = 0, solution[r][c]
    return board.draw(givens, answers)


def test_sudoku_given_rewritten_in_blue_is_correct_but_inconsistent():
    task = get_task("sudoku")
    generated = task.generate(4, "easy")
    q = generated.question
    givens = q.metadata["sudoku"]["givens"]
    cell = next((r, c) for r in range(3) for c in range(3) if givens[r][c])
    s = task.score(q, _fitted(ending_on(generated.solution, _reinked(task, q, cell))))
    assert s.correct is True and s.consistent is False
    assert s.details["consistency"]["changed"] == [f"given {cell[0]} {cell[1]}"]
    oracle = task.score(q, _fitted(generated.solution))
    assert oracle.correct is True and oracle.consistent is True and oracle.details["consistency"]["parts"] > 24


def test_maze_wall_erased_is_correct_but_inconsistent_and_named():
    task = get_task("maze")
    generated = task.generate(2, "easy")
    q = generated.question
    maze = Maze.from_metadata(q.metadata["maze"])
    wall = next(((r, c), (r, c + 1)) for r, c in maze.grid.cells()
                if c + 1 < maze.n and frozenset(((r, c), (r, c + 1))) not in maze.passages)
    opened = Maze(maze.n, maze.passages | {frozenset(wall)}, maze.start, maze.goal)
    s = task.score(q, ending_on(generated.solution, opened.frame(opened.board(), maze.goal)))
    (r, c), _ = wall
    assert s.correct is True and s.consistent is False
    assert s.details["consistency"]["changed"][0] == f"v {r} {c + 1}"  # most changed; the bands at its ends follow
    assert task.score(q, held_video(q.first_frame)).consistent is True  # nothing moved: consistent


def test_a_video_whose_picture_drifted_a_little_is_still_consistent():
    def drifted(video: Video) -> Video:
        frames = np.roll(video.frames, (5, -6), axis=(1, 2))
        return Video(frames, video.fps)

    for name, seed in (("maze", 1), ("sudoku", 1)):
        generated = get_task(name).generate(seed, "easy")
        s = get_task(name).score(generated.question, drifted(generated.solution))
        assert s.correct is True and s.consistent is True, name


def test_a_task_without_the_check_reads_n_a_in_the_validation_table(monkeypatch, tmp_path):
    task_class = type(get_task("counting"))
    scored = task_class.score
    monkeypatch.setattr(task_class, "inconsistent_final_frame", Task.inconsistent_final_frame)
    monkeypatch.setattr(task_class, "score", lambda self, q, v: replace(scored(self, q, v), consistent=None))
    result = validate_task("counting", 1, 0, tmp_path, distortions={})
    assert "inconsistent" not in result.checks[0].scores and result.rate("oracle") == 1
    assert result.consistency_rate("oracle") is None and result.consistency_ok()
    assert table([result]).splitlines()[-1].endswith("| not run | not checked | n/a | n/a | n/a | n/a |")


@pytest.fixture(scope="module")
def sudoku_experiment(tmp_path_factory):
    """Two Sudoku questions: the controls, and model-x whose video is the oracle's but ends with a given
    rewritten in blue (right answer, a cell it had to leave alone changed)."""
    task = get_task("sudoku")
    exp = tmp_path_factory.mktemp("out") / "exp"
    questions = []
    for seed in (1, 2):
        generated = task.generate(seed, "easy")
        q = generated.question
        givens = q.metadata["sudoku"]["givens"]
        cell = next((r, c) for r in range(3) for c in range(3) if givens[r][c])
        video = ending_on(generated.solution, _reinked(task, q, cell))
        write_item(exp, "model-x", q, [video.frame(i) for i in range(video.num_frames)], MODEL_SIZE)
        questions.append(q)
    write_controls(exp, questions, MODEL_SIZE)
    score_experiment(exp, "auto")
    return exp


def test_oracle_that_changes_a_given_is_correct_but_inconsistent_in_the_rows(sudoku_experiment):
    rows = {(r["model"], r["question"]): r for r in read_rows(sudoku_experiment)}
    for (model, _), row in rows.items():
        assert row["scorer"] == "exact" and row["consistent"] is not None
        if model == "model-x":
            assert row["correct"] is True and row["consistent"] is False
            assert row["details"]["consistency"]["changed"][0].startswith("given ")
        elif model == "static":
            assert row["correct"] is False and row["consistent"] is True


def test_the_report_shows_success_and_consistency_side_by_side(sudoku_experiment, tmp_path):
    board, paths = write_report(sudoku_experiment, tmp_path / "report", resamples=300)
    x = board.cells[("model-x", ALL)]
    assert (x.rate, x.consistency.value, x.consistency.judged) == (1.0, 0.0, 2)
    assert board.cells[("static", "sudoku")].consistency.value == 1.0
    text = paths["markdown"].read_text()
    assert "| model | all | all consistent | sudoku | sudoku consistent |" in text
    assert "| model-x | 100.0% [100.0, 100.0] 2/2 | 0.0% [0.0, 0.0] 0/2 |" in text
    rows = {(r["model"], r["task"]): r for r in csv.DictReader(io.StringIO(paths["csv"].read_text()))}
    assert (rows[("model-x", "sudoku")]["rate"], rows[("model-x", "sudoku")]["consistency_rate"]) == ("1.0", "0.0")
    report = json.loads(paths["json"].read_text())
    entry = next(e for e in report["leaderboard"] if (e["model"], e["task"]) == ("model-x", "all"))
    assert entry["rate"] == 1.0 and entry["consistency"]["rate"] == 0.0
    assert {i["consistent"] for i in report["items"] if i["model"] == "model-x"} == {False}
    html = paths["html"].read_text()
    assert "<th>sudoku consistent</th>" in html and 'data-consistent="false"' in html
