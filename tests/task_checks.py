"""Checks that the tests of the clock, hanoi, sliding and nonogram tasks share."""

import numpy as np

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks import Task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.base import Generated


def generated_twice(task: Task, seed: int, difficulty: str) -> Question:
    """The question `task` makes for (seed, difficulty), once a second generation has given the same
    question (metadata, prompt, frames, solution video) and its first frame is known not to be solved."""
    a, b = task.generate(seed, difficulty), task.generate(seed, difficulty)
    qa, qb = a.question, b.question
    assert qa.metadata == qb.metadata and qa.prompt == qb.prompt
    for x, y in ((qa.first_frame, qb.first_frame), (qa.final_frame, qb.final_frame)):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    assert np.array_equal(a.solution.frames, b.solution.frames)
    assert not np.array_equal(np.asarray(qa.first_frame), np.asarray(qa.final_frame))
    assert (qa.metadata["task"], qa.metadata["seed"], qa.metadata["difficulty"]) == (task.name, seed, difficulty)
    return qa


def scored_controls(task: Task, generated: Generated, seed: int) -> tuple[Score, Score, Score]:
    """The scores of the oracle, the first frame held, and a cut from it to a wrong final state, once
    checked: the oracle correct and consistent, the other two incorrect, the held first frame consistent."""
    q = generated.question
    oracle = task.score(q, generated.solution)
    static = task.score(q, held_video(q.first_frame))
    wrong = task.score(q, cut_video(q.first_frame, task.wrong_final_frame(q, seed)))
    assert oracle.correct is True and oracle.consistent is True
    assert static.correct is False and static.consistent is True
    assert wrong.correct is False
    return oracle, static, wrong
