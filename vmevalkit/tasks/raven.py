"""Raven-style progressive matrices: fill the missing ninth panel of a 3x3 matrix.

Each panel holds 1-4 copies of a shape; four attributes (shape, count, size, shade) each follow a
named rule along every row: `constant`, `progression` (one step up or down per panel) or
`distribute_three` (three values, each row a rotation of the same three). The first frame shows
eight panels and a question mark in the ninth; the expected final frame shows the panel the rules
call for. The scorer renders the candidate ninth panels (the answer, every panel that breaks one
rule by changing one attribute, the untouched question mark, an empty panel) and judges the video
by which candidate its ninth panel is closest to, after undoing any global colour shift.
Consistency (reported apart): the eight given panels and the grid lines look in the last frames as
in the question.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, Grid, canvas, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import crop, final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import aligned_distances, closest, context_mask, read_against, thumbnail
from vmevalkit.tasks.consistency import box_mask, grid_edges, part_differences, verdict
from vmevalkit.video import Video

Panel = dict[str, str]  # attribute -> value name

VALUES: dict[str, tuple[str, ...]] = {
    "shape": ("triangle", "square", "pentagon", "hexagon", "circle"),
    "count": ("1", "2", "3", "4"),
    "size": ("small", "medium", "large"),
    "shade": ("light", "medium", "dark"),
}
PROGRESSION_SPAN = {"shape": 4}  # shapes progress by number of sides (triangle..hexagon); no circle
RULES = ("constant", "progression", "distribute_three")
SIDES = {"triangle": 3, "square": 4, "pentagon": 5, "hexagon": 6}
SHADE_RGB = {"light": (215, 215, 215), "medium": (135, 135, 135), "dark": (40, 40, 40)}
RADIUS = {"small": 0.1, "medium": 0.145, "large": 0.19}  # of the panel side, whatever the count
# figure centres for each count, as fractions of the panel side from its centre
SLOTS = {
    "1": ((0.0, 0.0),),
    "2": ((-0.22, 0.0), (0.22, 0.0)),
    "3": ((0.0, -0.2), (-0.22, 0.19), (0.22, 0.19)),
    "4": ((-0.21, -0.21), (0.21, -0.21), (-0.21, 0.21), (0.21, 0.21)),
}
VARYING = {"easy": 1, "medium": 2, "hard": 3}  # attributes that follow a non-constant rule
GRID = Grid.centred(3, 3, margin=12)
INSET = 4  # px kept clear of the grid lines when a panel is cut out
NINTH = GRID.box(2, 2, inset=INSET)
THUMB = (28, 28)
MAX_SHIFT = 2  # thumbnail pixels (8 px of the frame) a drawn panel may sit off its place
# Distances are mean absolute grey-level differences of 28x28 thumbnails of the ninth panel, after
# the frame is lined up with the expected one and its colours are fitted to it outside that panel.
# With all the validation distortions at once the oracle lands 2-5 away from the answer (up to 16
# with twice as much blur), but every other candidate moves away with it: the answer stays nearest
# by at least about half the gap the generator guarantees. A frame of noise is 30 or more away.
MIN_SEPARATION = 2.5  # the answer differs from every wrong candidate by at least this much
MAX_DISTANCE = 20.0  # farther than this from every candidate: no candidate panel was recognised
MAX_ATTEMPTS = 200
FADE_FRAMES = 8
PROMPT = ("This is a 3x3 matrix of panels; each row follows the same rules for the shape, the number, "
          "the size and the shade of the figures. The bottom-right panel is missing and shows a "
          "question mark. Draw into it the panel that completes the pattern, keep the other eight "
          "panels unchanged, and hold the completed matrix at the end.")


def _row_values(rule: str, n: int, rng, span: int, rows_alike: bool) -> list[list[int]]:
    """Three rows of three value indices (out of `n`) following `rule`."""
    if rule == "progression":
        step = rng.choice((1, -1))
        starts = [rng.randrange(span - 2) if step > 0 else rng.randrange(2, span) for _ in range(3)]
        return [[s + step * i for i in range(3)] for s in starts]
    if rule == "distribute_three":
        trio = rng.sample(range(n), 3)
        return [[trio[(r + i) % 3] for i in range(3)] for r in range(3)]
    first = rng.randrange(n)
    return [[v] * 3 for v in ([first] * 3 if rows_alike else [rng.randrange(n) for _ in range(3)])]


def make_matrix(rng, difficulty: str) -> tuple[dict[str, str], list[Panel]]:
    """The rule of every attribute and the nine panels, row by row."""
    varying = set(rng.sample(sorted(VALUES), VARYING[difficulty]))
    rules, columns = {}, {}
    for attr in sorted(VALUES):
        rules[attr] = rng.choice(RULES[1:]) if attr in varying else "constant"
        n = len(VALUES[attr])
        columns[attr] = _row_values(rules[attr], n, rng, PROGRESSION_SPAN.get(attr, n),
                                    rows_alike=difficulty == "easy")
    panels = [{attr: VALUES[attr][columns[attr][r][c]] for attr in sorted(VALUES)}
              for r in range(3) for c in range(3)]
    return rules, panels


def candidates(answer: Panel) -> dict[str, Panel | None]:
    """Every candidate ninth panel: the answer, each one-attribute change of it, and the untouched
    question mark and an empty panel (both None, told apart by name)."""
    found: dict[str, Panel | None] = {"answer": answer}
    for attr, values in VALUES.items():
        found.update({f"{attr}={v}": {**answer, attr: v} for v in values if v != answer[attr]})
    found["question_mark"] = None
    found["empty"] = None
    return found


def _polygon(centre: tuple[float, float], radius: float, shape: str) -> list[tuple[float, float]]:
    k = SIDES[shape]
    turn = -math.pi / 2 if k % 2 else -math.pi / 2 + math.pi / k  # a vertex up, or a flat top
    return [(centre[0] + radius * math.cos(turn + 2 * math.pi * i / k),
             centre[1] + radius * math.sin(turn + 2 * math.pi * i / k)) for i in range(k)]


def draw_panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], panel: Panel) -> None:
    x0, y0, x1, y1 = box
    side = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    radius = RADIUS[panel["size"]] * side
    fill = SHADE_RGB[panel["shade"]]
    for dx, dy in SLOTS[panel["count"]]:
        centre = (cx + dx * side, cy + dy * side)
        if panel["shape"] == "circle":
            draw.ellipse((centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
                         fill=fill, outline=BLACK, width=2)
        else:
            draw.polygon(_polygon(centre, radius, panel["shape"]), fill=fill, outline=BLACK, width=2)


def draw_matrix(panels: list[Panel], ninth: Panel | None, question_mark: bool) -> Image.Image:
    """The matrix with the first eight `panels` and `ninth` (or a question mark, or nothing) last."""
    im = canvas()
    draw = ImageDraw.Draw(im)
    GRID.draw_lines(draw, BLACK, 3)
    for i, panel in enumerate(panels[:8] + [ninth]):
        box = GRID.box(i // 3, i % 3)
        if panel is not None:
            draw_panel(draw, box, panel)
        elif question_mark:
            draw_text(draw, GRID.pixel_centre(2, 2), "?", GRID.cell // 2, (120, 120, 120))
    return im


@lru_cache(maxsize=32)
def _references(panels_json: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The completed matrix (as floats), its context mask, and the ninth-panel thumbnail of every
    candidate (as a stack of one variant, for `aligned_distances`)."""
    panels = json.loads(panels_json)
    completed = draw_matrix(panels, panels[8], False)
    thumbs = {}
    for name, panel in candidates(panels[8]).items():
        image = draw_matrix(panels, panel, question_mark=name == "question_mark")
        thumbs[name] = thumbnail(crop(np.asarray(image, np.float64), NINTH), THUMB)[None]
    return np.asarray(completed, np.float64), context_mask(completed, [GRID.box(2, 2)]), thumbs


