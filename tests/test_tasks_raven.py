"""The Raven task: matrices obey their named rules, the answer is forced, the closest-panel scorer."""

import numpy as np
import pytest

from vmevalkit.tasks import get_task
from vmevalkit.tasks._question import task_rng
from vmevalkit.tasks._video import held_video
from vmevalkit.tasks.raven import VALUES, VARYING, candidates, draw_matrix, make_matrix
from vmevalkit.tasks.validation import all_distortions
from vmevalkit.video import Video

TASK = get_task("raven")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(5, d) for d in TASK.difficulties}


def _index(attr, value):
    return VALUES[attr].index(value)


def _forced_answer(panels8, rules):
    """What each rule calls for in the ninth panel, from the eight shown panels alone."""
    answer = {}
    for attr, rule in rules.items():
        rows = [[_index(attr, p[attr]) for p in panels8[r * 3:r * 3 + 3]] for r in range(3)]
        if rule == "constant":
            answer[attr] = rows[2][0]
        elif rule == "progression":
            answer[attr] = rows[2][1] + (rows[0][1] - rows[0][0])
        else:
            answer[attr] = (set(rows[0]) - set(rows[2][:2])).pop()
    return {attr: VALUES[attr][i] for attr, i in answer.items()}


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_every_row_follows_the_named_rule_and_the_answer_is_forced(difficulty, generated):
    rng = task_rng("raven-test", 0, difficulty)
    meta = generated[difficulty].question.metadata
    matrices = [(meta["solution"]["rules"], meta["panels"] + [meta["solution"]["answer"]])]
    matrices += [make_matrix(rng, difficulty) for _ in range(40)]
    for rules, panels in matrices:
        answer = panels[8]
        assert sum(rule != "constant" for rule in rules.values()) == VARYING[difficulty]
        for attr, rule in rules.items():
            rows = [[_index(attr, p[attr]) for p in panels[r * 3:r * 3 + 3]] for r in range(3)]
            for row in rows:
                if rule == "constant":
                    assert len(set(row)) == 1
                elif rule == "progression":
                    assert row[1] - row[0] == row[2] - row[1] == rows[0][1] - rows[0][0] != 0
                else:
                    assert sorted(row) == sorted(rows[0]) and len(set(row)) == 3
            if rule == "distribute_three":
                assert rows[0] != rows[1] != rows[2]
        assert _forced_answer(panels[:8], rules) == answer


def test_oracle_correct_and_static_reads_the_question_mark(generated):
    for g in generated.values():
        q = g.question
        assert TASK.score(q, g.solution).correct is True
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["read"] == "question_mark"
        assert np.abs(np.asarray(q.first_frame, float) - np.asarray(q.final_frame, float)).max() > 100


def test_every_rule_breaking_panel_is_read_as_itself(generated):
    q = generated["medium"].question
    panels, answer = q.metadata["panels"], q.metadata["solution"]["answer"]
    for name, panel in candidates(answer).items():
        frame = draw_matrix(panels + [answer], panel, question_mark=name == "question_mark")
        score = TASK.score(q, held_video(frame))
        assert score.details["read"] == name, (name, score.details)
        assert score.correct is (name == "answer")
        if panel is not None:
            assert score.details["read_panel"] == panel
    wrong = TASK.score(q, held_video(TASK.wrong_final_frame(q, 1)))
    assert wrong.correct is False and wrong.details["read"] not in ("answer", "question_mark", "empty")


def test_distorted_oracle_is_still_correct(generated):
    for i, g in enumerate(generated.values()):
        video = all_distortions(held_video(g.question.final_frame, 3), np.random.default_rng(i))
        score = TASK.score(g.question, video)
        assert score.correct is True, score.details


def test_a_frame_that_is_not_a_matrix_is_not_recognised(generated):
    q = generated["easy"].question
    noise = np.random.default_rng(0).integers(0, 256, (3, 384, 384, 3), dtype=np.uint8)
    score = TASK.score(q, Video(noise, 8))
    assert score.correct is False and score.details["read"] is None


def test_a_drifted_picture_is_read_where_its_content_is(generated):
    from PIL import ImageChops

    q = generated["hard"].question
    drifted = ImageChops.offset(q.final_frame, 6, -4)
    assert TASK.score(q, held_video(drifted)).correct is True
    wrong = ImageChops.offset(TASK.wrong_final_frame(q, 3), -5, 7)
    assert TASK.score(q, held_video(wrong)).correct is False
