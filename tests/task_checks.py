"""Checks the task tests share: a question generated twice alike, the controls scored, the oracle's final
state read right through distortions and drift, and a final state with a part that must stay changed read
as correct but inconsistent."""

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


def assert_oracle_survives_distortion_and_drift(task: Task, generated: dict[str, Generated],
                                                drift: tuple[int, int]) -> None:
    """Every question's expected final state under all the validation distortions at once, and the last
    question's (the hardest) moved by `drift` (dx, dy) px, is read as correct and consistent."""
    for i, g in enumerate(generated.values()):
        score = task.score(g.question, all_distortions(held_video(g.question.final_frame, 3),
                                                       np.random.default_rng(i)))
        assert score.correct is True and score.consistent is True, score.details
    q = list(generated.values())[-1].question
    drifted = task.score(q, held_video(ImageChops.offset(q.final_frame, *drift)))
    assert drifted.correct is True and drifted.consistent is True, drifted.details


def correct_but_inconsistent(task: Task, generated: Generated, seed: int) -> Score:
    """The score of a video that ends on the task's inconsistent final frame, checked to be correct and
    inconsistent."""
    q = generated.question
    score = task.score(q, cut_video(q.first_frame, task.inconsistent_final_frame(q, seed)))
    assert score.correct is True and score.consistent is False and score.details["consistency"]["changed"]
    return score


def named_changes(score: Score) -> list[str]:
    """The parts the score's consistency check found changed, most changed first, less the picture's tiles."""
    return [part for part in score.details["consistency"]["changed"] if not part.startswith("picture ")]
