"""Checks that the tests of the clock, hanoi, sliding and nonogram tasks share."""

import numpy as np
from PIL import ImageChops

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks import Task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.base import Generated
from vmevalkit.tasks.validation import all_distortions


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


def final_frames_read_through_distortion_and_drift(task: Task, generated: dict[str, Generated],
                                                   offset: tuple[int, int]) -> None:
    """Checks that each question's final frame, held and put through every distortion, is judged correct and
    consistent, and that the hard question's final frame moved by `offset` (dx, dy) px is judged correct."""
    for i, g in enumerate(generated.values()):
        video = all_distortions(held_video(g.question.final_frame, 3), np.random.default_rng(i))
        score = task.score(g.question, video)
        assert score.correct is True and score.consistent is True
    q = generated["hard"].question
    assert task.score(q, held_video(ImageChops.offset(q.final_frame, *offset))).correct is True
