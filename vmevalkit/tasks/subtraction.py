"""Object subtraction: remove every object of a described kind from a scene of coloured figures.

Figures (circles, squares, triangles, stars in four colours, in two sizes at hard) are scattered
without overlap; the prompt names a kind by colour, shape or both (and size at hard), and many
other figures share part of that description. The scorer reads every figure's place as still
showing the figure or bare background (whichever its inside is closer to, after lining the frame
up and undoing any colour shift) and is correct only if exactly the described figures are gone;
whether the remaining figures and the background stayed as they were is the consistency check."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import CANVAS, canvas
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, ColourGroups, box_states, register
from vmevalkit.tasks.consistency import aligned, part_differences, shared_parts, verdict
from vmevalkit.tasks.counting import COLOURS, SHAPES, draw_figure
from vmevalkit.video import Video

Figure = dict  # colour, shape, size, x, y, r
RADII = {"small": 13, "large": 21}
GAP = 10  # px between the outlines of two figures
MARGIN = 16  # px between figures and the frame's edge
FADE_STEPS = 3  # frames over which each removed figure fades out
MOVED = 0.3  # of its radius, how far the inconsistent final frame moves a figure (4 or 6 px: its place stays covered)
# difficulty -> (fewest figures, most figures, attributes the description names, sizes used)
LEVELS = {"easy": (7, 8, 1, ("large",)), "medium": (8, 10, 2, ("large",)), "hard": (10, 12, 3, ("small", "large"))}
MAX_TARGETS = 3
PROMPT = ("Remove every {kind} from the picture, leaving plain white background where each one was. Do not "
          "move, change or add any other figure, keep the camera fixed, and hold the result at the end.")


def kind_of(figure: Figure, attributes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(figure[a] for a in attributes)


def describe(target: dict[str, str]) -> str:
    """The prompt's name for the kind: 'red figure', 'triangle', 'blue triangle', 'small green square'."""
    words = [target[a] for a in ("size", "colour") if a in target]
    return " ".join(words + [target.get("shape", "figure")])


def scatter(rng, radii: list[int]) -> list[tuple[int, int]]:
    """A centre for each radius, GAP px apart and MARGIN px from the edges (restarting when stuck)."""
    while True:
        centres: list[tuple[int, int]] = []
        for r in radii:
            for _ in range(400):
                x, y = rng.randint(MARGIN + r, CANVAS - MARGIN - r), rng.randint(MARGIN + r, CANVAS - MARGIN - r)
                if all((x - cx) ** 2 + (y - cy) ** 2 >= (r + cr + GAP) ** 2
                       for (cx, cy), cr in zip(centres, radii)):
                    centres.append((x, y))
                    break
            else:
                break
        if len(centres) == len(radii):
            return centres


def make(rng, difficulty: str) -> tuple[dict[str, str], list[Figure]]:
    """The described kind (attribute -> value) and the figures; 1..MAX_TARGETS of them are of the kind,
    and at medium and hard most others share all but one of the named attributes."""
    fewest, most, named, sizes = LEVELS[difficulty]
    values = {"colour": sorted(COLOURS), "shape": list(SHAPES), "size": list(sizes)}
    attributes = (rng.choice(("colour", "shape")),) if named == 1 else ("colour", "shape", "size")[:named]
    target = {a: rng.choice(values[a]) for a in attributes}
    n = rng.randint(fewest, most)
    count = rng.randint(1 if named > 1 else 2, MAX_TARGETS)
    figures = []
    for i in range(n):
        figure = {a: rng.choice(values[a]) for a in ("colour", "shape", "size")}
        if i < count:
            figure.update(target)
        else:
            if named > 1 and rng.random() < 0.7:  # a look-alike: all but one named attribute agree
                figure.update(target)
            changed = rng.choice(attributes)
            figure[changed] = rng.choice([v for v in values[changed] if v != target[changed]])
        figures.append(figure)
    rng.shuffle(figures)
    centres = scatter(rng, [RADII[f["size"]] for f in figures])
    return target, [{**f, "x": x, "y": y, "r": RADII[f["size"]]} for f, (x, y) in zip(figures, centres)]


def draw_scene(figures: list[Figure], removed: set[int] = frozenset(), fading: int | None = None,
               alpha: float = 1.0) -> Image.Image:
    """The figures except those in `removed`; figure `fading` drawn at opacity `alpha`."""
    im = canvas()
    draw = ImageDraw.Draw(im)
    for i, f in enumerate(figures):
        if i not in removed and i != fading:
            draw_figure(draw, f["shape"], (f["x"], f["y"]), f["r"], COLOURS[f["colour"]])
    if fading is not None:
        with_it = im.copy()
        f = figures[fading]
        draw_figure(ImageDraw.Draw(with_it), f["shape"], (f["x"], f["y"]), f["r"], COLOURS[f["colour"]])
        im = Image.blend(im, with_it, alpha)
    return im


