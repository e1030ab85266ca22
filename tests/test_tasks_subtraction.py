"""The object subtraction task: the described kind is removed, look-alikes stay, consistency."""

import numpy as np
import pytest
from task_checks import assert_oracle_survives_distortion_and_drift, correct_but_inconsistent, named_changes

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.subtraction import LEVELS, MAX_TARGETS, describe, draw_scene

TASK = get_task("subtraction")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(3, d) for d in TASK.difficulties}


def _matches(figure, kind):
    return all(figure[a] == v for a, v in kind.items())


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_removed_figures_are_exactly_those_of_the_described_kind(difficulty):
    fewest, most, named, _ = LEVELS[difficulty]
    for seed in range(6):
        q = TASK.generate(seed, difficulty).question
        assert q.metadata == TASK.generate(seed, difficulty).question.metadata  # deterministic
        figures, sol = q.metadata["figures"], q.metadata["solution"]
        kind = sol["kind"]
        assert len(kind) == named and fewest <= len(figures) <= most
        assert sol["removed"] == [i for i, f in enumerate(figures) if _matches(f, kind)]
        assert 1 <= len(sol["removed"]) <= MAX_TARGETS and len(sol["removed"]) < len(figures)
        assert f"every {describe(kind)} " in q.prompt
        for i, a in enumerate(figures):  # no two figures overlap
            for b in figures[i + 1:]:
                assert (a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2 >= (a["r"] + b["r"]) ** 2
        if difficulty != "easy":  # look-alikes: figures sharing all but one named attribute
            assert any(sum(f[a] == v for a, v in kind.items()) == named - 1 for f in figures)
    assert describe({"size": "small", "colour": "green", "shape": "square"}) == "small green square"
    assert describe({"colour": "red"}) == "red figure"


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        targets = q.metadata["solution"]["removed"]
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.consistent is True
        assert oracle.details["removed_read"] == targets
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["targets_left"] == targets and static.consistent is True
        wrong = TASK.score(q, cut_video(q.first_frame, TASK.wrong_final_frame(q, 0)))
        assert wrong.correct is False
        assert len(wrong.details["targets_left"]) + len(wrong.details["others_removed"]) == 1


def test_every_combination_of_removed_figures_is_read(generated):
    q = generated["hard"].question
    figures = q.metadata["figures"]
    rng = np.random.default_rng(1)
    for _ in range(3):
        removed = sorted(int(i) for i in rng.choice(len(figures), 4, replace=False))
        assert TASK.score(q, held_video(draw_scene(figures, set(removed)))).details["removed_read"] == removed


def test_distorted_or_drifted_oracle_is_still_correct_and_consistent(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (-7, 4))


def test_a_moved_or_recoloured_remaining_figure_is_correct_but_inconsistent(generated):
    for g in generated.values():
        q = g.question
        frame = TASK.inconsistent_final_frame(q, 2)
        score = correct_but_inconsistent(TASK, g, 2)
        differs = np.abs(np.asarray(frame, int) - np.asarray(q.final_frame, int)).max(axis=-1) > 0
        moved = [i for i, f in enumerate(q.metadata["figures"]) if differs[f["y"], f["x"] - f["r"]:f["x"] + f["r"] + 1].any()
                 or differs[f["y"] - f["r"]:f["y"] + f["r"] + 1, f["x"]].any()]
        assert len(moved) == 1 and named_changes(score)[0] == f"figure {moved[0]}"
    figures, targets = q.metadata["figures"], q.metadata["solution"]["removed"]
    kept = next(i for i in range(len(figures)) if figures[i]["colour"] == "blue" and i not in targets)
    recoloured = [dict(f, colour="green") if i == kept else f for i, f in enumerate(figures)]
    score = TASK.score(q, held_video(draw_scene(recoloured, set(targets))))
    assert score.correct is True and score.consistent is False
    assert named_changes(score) == [f"figure {kept}"]