def _panels_key(panels: list[Panel]) -> str:
    return json.dumps(panels, sort_keys=True)


def _separation(thumbs: dict[str, np.ndarray]) -> float:
    """How far the answer is from the nearest wrong candidate."""
    others = {name: t for name, t in thumbs.items() if name != "answer"}
    return min(aligned_distances(thumbs["answer"][0], others, MAX_SHIFT).values())


class RavenTask(Task):
    name = "raven"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "Complete a 3x3 progressive matrix whose shape, count, size and shade follow row rules."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        for _ in range(MAX_ATTEMPTS):
            rules, panels = make_matrix(rng, difficulty)
            if _separation(_references(_panels_key(panels))[2]) >= MIN_SEPARATION:
                break
        else:
            raise RuntimeError(f"raven: no well-separated matrix in {MAX_ATTEMPTS} attempts (seed {seed})")
        first = draw_matrix(panels, None, question_mark=True)
        final = draw_matrix(panels, panels[8], question_mark=False)
        first_arr, final_arr = np.asarray(first, np.float64), np.asarray(final, np.float64)
        fade = [first_arr + (final_arr - first_arr) * i / FADE_FRAMES for i in range(FADE_FRAMES + 1)]
        fade = [Image.fromarray(np.rint(f).astype(np.uint8)) for f in fade]
        question = new_question(self, seed, difficulty, prompt=PROMPT, first=first, final=final,
                                solution={"answer": panels[8], "rules": rules},
                                panels=panels[:8], candidates=sorted(candidates(panels[8])))
        return Generated(question, solution_video(fade))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        panels = question.metadata["panels"] + [question.metadata["solution"]["answer"]]
        reference, context, thumbs = _references(_panels_key(panels))
        seen = read_against(final_state(video, (CANVAS, CANVAS)).astype(np.float64), reference, context)
        dist = aligned_distances(thumbnail(crop(seen, NINTH), THUMB), thumbs, MAX_SHIFT)
        read, margin = closest(dist)
        recognised = dist[read] <= MAX_DISTANCE
        correct = recognised and read == "answer"
        parts = {f"panel {i + 1}": GRID.box(i // 3, i % 3, inset=INSET) for i in range(8)}
        parts.update({f"line {name}": box for name, box in grid_edges(GRID, 3).items()})
        consistent, consistency = verdict(part_differences(seen, reference, parts, box_mask(seen.shape, [NINTH])),
                                          "the eight given panels and the grid lines")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"read": read if recognised else None, "read_panel": candidates(panels[8])[read]
                      if recognised else None, "expected": panels[8], "distance": dist[read],
                      "margin": margin, "max_distance": MAX_DISTANCE, "distances": dist,
                      "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The matrix completed with a panel that breaks one rule."""
        panels = question.metadata["panels"] + [question.metadata["solution"]["answer"]]
        options = candidates(panels[8])
        wrong = sorted(name for name, p in options.items() if p is not None and name != "answer")
        name = task_rng(self.name, seed, f"wrong:{question.id}").choice(wrong)
        return draw_matrix(panels, options[name], question_mark=False)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The matrix completed correctly, with one of the eight given panels changed in one attribute."""
        panels = question.metadata["panels"] + [question.metadata["solution"]["answer"]]
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        i = rng.randrange(8)
        attr = rng.choice(sorted(VALUES))
        panels[i] = {**panels[i], attr: rng.choice([v for v in VALUES[attr] if v != panels[i][attr]])}
        return draw_matrix(panels, panels[8], question_mark=False)


TASK = RavenTask()
