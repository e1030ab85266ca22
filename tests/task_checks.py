"""Checks the task tests share: the oracle's final state read right through distortions and drift, and a
final state with a part that must stay changed read as correct but inconsistent."""

import numpy as np
from PIL import ImageChops

from vmevalkit.scoring.base import Score
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.validation import all_distortions


def assert_oracle_survives_distortion_and_drift(task: Task, generated: dict[str, Generated],
                                                drift: tuple[int, int]) -> None:
    """Every question's expected final state under all the validation distortions at once, and one moved
    by `drift` (dx, dy) px, is read as correct and consistent."""
    for i, g in enumerate(generated.values()):
        score = task.score(g.question, all_distortions(held_video(g.question.final_frame, 3),
                                                       np.random.default_rng(i)))
        assert score.correct is True and score.consistent is True, score.details
    q = next(iter(generated.values())).question
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
