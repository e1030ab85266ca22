"""Counting: count the figures of one kind among others and fill that many answer boxes.

The picture shows coloured figures (circles, squares, triangles, stars) scattered over the top and
a row of ten empty boxes along the bottom. The prompt names one kind ("red triangles"); the
answer is to fill the first N boxes, N being how many figures of that kind there are. Other
figures share the kind's colour or its shape, so only counting the exact kind is right. The scorer
reads every box as filled or empty (closest of the box's empty and filled looks, after undoing any
global colour shift) and is correct only if exactly the first N boxes are filled. Consistency
(reported apart): every figure, and the picture around them, look in the last frames as in the
question (a figure removed, added or recoloured is inconsistent even when the count is right)."""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, canvas
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, box_states, context_mask, read_against
from vmevalkit.tasks.consistency import part_differences, tiles, verdict
from vmevalkit.video import Video

COLOURS = {"red": (215, 45, 45), "blue": (45, 95, 210), "green": (40, 150, 70), "orange": (235, 145, 30)}
SHAPES = ("circle", "square", "triangle", "star")
BOXES = 10
BOX_SIDE = 34
BOX_GAP = 3
BOX_TOP = CANVAS - 16 - BOX_SIDE
BOX_FILL = (30, 30, 30)
SCENE = (16, 16, CANVAS - 16, BOX_TOP - 16)  # where the figures are scattered
FRAMES_PER_BOX = 2
TILE = 32  # px: the picture around the figures is checked tile by tile
# difficulty -> (fewest, most of the asked kind; number of other figures; figure radius in px)
LEVELS = {"easy": (1, 4, 4, 17), "medium": (3, 6, 8, 15), "hard": (5, 9, 13, 13)}
PROMPT = ("Count the {kind} in the picture. Then fill in the boxes along the bottom with solid black, "
          "starting from the leftmost box, one box for each of the {kind}, so that the number of "
          "filled boxes equals their count. Leave everything else unchanged and hold the result.")


def box(i: int) -> Box:
    left = (CANVAS - BOXES * BOX_SIDE - (BOXES - 1) * BOX_GAP) // 2 + i * (BOX_SIDE + BOX_GAP)
    return left, BOX_TOP, left + BOX_SIDE, BOX_TOP + BOX_SIDE


def draw_figure(draw: ImageDraw.ImageDraw, shape: str, centre: tuple[float, float], r: float,
                fill: tuple[int, int, int]) -> None:
    x, y = centre
    if shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=BLACK, width=2)
    elif shape == "square":
        s = r * 0.85
        draw.rectangle((x - s, y - s, x + s, y + s), fill=fill, outline=BLACK, width=2)
    elif shape == "triangle":
        draw.polygon([(x, y - r), (x + r * 0.95, y + r * 0.7), (x - r * 0.95, y + r * 0.7)], fill=fill,
                     outline=BLACK, width=2)
    else:  # a five-pointed star
        points = [(x + (r if k % 2 == 0 else r * 0.45) * math.sin(math.pi * k / 5),
                   y - (r if k % 2 == 0 else r * 0.45) * math.cos(math.pi * k / 5)) for k in range(10)]
        draw.polygon(points, fill=fill, outline=BLACK, width=2)


def draw_scene(figures: list[dict], filled: int) -> Image.Image:
    """The figures, and the answer boxes with the first `filled` of them filled."""
    im = canvas()
    draw = ImageDraw.Draw(im)
    for f in figures:
        draw_figure(draw, f["shape"], (f["x"], f["y"]), f["r"], COLOURS[f["colour"]])
    for i in range(BOXES):
        draw.rectangle(box(i), fill=BOX_FILL if i < filled else (255, 255, 255), outline=BLACK, width=2)
    return im


