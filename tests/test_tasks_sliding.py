"""The sliding puzzle: scrambles exactly k moves from solved, chains of slides, a tile reader, and the
process checks (tiles that vanish or repeat, changes that are no slides)."""

from itertools import pairwise

import numpy as np
import pytest
from PIL import ImageChops
from task_checks import generated_twice, scored_controls

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import ending_on, held_video, solution_video
from vmevalkit.tasks.sliding import MOVES, SOLVED, TRAY_VIEW, depths, slide, slide_chain, solution_path
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("sliding")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(6, d) for d in TASK.difficulties}


def test_scrambles_are_exactly_k_moves_from_solved_and_deterministic():
    for difficulty, (low, high) in MOVES.items():
        for seed in range(3):
            a = generated_twice(TASK, seed, difficulty)
            board = tuple(a.metadata["sliding"]["board"])
            k = a.metadata["solution"]["moves"]
            assert low <= k <= high and depths()[board] == k and board != SOLVED
            path = solution_path(board)
            assert len(path) == k + 1 and path[-1] == SOLVED
            assert all(slide_chain(x, y) is not None for x, y in pairwise(path))
            assert str(k) in a.prompt


def test_depths_are_shortest_solution_lengths():
    d = depths()
    assert d[SOLVED] == 0 and sum(v == 1 for v in d.values()) == 2 and sum(v == 2 for v in d.values()) == 4
    for board, depth in list(d.items())[:300]:
        nearer = [slide(board, c) for c in range(9) if abs(c - board.index(0)) in (1, 3)
                  and (abs(c - board.index(0)) == 3 or c // 3 == board.index(0) // 3)]
        assert depth == 0 or min(d.get(b, 99) for b in nearer) == depth - 1


def test_slide_chain_accepts_slides_and_refuses_swaps_jumps_and_diagonals():
    one = slide(SOLVED, 7)  # tile 8 slides right into the space
    assert slide_chain(SOLVED, one) == [8, 7]
    two = slide(one, 4)  # then tile 5 slides down
    assert slide_chain(SOLVED, two) == [8, 7, 4]
    assert slide_chain(SOLVED, SOLVED) == [8]
    swapped = (2, 1, 3, 4, 5, 6, 7, 8, 0)
    assert slide_chain(SOLVED, swapped) is None
    diagonal = (1, 2, 3, 4, 0, 6, 7, 8, 5)  # tile 5 to the corner
    assert slide_chain(SOLVED, diagonal) is None
    around = SOLVED
    for cell in (5, 4, 7, 8):  # the space goes round the bottom-right 2x2 block and back to its corner
        around = slide(around, cell)
    assert around == (1, 2, 3, 4, 8, 5, 7, 6, 0)  # tiles 5, 6 and 8 turned round
    assert slide_chain(SOLVED, around) is None  # four slides between two boards at rest: not one chain


def test_the_reader_reads_every_tile():
    for board in [SOLVED, (8, 7, 6, 5, 4, 3, 2, 1, 0), (0, 1, 2, 3, 4, 5, 6, 7, 8)]:
        read, doubtful = TRAY_VIEW.read(np.asarray(TRAY_VIEW.draw(board), np.float32))
        assert read == board and not doubtful


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle, static, wrong = scored_controls(TASK, g, 2)
        assert oracle.details["moves_read"] == q.metadata["solution"]["moves"]
        assert not oracle.details["illegal_changes"] and not oracle.details["missing_or_repeated"]
        assert static.details["unchanged"] is True and wrong.details["solved"] is False


def test_tiles_that_repeat_or_vanish_and_swaps_are_caught(generated):
    q = generated["easy"].question
    start = tuple(q.metadata["sliding"]["board"])
    repeated = tuple(start[0] if i == 1 else t for i, t in enumerate(start))
    vanished = tuple(0 if t == 5 else t for t in start)
    for broken in (repeated, vanished):
        score = TASK.score(q, solution_video([q.first_frame, TRAY_VIEW.draw(broken), q.final_frame]))
        assert score.correct is False and score.details["solved"] is True
        assert score.details["missing_or_repeated"][0]["board"] == list(broken)
    swapped = (2, 1, 3, 4, 5, 6, 7, 8, 0)  # solved only by lifting two tiles out and swapping them
    path = [start, *solution_path(start)[1:-1]]
    frames = [TRAY_VIEW.draw(b) for b in path] + [TRAY_VIEW.draw(swapped), q.final_frame]
    score = TASK.score(q, solution_video(frames))
    assert score.correct is False and score.details["illegal_changes"]


def test_a_video_that_opens_on_the_solved_board_made_no_move(generated):
    q = generated["medium"].question
    score = TASK.score(q, held_video(q.final_frame))
    assert score.details["solved"] is True and score.details["started_at_start"] is False
    assert score.correct is False


def test_a_changed_frame_is_correct_but_inconsistent(generated):
    g = generated["medium"]
    score = TASK.score(g.question, ending_on(g.solution, TASK.inconsistent_final_frame(g.question, 0)))
    assert score.correct is True and score.consistent is False
    assert len(score.details["consistency"]["changed"]) == 1
    broken = TRAY_VIEW.draw(SOLVED, base=TRAY_VIEW.empty_tray(broken_side=2))
    score = TASK.score(g.question, ending_on(g.solution, broken))
    assert score.correct is True and score.details["consistency"]["changed"] == ["frame bottom"]


def test_distorted_and_drifted_oracles_are_still_read(generated):
    g = generated["easy"]
    score = TASK.score(g.question, all_distortions(g.solution, np.random.default_rng(0)))
    assert score.correct is True and score.consistent is True and not score.details["doubtful_cells"]
    drift = [ImageChops.offset(g.solution.frame(i), -6, 5) for i in range(g.solution.num_frames)]
    assert TASK.score(g.question, solution_video(drift, hold_start=0, hold_end=0)).correct is True
