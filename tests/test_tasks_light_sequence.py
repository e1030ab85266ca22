"""The light sequence task: the rules do what the prompts say, every lamp is read, consistency."""

import numpy as np
import pytest
from task_checks import assert_oracle_survives_distortion_and_drift, correct_but_inconsistent, named_changes

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.light_sequence import LEVELS, MIN_CHANGED, apply_rule, describe, draw_row

TASK = get_task("light_sequence")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(4, d) for d in TASK.difficulties}


def test_each_rule_gives_the_pattern_its_prompt_describes():
    p = [1, 0, 0, 1, 1, 0]
    assert apply_rule(p, "shift", "right") == [0, 1, 0, 0, 1, 1]
    assert apply_rule(p, "shift", "left") == [0, 0, 1, 1, 0, 1]
    assert apply_rule(p, "invert", "") == [0, 1, 1, 0, 0, 1]
    assert apply_rule(p, "spread", "right") == [1, 1, 0, 1, 1, 1]  # lit from the left neighbour, one step only
    assert apply_rule(p, "spread", "left") == [1, 0, 1, 1, 1, 0]
    assert apply_rule(p, "mirror", "") == [0, 1, 1, 0, 0, 1]
    assert apply_rule([0, 1, 0, 1, 1, 1], "count", 3) == [0, 1, 1, 0, 1, 0]  # 23 + 3 = 26
    assert apply_rule(p, "xor", "") == [0, 1, 1, 1, 1, 1]  # lit where exactly one neighbour is lit
    assert "left neighbour" in describe("shift", "right") and "right neighbour" in describe("spread", "left")
    assert "Add 2" in describe("count", 2)


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_generation_is_deterministic_follows_its_level_and_never_starts_solved(difficulty):
    fewest, most, rules = LEVELS[difficulty]
    for seed in range(6):
        g = TASK.generate(seed, difficulty)
        again = TASK.generate(seed, difficulty)
        q, m = g.question, g.question.metadata
        assert q.metadata == again.question.metadata and q.prompt == again.question.prompt
        assert q.first_frame.tobytes() == again.question.first_frame.tobytes()
        lamps, after = m["lamps"], m["solution"]["pattern"]
        assert lamps["rule"] in rules and fewest <= len(after) <= most
        assert apply_rule(lamps["pattern"], lamps["rule"], lamps["param"]) == after
        assert sum(a != b for a, b in zip(lamps["pattern"], after)) >= MIN_CHANGED
        assert describe(lamps["rule"], lamps["param"]) in q.prompt
        assert q.final_frame.tobytes() == draw_row(after).tobytes()


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.consistent is True
        assert oracle.details["pattern_read"] == q.metadata["solution"]["pattern"]
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["unchanged"] is True and static.consistent is True
        wrong = TASK.score(q, cut_video(q.first_frame, TASK.wrong_final_frame(q, 0)))
        assert wrong.correct is False and len(wrong.details["wrong_lamps"]) == 1


def test_every_lamp_state_is_read(generated):
    q = generated["hard"].question
    n = len(q.metadata["solution"]["pattern"])
    rng = np.random.default_rng(0)
    for _ in range(4):
        pattern = [int(b) for b in rng.integers(0, 2, n)]
        assert TASK.score(q, held_video(draw_row(pattern))).details["pattern_read"] == pattern


def test_distorted_or_drifted_oracle_is_still_correct_and_consistent(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (5, -6))


def test_an_erased_lamp_number_or_a_switched_lamp_that_must_stay_is_inconsistent(generated):
    for g in generated.values():
        q = g.question
        score = correct_but_inconsistent(TASK, g, 1)
        (part,) = named_changes(score)
        assert part.startswith("number ") and "lamp numbers" in score.details["consistency"]["checked"]
        labels = [str(i + 1) for i in range(len(q.metadata["solution"]["pattern"]))]
        labels[int(part.split()[1]) - 1] = ""  # the number it names is the one erased
        assert np.array_equal(np.asarray(draw_row(q.metadata["solution"]["pattern"], labels)),
                              np.asarray(TASK.inconsistent_final_frame(q, 1)))
    first, after = (q.metadata["lamps"]["pattern"], q.metadata["solution"]["pattern"])
    stays = next(i for i in range(len(after)) if first[i] == after[i])
    wrong = list(after)
    wrong[stays] = 1 - wrong[stays]
    score = TASK.score(q, held_video(draw_row(wrong)))  # a lamp the rule leaves alone was switched
    assert score.correct is False and score.consistent is False
    assert named_changes(score) == [f"lamp {stays + 1}"]