def _place(rng, kinds: list[tuple[str, str]], radius: int) -> list[dict]:
    """Scatter one figure of each kind without overlaps (rejection sampling; restarts when stuck)."""
    x0, y0, x1, y1 = SCENE
    while True:
        figures: list[dict] = []
        for colour, shape in kinds:
            for _ in range(500):
                x, y = rng.randint(x0 + radius, x1 - radius), rng.randint(y0 + radius, y1 - radius)
                if all((x - f["x"]) ** 2 + (y - f["y"]) ** 2 >= (2 * radius + 8) ** 2 for f in figures):
                    figures.append({"colour": colour, "shape": shape, "x": x, "y": y, "r": radius})
                    break
            else:
                break
        if len(figures) == len(kinds):
            return figures


def _distractor_kinds(rng, target: tuple[str, str], n: int, confusable: bool) -> list[tuple[str, str]]:
    """`n` other kinds; when `confusable`, most share the target's colour or its shape."""
    others = [(c, s) for c in COLOURS for s in SHAPES if (c, s) != target]
    near = [k for k in others if k[0] == target[0] or k[1] == target[1]]
    far = [k for k in others if k not in near]
    return [rng.choice(near if confusable and rng.random() < 0.7 else far) for _ in range(n)]


@lru_cache(maxsize=32)
def _references(figures_json: str, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The expected final frame, its context mask, and the frames with no box and every box filled."""
    figures = json.loads(figures_json)
    expected = draw_scene(figures, count)
    empty, full = draw_scene(figures, 0), draw_scene(figures, BOXES)
    return (np.asarray(expected, np.float64), context_mask(expected, [box(i) for i in range(BOXES)]),
            np.asarray(empty, np.float64), np.asarray(full, np.float64))


class CountingTask(Task):
    name = "counting"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "Count the figures of one colour and shape among others; fill that many answer boxes."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        low, high, n_other, radius = LEVELS[difficulty]
        target = (rng.choice(sorted(COLOURS)), rng.choice(SHAPES))
        count = rng.randint(low, high)
        kinds = [target] * count + _distractor_kinds(rng, target, n_other, confusable=difficulty != "easy")
        rng.shuffle(kinds)
        figures = _place(rng, kinds, radius)
        kind = f"{target[0]} {target[1]}s"
        steps = [draw_scene(figures, k) for k in range(count + 1)]
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(kind=kind), first=steps[0],
                                final=steps[-1], solution={"count": count, "kind": list(target)},
                                figures=figures)
        return Generated(question, solution_video([im for im in steps for _ in range(FRAMES_PER_BOX)]))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        count = question.metadata["solution"]["count"]
        expected, context, empty, full = _references(json.dumps(question.metadata["figures"]), count)
        boxes = [box(i) for i in range(BOXES)]
        seen = read_against(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected, context)
        states = box_states(seen, empty, full, boxes)
        filled = [i for i, s in enumerate(states) if s["filled"]]
        correct = filled == list(range(count))
        parts = {f"figure {i} ({f['colour']} {f['shape']})": (f["x"] - f["r"] - 4, f["y"] - f["r"] - 4,
                                                            f["x"] + f["r"] + 5, f["y"] + f["r"] + 5)
                 for i, f in enumerate(question.metadata["figures"])}
        parts.update({f"picture {name}": box for name, box in tiles(SCENE, TILE).items()})
        consistent, consistency = verdict(part_differences(seen, expected, parts), "the figures and the picture")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"filled_boxes": filled, "count_read": len(filled), "expected_count": count,
                      "filled_from_left": filled == list(range(len(filled))), "boxes": states,
                      "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The boxes filled for one figure more or one fewer than there are."""
        count = question.metadata["solution"]["count"]
        options = [c for c in (count - 1, count + 1) if 1 <= c <= BOXES]
        wrong = task_rng(self.name, seed, f"wrong:{question.id}").choice(options)
        return draw_scene(question.metadata["figures"], wrong)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right boxes filled, with one of the figures gone from the picture."""
        figures = list(question.metadata["figures"])
        figures.pop(task_rng(self.name, seed, f"inconsistent:{question.id}").randrange(len(figures)))
        return draw_scene(figures, question.metadata["solution"]["count"])


TASK = CountingTask()
