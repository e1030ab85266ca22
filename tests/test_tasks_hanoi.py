"""The Tower of Hanoi task: the one optimal next move, a reader that finds every disc, and the process
checks (discs that vanish, discs on smaller ones, detours through other positions)."""

from itertools import product

import numpy as np
import pytest
from PIL import ImageChops
from task_checks import generated_twice, scored_controls

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import ending_on, held_video, solution_video
from vmevalkit.tasks.hanoi import (
    BASE_TOP,
    DISCS,
    GOAL_PEG,
    LEVEL,
    PEG_X,
    Reading,
    colour_classes,
    distances,
    draw_board,
    legal_moves,
    move_frames,
    moved,
    optimal_moves,
    stacks,
)
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("hanoi")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(4, d) for d in TASK.difficulties}


@pytest.mark.parametrize("n", [3, 4, 5])
def test_every_position_has_exactly_one_optimal_next_move(n):
    dist = distances(n)
    assert len(dist) == 3 ** n and max(dist.values()) == 2 ** n - 1  # all legal positions; the classic start
    for position in product(range(3), repeat=n):
        best = optimal_moves(position)
        if dist[position] == 0:
            assert best == [] and position == (GOAL_PEG,) * n
        else:
            assert len(best) == 1 and dist[moved(position, best[0])] == dist[position] - 1


def test_legal_moves_never_put_a_disc_on_a_smaller_one():
    assert sorted(legal_moves((0, 0, 0))) == [(0, 0, 1), (0, 0, 2)]
    assert sorted(legal_moves((0, 1, 2))) == [(0, 0, 1), (0, 0, 2), (1, 1, 2)]


def test_generation_is_deterministic_legal_and_never_solved():
    for difficulty, n in DISCS.items():
        for seed in range(3):
            a = generated_twice(TASK, seed, difficulty)
            start = tuple(a.metadata["hanoi"]["position"])
            move = a.metadata["solution"]["move"]
            assert len(start) == n and distances(n)[start] == a.metadata["solution"]["moves_left"] > 0
            best = (move["disc"], move["from"], move["to"])
            assert optimal_moves(start) == [best]
            assert tuple(a.metadata["solution"]["position"]) == moved(start, best)


def test_the_reader_finds_every_disc_in_its_slot():
    rng = np.random.default_rng(0)
    for n in (3, 5):
        for position in [tuple(int(p) for p in rng.integers(0, 3, n)) for _ in range(3)]:
            reading = Reading(colour_classes(np.asarray(draw_board(position), np.float32)), n)
            assert reading.position() == position and all(reading.seen) and not reading.on_smaller()


def test_oracle_correct_static_and_wrong_moves_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle, static, wrong = scored_controls(TASK, g, 1)
        assert oracle.details["move_read"] == q.metadata["solution"]["move"]
        assert oracle.details["positions_seen"] == [q.metadata["hanoi"]["position"],
                                                    q.metadata["solution"]["position"]]
        assert static.details["unchanged"] is True
        assert wrong.details["move_read"] not in (None, q.metadata["solution"]["move"])


def _question_where_the_smallest_disc_moves(difficulty="medium"):
    for seed in range(100):
        g = TASK.generate(seed, difficulty)
        if g.question.metadata["solution"]["move"]["disc"] == 0:
            return g
    raise AssertionError("no such question")


def test_a_detour_through_another_position_is_not_the_next_move():
    g = _question_where_the_smallest_disc_moves()
    start = tuple(g.question.metadata["hanoi"]["position"])
    move = g.question.metadata["solution"]["move"]
    other = 3 - move["from"] - move["to"]
    detour = (0, move["from"], other)
    frames = move_frames(start, detour) + move_frames(moved(start, detour), (0, other, move["to"]))[1:]
    score = TASK.score(g.question, solution_video(frames))
    assert score.details["position_read"] == g.question.metadata["solution"]["position"]  # it ends right...
    assert score.correct is False  # ...by two moves
    assert score.details["other_positions"] == [list(moved(start, detour))]


def test_a_vanishing_disc_and_a_disc_on_a_smaller_one_are_caught(generated):
    g = generated["hard"]
    q = g.question
    start = tuple(q.metadata["hanoi"]["position"])
    move = q.metadata["solution"]["move"]
    gone = tuple(-1 if d == move["disc"] else p for d, p in enumerate(start))  # the moving disc not drawn
    vanishing = solution_video([draw_board(start), draw_board(gone), draw_board(gone), q.final_frame])
    score = TASK.score(q, vanishing)
    assert score.details["position_read"] == q.metadata["solution"]["position"]
    assert score.correct is False and {v["disc"] for v in score.details["vanished"]} == {move["disc"]}
    largest = len(start) - 1  # now put down on top of a stack of smaller discs
    rest = tuple(-1 if d == largest else p for d, p in enumerate(start))
    peg, height = next((peg, len(stack)) for peg, stack in enumerate(stacks(rest)) if stack)
    bad = draw_board(rest, lifted=(largest, PEG_X[peg], BASE_TOP - height * LEVEL))
    score = TASK.score(q, solution_video([q.first_frame, bad, q.final_frame]))
    assert score.correct is False
    assert {"peg": peg, "disc": largest, "above": stacks(rest)[peg][-1]} in [
        {k: v[k] for k in ("peg", "disc", "above")} for v in score.details["on_smaller"]]


def test_a_video_that_opens_on_the_answer_made_no_move(generated):
    q = generated["easy"].question
    score = TASK.score(q, held_video(q.final_frame))
    assert score.details["position_read"] == q.metadata["solution"]["position"]
    assert score.correct is False and score.details["started_at_start"] is False


def test_a_changed_peg_is_correct_but_inconsistent(generated):
    g = generated["medium"]
    score = TASK.score(g.question, ending_on(g.solution, TASK.inconsistent_final_frame(g.question, 0)))
    assert score.correct is True and score.consistent is False
    changed = score.details["consistency"]["changed"]
    assert len(changed) == 1 and changed[0].endswith(" peg")
    q = generated["hard"].question
    short = draw_board(tuple(q.metadata["solution"]["position"]), short_peg=1)
    score = TASK.score(q, ending_on(generated["hard"].solution, short))
    assert score.correct is True and score.details["consistency"]["changed"] == ["middle peg"]


def test_distorted_and_drifted_oracles_are_still_read(generated):
    g = generated["hard"]  # every frame distorted: the process checks read them all
    score = TASK.score(g.question, all_distortions(g.solution, np.random.default_rng(0)))
    assert score.correct is True and score.consistent is True and not score.details["vanished"]
    drift = [ImageChops.offset(g.solution.frame(i), 5, -6) for i in range(g.solution.num_frames)]
    assert TASK.score(g.question, solution_video(drift, hold_start=0, hold_end=0)).correct is True
