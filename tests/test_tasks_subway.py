"""The subway task: maps are clean, the route follows the prompt, the marked station is read, consistency."""

import re
from itertools import pairwise

import pytest
from task_checks import assert_oracle_survives_distortion_and_drift, correct_but_inconsistent, named_changes

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video
from vmevalkit.tasks.subway import COLOURS, LEVELS, ORDINALS, SIDE, draw_map, lines_at, stations

TASK = get_task("subway")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(6, d) for d in TASK.difficulties}


def _map(q):
    m = q.metadata["subway"]
    return ([[tuple(n) for n in line] for line in m["lines"]], m["names"],
            {k: tuple(v) for k, v in m["labels"].items()})


def _ride(line, start, towards, stops):
    ahead = line if towards == line[-1] else line[::-1]
    return ahead[ahead.index(start) + stops]


def _follow_prompt(q):
    """The station the prompt leads to, worked out from the prompt's words and the map alone."""
    lines, names, labels = _map(q)
    by_name = {name: lines[i] for i, name in enumerate(names)}
    words = q.prompt
    if q.metadata["difficulty"] == "easy":
        colour, end, nth = re.search(r"Ride the (\w+) line towards station (\w) and get off at the (\w+) station",
                                     words).groups()
        return _ride(by_name[colour], labels["A"], labels[end], ORDINALS.index(nth) + 1)
    if q.metadata["difficulty"] == "medium":
        c1, e1, c2, e2, nth = re.search(r"Ride the (\w+) line towards station (\w) and change to the (\w+) line.*"
                                        r"towards station (\w) and get off at the (\w+) station", words).groups()
        first, second = by_name[c1], by_name[c2]
        ahead = first if labels[e1] == first[-1] else first[::-1]
        meet = next(n for n in ahead[ahead.index(labels["A"]) + 1:] if n in second)
        return _ride(second, meet, labels[e2], ORDINALS.index(nth) + 1)
    # hard: every route with one change goes A's only line -> B's only line at a station both share
    (la,), (lb,) = lines_at(lines, labels["A"]), lines_at(lines, labels["B"])
    (meet,) = [n for n in lines[la] if n in lines[lb]]
    return meet


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_maps_are_clean_and_the_answer_is_where_the_prompt_leads(difficulty):
    n_lines, fewest, most = LEVELS[difficulty]
    for seed in range(6):
        q = TASK.generate(seed, difficulty).question
        assert q.metadata == TASK.generate(seed, difficulty).question.metadata  # deterministic
        lines, names, labels = _map(q)
        assert len(lines) == n_lines and names == list(COLOURS)[:n_lines]
        edges = []
        for line in lines:
            assert fewest <= len(line) <= most and len(set(line)) == len(line)  # never crosses itself
            for a, b in pairwise(line):
                assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 and all(0 <= v < SIDE for v in a + b)
                edges.append(frozenset((a, b)))
        assert len(edges) == len(set(edges))  # no two lines share a stretch of track
        answer = tuple(q.metadata["solution"]["station"])
        assert answer == _follow_prompt(q) and answer not in labels.values()
        route = [tuple(n) for n in q.metadata["solution"]["route"]]
        assert route[0] == labels["A"] and route[-1] == answer
        if difficulty == "hard":
            assert len(lines_at(lines, labels["A"])) == len(lines_at(lines, labels["B"])) == 1
            assert lines_at(lines, labels["A"]) != lines_at(lines, labels["B"])


def test_oracle_correct_static_and_wrong_incorrect(generated):
    for g in generated.values():
        q = g.question
        oracle = TASK.score(q, g.solution)
        assert oracle.correct is True and oracle.consistent is True
        assert oracle.details["marked"] == [q.metadata["solution"]["station"]]
        static = TASK.score(q, held_video(q.first_frame))
        assert static.correct is False and static.details["marked"] == [] and static.consistent is True
        wrong = TASK.score(q, cut_video(q.first_frame, TASK.wrong_final_frame(q, 0)))
        (read,) = wrong.details["marked"]
        assert wrong.correct is False and read != q.metadata["solution"]["station"]


def test_any_marked_station_is_read(generated):
    q = generated["hard"].question
    lines, names, labels = _map(q)
    nodes = stations(lines)
    for marked in ([nodes[0]], [nodes[3], nodes[-1]], nodes):
        score = TASK.score(q, held_video(draw_map(lines, names, labels, marked)))
        assert score.details["marked"] == [list(n) for n in marked] and score.correct is False


def test_distorted_or_drifted_oracle_is_still_correct_and_consistent(generated):
    assert_oracle_survives_distortion_and_drift(TASK, generated, (-5, -8))


def test_an_erased_stretch_of_line_is_correct_but_inconsistent(generated):
    for g in generated.values():
        parts = named_changes(correct_but_inconsistent(TASK, g, 4))
        assert any(" line " in part for part in parts), parts
