"""The counting task: the asked kind is counted right, distractors confuse, the box reader."""

import numpy as np
import pytest
from PIL import Image

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import held_video
from vmevalkit.tasks.counting import BOXES, LEVELS, box, draw_scene
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("counting")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(2, d) for d in TASK.difficulties}


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_count_is_the_number_of_figures_of_the_asked_kind(difficulty):
    low, high, n_other, _ = LEVELS[difficulty]
    for seed in range(8):
        q = TASK.generate(seed, difficulty).question
        sol, figures = q.metadata["solution"], q.metadata["figures"]
        kind = tuple(sol["kind"])
        assert sum((f["colour"], f["shape"]) == kind for f in figures) == sol["count"]
        assert low <= sol["count"] <= high and len(figures) == sol["count"] + n_other
        assert f"{kind[0]} {kind[1]}s" in q.prompt
        for i, a in enumerate(figures):  # no two figures overlap
            for b in figures[i + 1:]:
                assert (a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2 >= (a["r"] + b["r"]) ** 2
        if difficulty != "easy":  # some figures share the asked colour or shape but are not the kind
            assert any((f["colour"] == kind[0]) != (f["shape"] == kind[1]) for f in figures)


def test_oracle_correct_static_and_off_by_one_incorrect(generated):
    for g in generated.values():
        q = g.question
        count = q.metadata["solution"]["count"]
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.details["count_read"] == count
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["filled_boxes"] == []
        wrong = TASK.score(q, held_video(TASK.wrong_final_frame(q, 0)))
        assert wrong.correct is False and abs(wrong.details["count_read"] - count) == 1


def test_every_count_is_read_and_only_left_aligned_boxes_count(generated):
    q = generated["hard"].question
    figures, count = q.metadata["figures"], q.metadata["solution"]["count"]
    for k in range(BOXES + 1):
        score = TASK.score(q, held_video(draw_scene(figures, k)))
        assert score.details["count_read"] == k and score.correct is (k == count)
    shifted = np.asarray(draw_scene(figures, count + 1)).copy()  # boxes 1..count: right number, wrong place
    x0, y0, x1, y1 = box(0)
    shifted[y0:y1 + 1, x0:x1 + 1] = np.asarray(draw_scene(figures, 0))[y0:y1 + 1, x0:x1 + 1]
    score = TASK.score(q, held_video(Image.fromarray(shifted)))
    assert score.details["filled_boxes"] == list(range(1, count + 1))
    assert score.correct is False and score.details["filled_from_left"] is False


def test_distorted_oracle_is_still_correct(generated):
    for i, g in enumerate(generated.values()):
        video = all_distortions(held_video(g.question.final_frame, 3), np.random.default_rng(i))
        assert TASK.score(g.question, video).correct is True


def test_a_drifted_picture_is_still_read(generated):
    from PIL import ImageChops

    q = generated["medium"].question
    score = TASK.score(q, held_video(ImageChops.offset(q.final_frame, -6, 5)))
    assert score.correct is True
