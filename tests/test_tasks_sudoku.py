"""The sudoku task: unique puzzles of three sizes, and a scorer that reads digits and checks the rules."""

import pytest

from vmevalkit.tasks import get_task
from vmevalkit.tasks._question import new_question
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.sudoku import LEVELS, Board, count_solutions, valid_completion

TASK = get_task("sudoku")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(3, d) for d in TASK.difficulties}


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_puzzles_have_one_solution_and_several_blanks(difficulty):
    side, _, _, fewest, most = LEVELS[difficulty]
    for seed in range(8):
        board, givens, solution = TASK.make(seed, difficulty)
        assert board.side == side and valid_completion(board, solution)[0]
        blanks = sum(v == 0 for row in givens for v in row)
        assert fewest <= blanks <= most
        assert all(g in (0, s) for grow, srow in zip(givens, solution) for g, s in zip(grow, srow))
        assert count_solutions(board, givens) == 1


def test_sizes_are_latin_3x3_sudoku_4x4_and_9x9(generated):
    assert [generated[d].question.metadata["sudoku"]["side"] for d in ("easy", "medium", "hard")] == [3, 4, 9]
    assert generated["easy"].question.metadata["sudoku"]["box"] == [1, 3]  # rows and columns only


def test_oracle_is_read_digit_for_digit(generated):
    for g in generated.values():
        s = TASK.score(g.question, g.solution)
        assert s.correct is True and s.details["grid_read"] == g.question.metadata["solution"]["grid"]
        assert s.details["matches_stored_solution"] and not s.details["doubtful_cells"]


def test_static_video_reads_the_givens_and_the_blanks(generated):
    for g in generated.values():
        s = TASK.score(g.question, held_video(g.question.first_frame))
        givens = g.question.metadata["sudoku"]["givens"]
        assert s.correct is False and s.details["grid_read"] == givens
        assert len(s.details["empty_cells"]) == sum(v == 0 for row in givens for v in row)


def test_wrong_digit_is_caught(generated):
    for g in generated.values():
        s = TASK.score(g.question, cut_video(g.question.first_frame, TASK.wrong_final_frame(g.question, 1)))
        assert s.correct is False and s.details["broken_units"] >= 2 and not s.details["empty_cells"]


def _question_with(givens, solution):
    board = Board(3, 1, 3)
    return new_question(TASK, 99, "easy", prompt="fill", first=board.draw(givens, [[0] * 3] * 3),
                        final=board.draw(givens, solution), solution={"grid": solution},
                        sudoku={"side": 3, "box": [1, 3], "givens": givens}), board


def test_any_valid_completion_keeping_the_givens_is_correct():
    givens = [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    stored = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
    other = [[1, 3, 2], [3, 2, 1], [2, 1, 3]]
    question, board = _question_with(givens, stored)
    answers = [[0 if givens[r][c] else other[r][c] for c in range(3)] for r in range(3)]
    s = TASK.score(question, held_video(board.draw(givens, answers)))
    assert s.correct is True and s.details["grid_read"] == other and not s.details["matches_stored_solution"]


def test_a_valid_grid_that_changes_a_given_is_incorrect(generated):
    g = generated["medium"]
    board, _, solution = TASK.board_of(g.question)
    swapped = [[{1: 2, 2: 1}.get(v, v) for v in row] for row in solution]  # still a valid Sudoku
    s = TASK.score(g.question, held_video(board.draw([[0] * 4] * 4, swapped)))
    assert valid_completion(board, swapped)[0]
    assert s.correct is False and s.details["valid_completion"] and s.details["givens_changed"]


def test_an_unfinished_grid_is_incorrect(generated):
    g = generated["hard"]
    board, givens, solution = TASK.board_of(g.question)
    r, c = next((r, c) for r in range(9) for c in range(9) if not givens[r][c])
    answers = [[0 if givens[i][j] or (i, j) == (r, c) else solution[i][j] for j in range(9)] for i in range(9)]
    s = TASK.score(g.question, held_video(board.draw(givens, answers)))
    assert s.correct is False and s.details["empty_cells"] == [[r, c]]
