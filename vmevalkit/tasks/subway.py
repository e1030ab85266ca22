"""Subway: follow a route on a small subway map and mark the station it leads to.

Coloured lines run along a 6x6 grid of places; every place a line passes is a station (white
circles, larger where lines meet). By difficulty the prompt asks to ride one line a number of
stops from station A towards a named end; to ride a line to its first meeting with another, change
there and ride on; or to find the station where the journey from A to B with the fewest changes
changes lines. The scorer reads every station as filled or white (whichever its inside is closer
to, after lining the frame up and undoing any colour shift) and is correct only if the right
station, and no other, is filled; whether the map itself stayed as it was is the consistency check."""

from __future__ import annotations

import json
from functools import lru_cache
from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, WHITE, canvas, draw_disc, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, ColourGroups, box_states, register
from vmevalkit.tasks.consistency import aligned, part_differences, shared_parts, verdict
from vmevalkit.video import Video

Node = tuple[int, int]  # (col, row) on the grid
Line = list[Node]
COLOURS = {"red": (215, 40, 40), "blue": (40, 90, 215), "green": (30, 150, 60), "orange": (240, 150, 20)}
SIDE = 6  # grid places per side
SPACING = 56
ORIGIN = (CANVAS - (SIDE - 1) * SPACING) // 2
LINE_WIDTH = 7
STATION_RADIUS, INTERCHANGE_RADIUS = 7, 10
LABEL_OFFSET, LABEL_SIZE = 19, 20
MARK = (20, 20, 20)  # a marked station is filled with this
TERMINUS_LETTERS = "CDEFGHJKLMNPRSTUVWXYZ"
ORDINALS = ("first", "second", "third", "fourth")
# difficulty -> (number of lines, fewest and most stations per line)
LEVELS = {"easy": (2, 5, 7), "medium": (3, 5, 7), "hard": (4, 4, 7)}
STRAIGHT = 0.65  # chance a line keeps its direction at each step
MAX_ATTEMPTS = 2000
FRAMES_PER_STOP = 2
MARK_HOW = " Mark that station by filling its white circle with solid black."
END = " Leave the rest of the map unchanged, keep the camera fixed, and hold the result at the end."


def position(node: Node) -> tuple[int, int]:
    return ORIGIN + node[0] * SPACING, ORIGIN + node[1] * SPACING


def stations(lines: list[Line]) -> list[Node]:
    return sorted({node for line in lines for node in line})


def lines_at(lines: list[Line], node: Node) -> list[int]:
    return [i for i, line in enumerate(lines) if node in line]


def station_box(node: Node) -> Box:
    """The square inside a station's circle that the scorer reads."""
    x, y = position(node)
    return x - 4, y - 4, x + 5, y + 5


def radius(lines: list[Line], node: Node) -> int:
    return INTERCHANGE_RADIUS if len(lines_at(lines, node)) > 1 else STATION_RADIUS


def disc_box(lines: list[Line], node: Node) -> Box:
    """A station's circle with its outline: where a station is marked, the right one or not."""
    x, y = position(node)
    r = radius(lines, node) + 2
    return x - r, y - r, x + r + 1, y + r + 1


def _walk(rng, length: int, used_edges: set[frozenset[Node]]) -> Line | None:
    """A self-avoiding walk of `length` places along the grid that uses no edge another line uses."""
    line = [(rng.randrange(SIDE), rng.randrange(SIDE))]
    step = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
    while len(line) < length:
        turns = [step] if rng.random() < STRAIGHT else []
        turns += rng.sample([(step[1], step[0]), (-step[1], -step[0])], 2) + [step]
        for dx, dy in turns:
            nxt = (line[-1][0] + dx, line[-1][1] + dy)
            if (0 <= nxt[0] < SIDE and 0 <= nxt[1] < SIDE and nxt not in line
                    and frozenset((line[-1], nxt)) not in used_edges):
                line.append(nxt)
                step = (dx, dy)
                break
        else:
            return None
    return line


def make_map(rng, n_lines: int, fewest: int, most: int) -> list[Line]:
    while True:
        lines: list[Line] = []
        used: set[frozenset[Node]] = set()
        for _ in range(n_lines):
            line = _walk(rng, rng.randint(fewest, most), used)
            if line is None:
                break
            lines.append(line)
            used |= {frozenset(pair) for pair in pairwise(line)}
        if len(lines) == n_lines:
            return lines


def _ride(line: Line, start: Node, towards: Node, stops: int) -> list[Node]:
    """The stations from `start` (included) `stops` stops along `line` in the direction of its end `towards`."""
    i = line.index(start)
    step = 1 if towards == line[-1] else -1
    return [line[i + step * k] for k in range(stops + 1)]


Asked = tuple[list[Node], str, dict[str, Node]]  # the route (its last station is marked), prompt, labels