def figure_box(f: Figure) -> Box:
    """The square about a figure's centre that the scorer reads (inside every shape's outline mostly)."""
    h = round(0.6 * f["r"])
    return f["x"] - h, f["y"] - h, f["x"] + h + 1, f["y"] + h + 1


def outline_box(f: Figure) -> Box:
    return f["x"] - f["r"] - 2, f["y"] - f["r"] - 2, f["x"] + f["r"] + 3, f["y"] + f["r"] + 3


@lru_cache(maxsize=32)
def _references(figures_json: str, targets: tuple[int, ...]) -> tuple:
    """The expected frame, the parts that must stay (the remaining figures, the picture) and the mask the
    check ignores (where figures go), the colour groups of the rest, and the scene with no figure and with
    every figure."""
    figures = json.loads(figures_json)
    expected, full = np.asarray(draw_scene(figures, set(targets)), np.float64), np.asarray(draw_scene(figures))
    parts, ignore = shared_parts(full, expected)
    parts = {**{f"figure {i}": outline_box(f) for i, f in enumerate(figures) if i not in targets}, **parts}
    return (expected, parts, ignore, ColourGroups.of(expected, ~ignore), np.asarray(canvas(), np.float64),
            full.astype(np.float64))


class SubtractionTask(Task):
    name = "subtraction"
    version = "1"
    description = "Remove every figure of a described colour/shape/size from a scene full of look-alikes."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        target, figures = make(rng, difficulty)
        targets = [i for i, f in enumerate(figures) if kind_of(f, tuple(target)) == tuple(target.values())]
        frames, removed = [draw_scene(figures)], set()
        for i in targets:
            frames += [draw_scene(figures, removed, i, 1 - k / FADE_STEPS) for k in range(1, FADE_STEPS)]
            removed.add(i)
            frames.append(draw_scene(figures, removed))
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(kind=describe(target)),
                                first=frames[0], final=frames[-1], solution={"removed": targets, "kind": target},
                                figures=figures)
        return Generated(question, solution_video(frames))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        figures, targets = question.metadata["figures"], question.metadata["solution"]["removed"]
        expected, parts, ignore, groups, bare, full = _references(json.dumps(figures), tuple(targets))
        observed = register(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected)
        fit = groups.fit(observed)
        states = box_states(observed, fit.apply(full), fit.apply(bare), [figure_box(f) for f in figures], inset=0)
        removed = [i for i, s in enumerate(states) if s["filled"]]
        correct = removed == targets
        seen = aligned(observed, expected, ignore, drift=False)  # lined up above
        consistent, consistency = verdict(part_differences(seen, expected, parts, ignore),
                                          "the figures that must remain and the background")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"removed_read": removed, "expected_removed": targets,
                      "targets_left": [i for i in targets if i not in removed],
                      "others_removed": [i for i in removed if i not in targets],
                      "figures": [{"removed": s["filled"], "present_distance": s["empty_distance"],
                                   "removed_distance": s["filled_distance"]} for s in states],
                      "consistency": consistency}, consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """One described figure left in place, or one look-alike (another figure if none) removed as well."""
        figures, targets = question.metadata["figures"], question.metadata["solution"]["removed"]
        target = question.metadata["solution"]["kind"]
        rng = task_rng(self.name, seed, f"wrong:{question.id}")
        if rng.random() < 0.5:
            return draw_scene(figures, set(targets) - {rng.choice(targets)})
        others = [i for i in range(len(figures)) if i not in targets]
        alike = [i for i in others if sum(figures[i][a] == v for a, v in target.items()) == len(target) - 1]
        return draw_scene(figures, set(targets) | {rng.choice(alike or others)})

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The described figures removed, and one remaining figure moved MOVED of its radius up, down, left or right."""
        figures, targets = question.metadata["figures"], question.metadata["solution"]["removed"]
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        i = rng.choice([i for i in range(len(figures)) if i not in targets])
        step = round(MOVED * figures[i]["r"])
        dx, dy = rng.choice(((step, 0), (-step, 0), (0, step), (0, -step)))
        moved = [dict(f, x=f["x"] + dx, y=f["y"] + dy) if j == i else f for j, f in enumerate(figures)]
        return draw_scene(moved, set(targets))

TASK = SubtractionTask()
