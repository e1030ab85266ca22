"""The rotation task: distinct candidate views, the prompt's turn, and the closest-view scorer."""

import numpy as np
import pytest
from PIL import Image

from vmevalkit.tasks import get_task
from vmevalkit.tasks._question import task_rng
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.candidates import aligned_distances
from vmevalkit.tasks.rotation import (
    LEVELS,
    MAX_SHIFT,
    MIN_SEPARATION,
    _candidate_views,
    _key,
    _scene_from,
    _sculpture,
    _signature,
    _signatures,
    view,
)
from vmevalkit.tasks.validation import all_distortions

TASK = get_task("rotation")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(3, d) for d in TASK.difficulties}


def _views(question):
    sol = question.metadata["solution"]
    return _candidate_views(_scene_from(sol["cubes"]), sol["start_azimuth"], sol["turn"])


def test_questions_follow_their_level_and_are_never_solved(generated):
    for difficulty, g in generated.items():
        q = g.question
        n, turns = LEVELS[difficulty]
        sol = q.metadata["solution"]
        assert len(sol["cubes"]) == n and sol["turn"] in turns
        assert q.metadata["task"] == "rotation" and q.metadata["difficulty"] == difficulty
        way = "counter-clockwise" if sol["turn"] < 0 else "clockwise"
        assert f"{abs(sol['turn'])} degrees {way}" in q.prompt
        first, final = np.asarray(q.first_frame, float), np.asarray(q.final_frame, float)
        assert np.abs(first - final).mean() > 3
        assert g.solution.last_frame.tobytes() == q.final_frame.tobytes()


def test_every_candidate_view_is_distinct_even_after_zooming_and_shifting(generated):
    for g in generated.values():
        q = g.question
        sigs = _signatures(_key(q.metadata["solution"]))
        names = sorted(sigs)
        assert len(names) == 9 and q.metadata["candidates"] == names
        for name, (scene, azimuth) in _views(q).items():
            here = _signature(view(scene, azimuth))
            gaps = aligned_distances(here, {b: sigs[b] for b in names if b != name}, MAX_SHIFT)
            assert min(gaps.values()) >= MIN_SEPARATION


def test_sculptures_are_connected_and_supported():
    rng = task_rng("rotation-test", 0, "any")
    for n in [4, 6, 8] * 20:
        cubes = {v for v, _ in _sculpture(rng, n).cubes}
        assert len(cubes) == n and all(0 <= c <= 2 for v in cubes for c in v)
        for x, y, z in cubes:
            assert z == 0 or (x, y, z - 1) in cubes
        reached, todo = set(), [next(iter(cubes))]
        while todo:
            v = todo.pop()
            reached.add(v)
            todo += [n for n in cubes - reached
                     if sum(abs(a - b) for a, b in zip(v, n)) == 1]
        assert reached == cubes


def test_oracle_correct_static_and_blank_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.details["read"] == q.metadata["solution"]["answer"]
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["read"] == "turn+0"
        blank = TASK.score(q, held_video(Image.new("RGB", q.first_frame.size, (236, 238, 242))))
        assert blank.correct is False and blank.details["read"] is None


def test_every_wrong_view_is_read_as_itself(generated):
    q = generated["hard"].question
    for name, (scene, azimuth) in _views(q).items():
        score = TASK.score(q, cut_video(q.first_frame, view(scene, azimuth)))
        assert score.details["read"] == name
        assert score.correct is (name == q.metadata["solution"]["answer"])
    wrong = TASK.score(q, held_video(TASK.wrong_final_frame(q, 5)))
    assert wrong.correct is False and wrong.details["read"] != q.metadata["solution"]["answer"]


def test_distorted_oracle_is_still_correct(generated):
    for i, g in enumerate(generated.values()):
        video = all_distortions(held_video(g.question.final_frame, 3), np.random.default_rng(i))
        score = TASK.score(g.question, video)
        assert score.correct is True, score.details


def test_a_video_whose_framing_drifted_is_still_read(generated):
    from PIL import ImageChops

    from vmevalkit.tasks.candidates import zoomed
    from vmevalkit.tasks.voxels import BACKGROUND

    q = generated["medium"].question
    for frame in (ImageChops.offset(q.final_frame, 12, -8), zoomed(q.final_frame, 1.1, BACKGROUND)):
        assert TASK.score(q, held_video(frame)).correct is True
    wrong = zoomed(TASK.wrong_final_frame(q, 2), 0.9, BACKGROUND)
    assert TASK.score(q, held_video(wrong)).correct is False