def _ride_k_stops(rng, lines: list[Line], names: list[str], letters: list[str]) -> Asked | None:
    li = rng.randrange(len(lines))
    line = lines[li]
    end = rng.choice((line[0], line[-1]))
    ahead = line if end == line[-1] else line[::-1]
    stops = rng.randint(2, 4)
    options = [n for n in ahead[:-stops] if n != end]
    if not options:
        return None
    start = rng.choice(options)
    prompt = (f"Start at station A. Ride the {names[li]} line towards station {letters[0]} and get off at the "
              f"{ORDINALS[stops - 1]} station after A.")
    return _ride(line, start, end, stops), prompt, {"A": start, letters[0]: end}


def _change_at_first_meeting(rng, lines: list[Line], names: list[str], letters: list[str]) -> Asked | None:
    l1, l2 = rng.sample(range(len(lines)), 2)
    end1, end2 = rng.choice((lines[l1][0], lines[l1][-1])), rng.choice((lines[l2][0], lines[l2][-1]))
    ahead = lines[l1] if end1 == lines[l1][-1] else lines[l1][::-1]
    start = rng.choice(ahead[:-1])
    meet = next((n for n in ahead[ahead.index(start) + 1:] if n in lines[l2]), None)
    if start in lines[l2] or meet is None or meet == end2:
        return None
    onward = lines[l2] if end2 == lines[l2][-1] else lines[l2][::-1]
    stops = rng.randint(1, min(3, len(onward) - 1 - onward.index(meet)))
    route = ahead[ahead.index(start):ahead.index(meet)] + _ride(lines[l2], meet, end2, stops)
    prompt = (f"Start at station A. Ride the {names[l1]} line towards station {letters[0]} and change to the "
              f"{names[l2]} line at the first station where the two lines meet. Ride the {names[l2]} line towards "
              f"station {letters[1]} and get off at the {ORDINALS[stops - 1]} station after the change.")
    return route, prompt, {"A": start, letters[0]: end1, letters[1]: end2}


def _fewest_changes(rng, lines: list[Line], names: list[str], letters: list[str]) -> Asked | None:
    """A on one line only, B on another only, the two lines meeting exactly once: the one place to change."""
    l1, l2 = rng.sample(range(len(lines)), 2)
    only = [[n for n in lines[li] if lines_at(lines, n) == [li]] for li in (l1, l2)]
    shared = [n for n in lines[l1] if n in lines[l2]]
    if len(shared) != 1 or not only[0] or not only[1]:
        return None
    start, goal = rng.choice(only[0]), rng.choice(only[1])
    i, j = lines[l1].index(start), lines[l1].index(shared[0])
    route = lines[l1][i:j + 1] if i <= j else lines[l1][j:i + 1][::-1]
    prompt = ("Travel from station A to station B, changing lines as few times as possible (a line can be ridden "
              "either way). Find the station where you change lines.")
    return route, prompt, {"A": start, "B": goal}


QUESTIONS = {"easy": _ride_k_stops, "medium": _change_at_first_meeting, "hard": _fewest_changes}


def make(rng, difficulty: str) -> dict:
    """The map, the labelled stations, the route and the station to mark (the last of the route), which is
    never a labelled one."""
    n_lines, fewest, most = LEVELS[difficulty]
    for _ in range(MAX_ATTEMPTS):
        lines = make_map(rng, n_lines, fewest, most)
        names = list(COLOURS)[:n_lines]
        asked = QUESTIONS[difficulty](rng, lines, names, rng.sample(TERMINUS_LETTERS, 2))
        if asked is None:
            continue
        route, prompt, labels = asked
        if len(set(labels.values())) == len(labels) and route[-1] not in labels.values():
            return {"lines": lines, "names": names, "labels": labels, "route": route,
                    "prompt": prompt + MARK_HOW + END}
    raise RuntimeError(f"subway: no {difficulty} question in {MAX_ATTEMPTS} attempts")


def draw_map(lines: list[Line], names: list[str], labels: dict[str, Node], marked: list[Node] = (),
             token: tuple[float, float] | None = None, erased: tuple[int, int] | None = None) -> Image.Image:
    """The map with the `marked` stations filled, a travelling token at `token` (grid coordinates), and
    segment `erased` = (line, index) left out (to make an inconsistent frame)."""
    im = canvas()
    draw = ImageDraw.Draw(im)
    for li, line in enumerate(lines):
        for si, (a, b) in enumerate(pairwise(line)):
            if (li, si) != erased:
                draw.line([position(a), position(b)], fill=COLOURS[names[li]], width=LINE_WIDTH)
        for node in line[1:-1]:  # round the bends
            draw_disc(draw, position(node), LINE_WIDTH / 2 - 0.5, COLOURS[names[li]])
    for node in stations(lines):
        r = radius(lines, node)
        draw_disc(draw, position(node), r, MARK if node in marked else WHITE, outline=BLACK,
                  width=3 if r == INTERCHANGE_RADIUS else 2)
    for letter, node in labels.items():
        x, y = position(tuple(node))
        draw_text(draw, (x + LABEL_OFFSET, y - LABEL_OFFSET), letter, LABEL_SIZE, BLACK)
    if token is not None:
        x, y = ORIGIN + token[0] * SPACING, ORIGIN + token[1] * SPACING
        draw_disc(draw, (x, y), 5, MARK)
    return im


