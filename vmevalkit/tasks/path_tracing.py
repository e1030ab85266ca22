"""Path tracing: follow one of several tangled lines from its start to its end and mark the end.

Black lines run from circles on the left to boxes on the right, crossing one another; the circle
of one line is red. The answer is to fill the box that line ends in with red. Lines are smooth
curves through random heights; the generator rejects any layout where two lines run close
together without crossing cleanly, so every line can be followed by eye. The scorer reads each box
as filled or empty (closest of its empty and filled looks after undoing any global colour shift)
and is correct only if the right box, and no other, is filled. Consistency (reported apart): the
lines and the start circles (which one is red included) look in the last frames as in the question."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, WHITE, canvas, draw_disc
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, box_states, context_mask, read_against
from vmevalkit.tasks.consistency import box_mask, grown, part_differences, tiles, verdict
from vmevalkit.video import Video

RED = (220, 35, 35)
LINE = (40, 40, 40)
LINE_WIDTH = 3
START_X = 30
END_X = 326  # where the lines reach the boxes
BOX_SIDE = 44
TOP, BOTTOM = 44, CANVAS - 44  # heights of the first and last start circle and box
CURVE_TOP, CURVE_BOTTOM = 20, CANVAS - 20
START_RADIUS = 9
MIN_GAP = 16  # px across the lines: two lines closer than this must be crossing...
MAX_CLOSE_RUN = 30  # ...and stay that close for no more than this many px of width
TRACER_STEPS = 16
TILE = 32  # px: the lines are checked tile by tile
ERASED = 40  # px of line width `inconsistent_final_frame` may erase
# difficulty -> (number of lines, interior waypoints per line, fewest crossings on the asked line)
LEVELS = {"easy": (3, 2, 1), "medium": (4, 3, 2), "hard": (5, 2, 3)}
MAX_ATTEMPTS = 5000
PROMPT = ("{n} black lines run from the circles on the left to the boxes on the right, crossing each "
          "other. Follow the line that starts at the red circle all the way to its other end, and fill "
          "the box where it ends with solid red. Leave everything else unchanged and hold the result.")


def _heights(n: int) -> list[float]:
    return [TOP + (BOTTOM - TOP) * i / (n - 1) for i in range(n)]


def box(i: int, n: int) -> Box:
    y = round(_heights(n)[i])
    return END_X, y - BOX_SIDE // 2, END_X + BOX_SIDE, y - BOX_SIDE // 2 + BOX_SIDE


def curve(waypoints: list[float]) -> np.ndarray:
    """Heights at every x from START_X to END_X of the smooth curve (cubic Hermite, Catmull-Rom
    tangents, flat at both ends) through `waypoints` spaced evenly across that width."""
    k = len(waypoints) - 1
    xs = np.linspace(START_X, END_X, k + 1)
    ys = np.asarray(waypoints, float)
    tangents = np.zeros(k + 1)
    tangents[1:-1] = (ys[2:] - ys[:-2]) / (xs[2:] - xs[:-2])
    x = np.arange(START_X, END_X + 1, dtype=float)
    seg = np.minimum(((x - START_X) / (xs[1] - xs[0])).astype(int), k - 1)
    h = xs[1] - xs[0]
    t = (x - xs[seg]) / h
    h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    return h00 * ys[seg] + h10 * h * tangents[seg] + h01 * ys[seg + 1] + h11 * h * tangents[seg + 1]


def crossings(a: np.ndarray, b: np.ndarray) -> int | None:
    """How many times two curves cross, or None when they come close without a clean crossing."""
    diff = a - b
    slope = (np.gradient(a) + np.gradient(b)) / 2
    close = np.abs(diff) / np.sqrt(1 + slope**2) < MIN_GAP  # the gap measured across the lines
    count, i = 0, 0
    while i < len(diff):
        if not close[i]:
            i += 1
            continue
        j = i
        while j < len(diff) and close[j]:
            j += 1
        if j - i > MAX_CLOSE_RUN or i == 0 or j == len(diff) or np.sign(diff[i - 1]) == np.sign(diff[j]):
            return None  # runs alongside, touches without crossing, or is close at an end
        count += 1
        i = j
    return count


def layout(rng, n: int, waypoints: int, min_crossings: int) -> tuple[list[int], list[list[float]], int]:
    """(target box of every start, every line's waypoints, the asked start), with all lines
    crossing cleanly and the asked line crossing at least `min_crossings` times."""
    heights = _heights(n)
    for _ in range(MAX_ATTEMPTS):
        targets = rng.sample(range(n), n)
        lines = [[heights[i]] + [float(rng.randint(CURVE_TOP, CURVE_BOTTOM)) for _ in range(waypoints)]
                 + [heights[targets[i]]] for i in range(n)]
        ys = [curve(w) for w in lines]
        if min(y.min() for y in ys) < CURVE_TOP or max(y.max() for y in ys) > CURVE_BOTTOM:
            continue
        counts = [[crossings(ys[i], ys[j]) if i != j else 0 for j in range(n)] for i in range(n)]
        if any(c is None for row in counts for c in row):
            continue
        asked = [i for i in range(n) if targets[i] != i and sum(counts[i]) >= min_crossings]
        if asked:
            return targets, lines, rng.choice(asked)
    raise RuntimeError(f"path_tracing: no clean layout of {n} lines in {MAX_ATTEMPTS} attempts")


def draw_board(lines: list[list[float]], asked: int, filled: list[int],
               tracer: tuple[float, float] | None = None) -> Image.Image:
    """The lines, the start circles (the asked one red), the boxes (those in `filled` red)."""
    n = len(lines)
    im = canvas()
    draw = ImageDraw.Draw(im)
    xs = np.arange(START_X, END_X + 1)
    for w in lines:
        points = [(float(x), float(y)) for x, y in zip(xs, curve(w))]
        draw.line(points, fill=LINE, width=LINE_WIDTH, joint="curve")
    for i, y in enumerate(_heights(n)):
        draw_disc(draw, (START_X, y), START_RADIUS, RED if i == asked else WHITE, outline=BLACK, width=3)
        draw.rectangle(box(i, n), fill=RED if i in filled else WHITE, outline=BLACK, width=3)
    if tracer is not None:
        draw_disc(draw, tracer, START_RADIUS - 2, RED, outline=BLACK, width=2)
    return im


@lru_cache(maxsize=32)
def _references(lines_json: str, asked: int,
                target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The expected final frame, its context mask, and the frames with no box and every box filled."""
    lines = json.loads(lines_json)
    n = len(lines)
    expected = draw_board(lines, asked, [target])
    return (np.asarray(expected, np.float64), context_mask(expected, [box(i, n) for i in range(n)]),
            np.asarray(draw_board(lines, asked, []), np.float64),
            np.asarray(draw_board(lines, asked, list(range(n))), np.float64))


class PathTracingTask(Task):
    name = "path_tracing"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "Follow the line from the red circle through crossing lines; fill the box it ends in."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        n, waypoints, min_crossings = LEVELS[difficulty]
        targets, lines, asked = layout(rng, n, waypoints, min_crossings)
        target = targets[asked]
        path = curve(lines[asked])
        xs = np.arange(START_X, END_X + 1)
        stops = np.linspace(0, len(xs) - 1, TRACER_STEPS + 1).round().astype(int)
        frames = [draw_board(lines, asked, [], (float(xs[i]), float(path[i]))) for i in stops]
        first, final = draw_board(lines, asked, []), draw_board(lines, asked, [target])
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(n=n), first=first, final=final,
                                solution={"target_box": target, "targets": targets}, lines=lines,
                                asked_start=asked)
        return Generated(question, solution_video([first, *frames, final]))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        meta = question.metadata
        lines, asked, target = meta["lines"], meta["asked_start"], meta["solution"]["target_box"]
        expected, context, empty, full = _references(json.dumps(lines), asked, target)
        boxes = [box(i, len(lines)) for i in range(len(lines))]
        seen = read_against(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected, context)
        states = box_states(seen, empty, full, boxes)
        filled = [i for i, s in enumerate(states) if s["filled"]]
        correct = filled == [target]
        r = START_RADIUS + 4
        parts = {f"start circle {i}": (START_X - r, round(y) - r, START_X + r + 1, round(y) + r + 1)
                 for i, y in enumerate(_heights(len(lines)))}
        parts.update({f"lines {name}": box for name, box in tiles((0, 0, END_X, CANVAS), TILE).items()})
        answer = grown(box_mask(seen.shape, boxes))  # the boxes are the answer: their fill may change
        consistent, consistency = verdict(part_differences(seen, expected, parts, answer),
                                          "the lines and the start circles")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"filled_boxes": filled, "expected_box": target, "boxes": states,
                      "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """A box filled at the end of another line."""
        meta = question.metadata
        target, n = meta["solution"]["target_box"], len(meta["lines"])
        wrong = task_rng(self.name, seed, f"wrong:{question.id}").choice([i for i in range(n) if i != target])
        return draw_board(meta["lines"], meta["asked_start"], [wrong])

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right box filled, with the red circle moved to another line's start, or a stretch of a line erased."""
        meta = question.metadata
        lines, asked, target = meta["lines"], meta["asked_start"], meta["solution"]["target_box"]
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        if rng.random() < 0.5:
            return draw_board(lines, rng.choice([i for i in range(len(lines)) if i != asked]), [target])
        image = draw_board(lines, asked, [target])
        x0 = rng.randrange(START_X + 2 * START_RADIUS, END_X - ERASED)
        ys = curve(rng.choice(lines))[x0 - START_X:x0 - START_X + ERASED]
        points = [(float(x0 + i), float(y)) for i, y in enumerate(ys)]
        ImageDraw.Draw(image).line(points, fill=WHITE, width=LINE_WIDTH + 2, joint="curve")
        return image


TASK = PathTracingTask()
