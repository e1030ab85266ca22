"""The nonogram task: clues, the solver that keeps only puzzles with one solution, the cell reader, and the
clues that must stay."""

from itertools import product
from math import comb

import pytest
from task_checks import assert_oracle_survives_distortion_and_drift, generated_twice, scored_controls

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import ending_on, held_video
from vmevalkit.tasks.nonogram import SIZES, Layout, clues, count_solutions, placements, runs

TASK = get_task("nonogram")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(8, d) for d in TASK.difficulties}


def test_runs_and_placements():
    assert runs([1, 1, 0, 1, 0, 0, 1, 1, 1]) == [2, 1, 3] and runs([0, 0]) == []
    assert placements((), 4) == ((0, 0, 0, 0),)
    for clue, length in (((1,), 5), ((2, 1), 6), ((1, 1, 1), 10), ((3, 2), 8), ((5,), 5)):
        lines = placements(clue, length)
        free = length - sum(clue) - (len(clue) - 1)
        assert len(set(lines)) == len(lines) == comb(free + len(clue), len(clue))
        assert all(len(line) == length and runs(list(line)) == list(clue) for line in lines)


def test_the_solver_counts_solutions_as_brute_force_does():
    grids = [list(map(list, g)) for g in product(product((0, 1), repeat=3), repeat=3)]  # every 3x3 grid
    by_clues = {}
    for g in grids:
        by_clues.setdefault(repr(clues(g)), []).append(g)
    for g in grids:
        assert count_solutions(*clues(g)) == min(2, len(by_clues[repr(clues(g))]))
    assert count_solutions([[1], [1]], [[1], [1]]) == 2  # the two diagonals


def test_puzzles_are_deterministic_sized_by_level_and_have_one_solution():
    for difficulty, (low, high) in SIZES.items():
        for seed in range(3):
            a = generated_twice(TASK, seed, difficulty)
            cells, m = a.metadata["solution"]["cells"], a.metadata["nonogram"]
            assert low <= m["size"] <= high and len(cells) == m["size"]
            assert (m["row_clues"], m["column_clues"]) == clues(cells)
            assert count_solutions(m["row_clues"], m["column_clues"]) == 1


def test_oracle_correct_static_and_wrong_cells_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle, static, wrong = scored_controls(TASK, g, 4)
        assert oracle.details["cells_read"] == q.metadata["solution"]["cells"]
        assert static.details["filled_read"] == 0 and 1 <= len(wrong.details["wrong_cells"]) <= 2
        assert wrong.details["clues_broken"]


def test_every_cell_is_read(generated):
    q = generated["hard"].question
    m = q.metadata["nonogram"]
    checker = [[(r + c) % 2 for c in range(m["size"])] for r in range(m["size"])]
    score = TASK.score(q, held_video(Layout(m["size"]).draw(m["row_clues"], m["column_clues"], checker)))
    assert score.details["cells_read"] == checker and score.correct is False


def test_an_erased_clue_number_is_correct_but_inconsistent(generated):
    for seed, g in enumerate(generated.values()):
        score = TASK.score(g.question, ending_on(g.solution, TASK.inconsistent_final_frame(g.question, seed)))
        assert score.correct is True and score.consistent is False
        assert len(score.details["consistency"]["changed"]) == 1
    q = generated["hard"].question
    m = q.metadata["nonogram"]
    nearest = f"column {m['size']} number {max(1, len(m['column_clues'][-1]))}"  # just above the grid
    erased = Layout(m["size"]).draw(m["row_clues"], m["column_clues"], q.metadata["solution"]["cells"], nearest)
    score = TASK.score(q, ending_on(generated["hard"].solution, erased))
    assert score.correct is True and score.details["consistency"]["changed"] == [nearest]


def test_distorted_and_drifted_oracles_are_still_read(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (-5, 7))