def map_parts(lines: list[Line], names: list[str], labels: dict[str, Node]) -> dict[str, Box]:
    """Named boxes around every stretch of line between two stations and every label (the stations'
    circles, where a station is marked, the right one or not, are left out of the check)."""
    parts = {}
    for li, line in enumerate(lines):
        for a, b in pairwise(line):
            (xa, ya), (xb, yb) = position(a), position(b)
            parts[f"{names[li]} line {list(a)}-{list(b)}"] = (min(xa, xb) - LINE_WIDTH, min(ya, yb) - LINE_WIDTH,
                                                             max(xa, xb) + LINE_WIDTH, max(ya, yb) + LINE_WIDTH)
    for letter, node in labels.items():
        x, y = position(node)
        parts[f"label {letter}"] = (x + LABEL_OFFSET - 9, y - LABEL_OFFSET - 11, x + LABEL_OFFSET + 10,
                                    y - LABEL_OFFSET + 11)
    return parts


def _from_metadata(m: dict) -> tuple[list[Line], list[str], dict[str, Node]]:
    return ([[tuple(n) for n in line] for line in m["lines"]], m["names"],
            {k: tuple(v) for k, v in m["labels"].items()})


@lru_cache(maxsize=32)
def _references(map_json: str, answer: Node) -> tuple:
    """The expected frame, the parts that must stay (the map's stretches of line, its labels, the picture)
    and the mask the check ignores (the stations' circles), the colour groups of the rest, and the map with
    no station and with every station marked."""
    lines, names, labels = _from_metadata(json.loads(map_json))
    expected = np.asarray(draw_map(lines, names, labels, [answer]), np.float64)
    unmarked = np.asarray(draw_map(lines, names, labels), np.float64)
    parts, ignore = shared_parts(unmarked, expected, [disc_box(lines, n) for n in stations(lines)])
    return (expected, {**map_parts(lines, names, labels), **parts}, ignore, ColourGroups.of(expected, ~ignore),
            unmarked, np.asarray(draw_map(lines, names, labels, stations(lines)), np.float64))


class SubwayTask(Task):
    name = "subway"
    version = "1"
    description = "Follow a route on a subway map (ride k stops, change lines, fewest changes); mark the station."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        q = make(task_rng(self.name, seed, difficulty), difficulty)
        lines, names, labels, route = q["lines"], q["names"], q["labels"], q["route"]
        first = draw_map(lines, names, labels)
        frames = [first]
        for a, b in pairwise(route):
            for k in range(1, FRAMES_PER_STOP + 1):
                t = k / FRAMES_PER_STOP
                frames.append(draw_map(lines, names, labels, token=(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)))
        frames.append(draw_map(lines, names, labels, [route[-1]]))
        question = new_question(self, seed, difficulty, prompt=q["prompt"], first=first, final=frames[-1],
                                solution={"station": list(route[-1]), "route": [list(n) for n in route]},
                                subway={"lines": [[list(n) for n in line] for line in lines], "names": names,
                                        "labels": {k: list(v) for k, v in labels.items()}})
        return Generated(question, solution_video(frames))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        m, answer = question.metadata["subway"], tuple(question.metadata["solution"]["station"])
        lines = _from_metadata(m)[0]
        expected, parts, ignore, groups, unmarked, marked = _references(json.dumps(m, sort_keys=True), answer)
        observed = register(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected)
        fit = groups.fit(observed)
        nodes = stations(lines)
        states = box_states(observed, fit.apply(unmarked), fit.apply(marked), [station_box(n) for n in nodes], inset=0)
        read = [list(n) for n, s in zip(nodes, states) if s["filled"]]
        correct = read == [list(answer)]
        seen = aligned(observed, expected, ignore, drift=False)  # lined up above
        consistent, consistency = verdict(part_differences(seen, expected, parts, ignore),
                                          "the lines, the labels and the rest of the map")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"marked": read, "expected": list(answer),
                      "stations": [{"station": list(n), **s} for n, s in zip(nodes, states)],
                      "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """A station next to the right one (along any line) marked instead."""
        lines, names, labels = _from_metadata(question.metadata["subway"])
        answer = tuple(question.metadata["solution"]["station"])
        near = sorted({line[i + d] for line in lines for i, n in enumerate(line) if n == answer
                       for d in (-1, 1) if 0 <= i + d < len(line)})
        return draw_map(lines, names, labels, [task_rng(self.name, seed, f"wrong:{question.id}").choice(near)])

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right station marked, and one stretch of line between two stations away from it erased."""
        lines, names, labels = _from_metadata(question.metadata["subway"])
        answer = tuple(question.metadata["solution"]["station"])
        segments = [(li, si) for li, line in enumerate(lines) for si in range(len(line) - 1)
                    if answer not in line[si:si + 2]]
        erased = task_rng(self.name, seed, f"inconsistent:{question.id}").choice(segments)
        return draw_map(lines, names, labels, [answer], erased=erased)


TASK = SubwayTask()
