"""The clock task: start times and additions by level, the mirror, a reader that turns hand angles into a
time, and the face that must stay."""

import pytest
from PIL import ImageDraw
from task_checks import assert_oracle_survives_distortion_and_drift, generated_twice, scored_controls

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import ending_on, held_video
from vmevalkit.tasks.clock import FACE, LEVELS, clock_text, draw_clock, hand_angles, read_time

TASK = get_task("clock")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(5, d) for d in TASK.difficulties}


def test_generation_is_deterministic_and_follows_the_levels():
    for difficulty in TASK.difficulties:
        step, choices, mirrored = LEVELS[difficulty]
        for seed in range(3):
            a = generated_twice(TASK, seed, difficulty)
            m = a.metadata["clock"]
            assert m["start"] % step == 0 and m["add_minutes"] in choices and m["mirrored"] is mirrored
            assert a.metadata["solution"]["minutes"] == (m["start"] + m["add_minutes"]) % 720
            assert ("mirror" in a.prompt) is mirrored


def test_hand_angles_read_back_as_the_time_they_show():
    for minutes in (0, 5, 55, 60, 185, 359, 360, 719):
        assert read_time(*hand_angles(minutes)) == (minutes, 0.0)
    assert read_time(*hand_angles(239.8)) == (240, 0.0)  # 3:59.8 is read as 4:00, not 3:00


def test_the_reader_reads_the_time_on_clocks_with_overlapping_and_opposite_hands(generated):
    question = generated["medium"].question
    for minutes in (0, 65, 330, 545, 700):  # 12:00 and 1:05 overlap, 5:30 nearly, 9:05 and 11:40 apart
        score = TASK.score(question, held_video(draw_clock(minutes, False)))
        assert score.details["time_read"] == clock_text(minutes)
        assert abs(score.details["hour_hand_offset"]) < 0.05
    no_hands = draw_clock(0, False)
    ImageDraw.Draw(no_hands).ellipse((82, 82, 302, 302), fill=FACE)  # the hands painted over
    score = TASK.score(question, held_video(no_hands))
    assert score.correct is False and score.details["time_read"] is None
    assert score.details["minute_angle"] is None and score.details["hour_angle"] is None


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle, static, wrong = scored_controls(TASK, g, 3)
        assert oracle.details["time_read"] == q.metadata["solution"]["time"]
        assert static.details["unchanged"] is True
        assert static.details["time_read"] == q.metadata["clock"]["start_time"]
        assert wrong.details["time_read"] != q.metadata["solution"]["time"]


def test_in_a_mirror_the_hands_must_turn_the_other_way(generated):
    q = generated["hard"].question
    end = q.metadata["solution"]["minutes"]
    assert TASK.score(q, held_video(draw_clock(end, True))).correct is True
    unmirrored = TASK.score(q, held_video(draw_clock(-end % 720, True)))  # real angles drawn in the mirror
    assert unmirrored.correct is (clock_text(-end % 720) == clock_text(end))
    assert unmirrored.details["time_read"] == clock_text(-end % 720)


def test_a_changed_face_is_correct_but_inconsistent(generated):
    g = generated["easy"]
    score = TASK.score(g.question, ending_on(g.solution, TASK.inconsistent_final_frame(g.question, 0)))
    assert score.correct is True and score.consistent is False
    changed = score.details["consistency"]["changed"]
    assert len(changed) == 2 and all(name.startswith("numeral ") for name in changed)
    q = generated["hard"].question  # the closest pair of numerals to swap, in a mirror
    swapped = (1, 2, 3, 4, 6, 5, 7, 8, 9, 10, 11, 12)
    score = TASK.score(q, held_video(draw_clock(q.metadata["solution"]["minutes"], True, swapped)))
    assert score.correct is True and sorted(score.details["consistency"]["changed"]) == ["numeral 5", "numeral 6"]


def test_distorted_and_drifted_oracles_are_still_read(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (6, -5))
