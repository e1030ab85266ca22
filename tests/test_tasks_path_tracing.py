"""The path tracing task: smooth curves, clean crossings only, and the box reader."""

import numpy as np
import pytest

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import held_video
from vmevalkit.tasks.path_tracing import END_X, LEVELS, START_X, _heights, crossings, curve, draw_board
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("path_tracing")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(4, d) for d in TASK.difficulties}


def test_curve_runs_through_its_waypoints():
    waypoints = [50.0, 300.0, 120.0, 200.0]
    ys = curve(waypoints)
    assert len(ys) == END_X - START_X + 1
    stations = np.linspace(0, len(ys) - 1, len(waypoints)).round().astype(int)
    assert np.allclose(ys[stations], waypoints, atol=1.0)


def test_crossings_count_clean_crossings_and_refuse_close_calls():
    x = np.arange(START_X, END_X + 1, dtype=float)
    assert crossings(x, 400 - x) == 1  # a steep X
    assert crossings(x * 0 + 100, x * 0 + 200) == 0  # far apart
    assert crossings(x * 0 + 100, x * 0 + 110) is None  # running alongside
    touch = 100 + 60 * np.exp(-((x - 180) / 15) ** 2)
    assert crossings(touch, x * 0 + 165) is None  # touches and turns back


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_layouts_cross_cleanly_and_the_asked_line_reaches_its_box(difficulty):
    n, _, min_crossings = LEVELS[difficulty]
    for seed in range(6):
        meta = TASK.generate(seed, difficulty).question.metadata
        lines, asked, target = meta["lines"], meta["asked_start"], meta["solution"]["target_box"]
        ys = [curve(w) for w in lines]
        assert len(lines) == n and sorted(meta["solution"]["targets"]) == list(range(n))
        assert abs(ys[asked][-1] - _heights(n)[target]) < 1 and abs(ys[asked][0] - _heights(n)[asked]) < 1
        assert target != asked  # never straight across
        counts = [crossings(ys[asked], ys[j]) for j in range(n) if j != asked]
        assert None not in counts and sum(counts) >= min_crossings


def test_oracle_correct_static_wrong_and_extra_boxes_incorrect(generated):
    for g in generated.values():
        q = g.question
        meta = q.metadata
        target = meta["solution"]["target_box"]
        assert TASK.score(q, g.solution).correct is True
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["filled_boxes"] == []
        wrong = TASK.score(q, held_video(TASK.wrong_final_frame(q, 0)))
        assert wrong.correct is False and len(wrong.details["filled_boxes"]) == 1
        assert wrong.details["filled_boxes"] != [target]
        every = draw_board(meta["lines"], meta["asked_start"], list(range(len(meta["lines"]))))
        assert TASK.score(q, held_video(every)).correct is False  # filling every box is no answer


def test_distorted_oracle_is_still_correct(generated):
    for i, g in enumerate(generated.values()):
        video = all_distortions(held_video(g.question.final_frame, 3), np.random.default_rng(i))
        assert TASK.score(g.question, video).correct is True


def test_a_drifted_picture_is_still_read(generated):
    from PIL import ImageChops

    q = generated["hard"].question
    assert TASK.score(q, held_video(ImageChops.offset(q.final_frame, 7, 6))).correct is True
    assert TASK.score(q, held_video(ImageChops.offset(TASK.wrong_final_frame(q, 1), 7, 6))).correct is False
