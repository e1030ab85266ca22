"""The letter counting task: the answers are right, the box is read by the glyph matcher, consistency."""

import numpy as np
import pytest
from PIL import Image
from task_checks import assert_oracle_survives_distortion_and_drift, correct_but_inconsistent, named_changes

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.letter_count import (
    EDIT_DISTANCES,
    PHRASE_LETTERS,
    TEXT_SIZE,
    WORDS,
    draw_card,
    edit_distance,
    text_box,
)

TASK = get_task("letter_count")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(1, d) for d in TASK.difficulties}


def _brute_edit_distance(a: str, b: str) -> int:
    """The fewest edits found by breadth-first search over strings (for checking the DP on short words)."""
    letters = set(a + b)
    frontier, seen, steps = {a}, {a}, 0
    while b not in frontier:
        steps += 1
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                nxt |= {s[:i] + c + s[i:] for c in letters}
                if i < len(s):
                    nxt |= {s[:i] + s[i + 1:]} | {s[:i] + c + s[i + 1:] for c in letters}
        frontier = nxt - seen
        seen |= frontier
    return steps


def test_edit_distance_matches_a_direct_search():
    for a, b in [("kitten", "sitting"), ("light", "flight"), ("stone", "store"), ("pool", "spool"),
                 ("moon", "noon"), ("cable", "table"), ("abc", "")]:
        assert edit_distance(a, b) == edit_distance(b, a) == _brute_edit_distance(a, b)


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_stored_answer_is_the_count_or_the_edit_distance(difficulty):
    for seed in range(8):
        q = TASK.generate(seed, difficulty).question
        assert q.metadata == TASK.generate(seed, difficulty).question.metadata  # deterministic
        text, answer = q.metadata["text"], q.metadata["solution"]["answer"]
        assert text["size"] == TEXT_SIZE[difficulty] and 0 <= answer <= 9
        if difficulty == "hard":
            a, b = text["lines"]
            assert text["asked"] == "edit_distance" and answer == edit_distance(a, b) in EDIT_DISTANCES
            assert a in WORDS and b in WORDS and f'"{a}" above "{b}"' in q.prompt
        else:
            (line,) = text["lines"]
            assert answer == line.count(text["asked"]) >= 1 and f'letter "{text["asked"]}"' in q.prompt
            assert f'"{line}"' in q.prompt
            if difficulty == "easy":
                assert line in WORDS and answer <= 3
            else:
                assert all(w in WORDS for w in line.split()) and len(line.replace(" ", "")) <= PHRASE_LETTERS
                assert answer >= 2
        assert q.first_frame.tobytes() == draw_card(text["lines"], text["size"]).tobytes()  # the box is empty
        x0, _, x1, _ = text_box(text["lines"], text["size"])
        assert 0 <= x0 and x1 <= q.first_frame.width  # the whole text is in the picture


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        answer = q.metadata["solution"]["answer"]
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.consistent is True and oracle.details["read"] == answer
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["box"]["empty"] is True and static.details["read"] is None
        wrong = TASK.score(q, cut_video(q.first_frame, TASK.wrong_final_frame(q, 0)))
        assert wrong.correct is False and abs(wrong.details["read"] - answer) == 1


def test_every_digit_is_read_and_a_scribble_is_no_digit(generated):
    q = generated["medium"].question
    lines, size = q.metadata["text"]["lines"], q.metadata["text"]["size"]
    for d in range(10):
        box = TASK.read_box(np.asarray(draw_card(lines, size, str(d)), np.float64))
        assert box["digit"] == d and box["doubtful"] is False and box["empty"] is False
    scribble = np.asarray(draw_card(lines, size), np.float64)
    scribble[250:300:4, 160:225] = 0  # stripes, not a digit
    box = TASK.read_box(scribble)
    assert box["empty"] is False and box["digit"] is None
    score = TASK.score(q, held_video(Image.fromarray(scribble.astype(np.uint8))))
    assert score.correct is False and score.details["read"] is None


def test_distorted_or_drifted_oracle_is_still_correct_and_consistent(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (6, 7))


def test_a_changed_letter_is_correct_but_inconsistent(generated):
    for g in generated.values():
        assert named_changes(correct_but_inconsistent(TASK, g, 3)) == ["text"]
