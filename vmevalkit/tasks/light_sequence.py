"""Light sequence: apply a stated rule to a row of lamps, some lit, and show the new pattern.

A dark panel holds a row of numbered lamps; lit lamps are yellow, dark ones grey. The prompt
states one rule (by difficulty: move the lights one lamp along or switch every lamp; light the
neighbour of every lit lamp or reverse the row; add a number to the binary number the lamps show,
or light each lamp with exactly one lit neighbour). The scorer reads every lamp as lit or dark
(whichever of the two looks its inside is closer to, after lining the frame up and undoing any
colour shift) and is correct only if every lamp shows the new pattern; the panel, the numbers and
the lamps the rule leaves alone are checked for consistency."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, canvas, draw_disc, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, ColourGroups, box_states, register
from vmevalkit.tasks.consistency import aligned, part_differences, shared_parts, verdict
from vmevalkit.video import Video

Pattern = list[int]  # one entry per lamp from the left: 1 lit, 0 dark
LIT = (255, 212, 40)
DARK = (110, 110, 120)
PANEL = (52, 56, 66)
SPACING = 44  # px between lamp centres
RADIUS = 16
LAMP_Y = 176
LABEL_Y = 236
LABEL_SIZE = 26
FRAMES_PER_LAMP = 2
# difficulty -> (fewest lamps, most lamps, the rules to choose from)
LEVELS = {"easy": (5, 6, ("shift", "invert")), "medium": (6, 8, ("spread", "mirror")),
          "hard": (6, 8, ("count", "xor"))}
MIN_CHANGED = 2  # the rule must switch at least this many lamps
INTRO = ("A row of {n} lamps numbered 1 to {n} from the left is shown; the bright yellow lamps are lit and "
         "the grey ones are dark. ")
OUTRO = (" Switch only the lamps that must change, keep the panel, the numbers and the camera unchanged, "
         "and hold the new pattern at the end.")


def _side(direction: str) -> tuple[str, str]:
    return ("left", "right") if direction == "right" else ("right", "left")


def apply_rule(pattern: Pattern, rule: str, param: str | int) -> Pattern:
    """The pattern after one step of `rule` (every lamp judged from the pattern as it is now)."""
    n = len(pattern)
    if rule == "shift":  # param: the direction the lights move; the row wraps around
        return pattern[-1:] + pattern[:-1] if param == "right" else pattern[1:] + pattern[:1]
    if rule == "invert":
        return [1 - p for p in pattern]
    if rule == "spread":  # param: the direction the light spreads to
        before = [0] + pattern[:-1] if param == "right" else pattern[1:] + [0]
        return [p | b for p, b in zip(pattern, before)]
    if rule == "mirror":
        return pattern[::-1]
    if rule == "count":  # param: the number added; the rightmost lamp is the ones place
        value = int("".join(map(str, pattern)), 2) + int(param)
        return [int(b) for b in format(value, f"0{n}b")]
    if rule == "xor":  # rule 90: lit when exactly one neighbour is lit (outside the row counts as dark)
        padded = [0] + pattern + [0]
        return [padded[i] ^ padded[i + 2] for i in range(n)]
    raise ValueError(f"unknown rule {rule!r}")


def describe(rule: str, param: str | int) -> str:
    if rule == "shift":
        source, _ = _side(str(param))
        end, other = ("leftmost", "rightmost") if param == "right" else ("rightmost", "leftmost")
        return (f"Move every light one lamp to the {param}: each lamp takes the state its {source} neighbour "
                f"has now, and the {end} lamp takes the state of the {other} one (the row wraps around).")
    if rule == "invert":
        return "Switch every lamp: each lit lamp goes dark and each dark lamp lights up."
    if rule == "spread":
        source, _ = _side(str(param))
        return (f"Light every dark lamp whose {source} neighbour is lit now; lit lamps stay lit, and lamps lit "
                f"in this step do not pass the light on.")
    if rule == "mirror":
        return ("Reverse the pattern: lamp 1 takes the state of the last lamp, lamp 2 that of the one before "
                "the last, and so on.")
    if rule == "count":
        return ("The lamps show a number in binary: a lit lamp is 1, a dark lamp is 0, and the rightmost lamp "
                f"is the ones place. Add {param} to that number and show the result the same way.")
    return ("Each lamp becomes lit exactly when one, and only one, of its two neighbours is lit now, and "
            "dark otherwise (the lamps at the ends have only one neighbour).")


def centre(i: int, n: int) -> tuple[int, int]:
    return CANVAS // 2 + round((i - (n - 1) / 2) * SPACING), LAMP_Y


def lamp_box(i: int, n: int) -> Box:
    """The square inside lamp `i`, clear of its outline: where the scorer reads lit or dark."""
    x, y = centre(i, n)
    h = round(0.6 * RADIUS)
    return x - h, y - h, x + h + 1, y + h + 1


def disc_box(i: int, n: int) -> Box:
    """Lamp `i` with its outline."""
    x, y = centre(i, n)
    return x - RADIUS - 2, y - RADIUS - 2, x + RADIUS + 3, y + RADIUS + 3


def label_box(i: int, n: int) -> Box:
    x = centre(i, n)[0]
    return x - SPACING // 2 + 2, LABEL_Y - LABEL_SIZE // 2 - 4, x + SPACING // 2 - 2, LABEL_Y + LABEL_SIZE // 2 + 4


def draw_row(pattern: Pattern, labels: list[str] | None = None) -> Image.Image:
    """The panel with one lamp per entry of `pattern`, and the lamp numbers (or `labels`) below it."""
    n = len(pattern)
    im = canvas()
    draw = ImageDraw.Draw(im)
    (x0, _), (x1, _) = centre(0, n), centre(n - 1, n)
    draw.rounded_rectangle((x0 - RADIUS - 14, LAMP_Y - RADIUS - 14, x1 + RADIUS + 14, LAMP_Y + RADIUS + 14),
                           radius=10, fill=PANEL, outline=BLACK, width=2)
    for i, lit in enumerate(pattern):
        draw_disc(draw, centre(i, n), RADIUS, LIT if lit else DARK, outline=BLACK, width=3)
        draw_text(draw, (centre(i, n)[0], LABEL_Y), labels[i] if labels else str(i + 1), LABEL_SIZE, BLACK)
    return im


def make(rng, difficulty: str) -> tuple[Pattern, str, str | int, Pattern]:
    """(first pattern, rule, its parameter, the pattern after the rule), switching >= MIN_CHANGED lamps."""
    fewest, most, rules = LEVELS[difficulty]
    n = rng.randint(fewest, most)
    rule = rng.choice(rules)
    while True:
        param: str | int = ""
        if rule in ("shift", "spread"):
            param = rng.choice(("left", "right"))  # the way the lights move or spread
        elif rule == "count":
            param = rng.randint(1, 3)  # the number added
        pattern = [rng.randint(0, 1) for _ in range(n)]
        if rule == "count" and int("".join(map(str, pattern)), 2) + int(param) >= 2 ** n:
            continue
        after = apply_rule(pattern, rule, param)
        if 0 < sum(pattern) < n and sum(a != b for a, b in zip(pattern, after)) >= MIN_CHANGED:
            return pattern, rule, param, after


@lru_cache(maxsize=32)
def _references(first: tuple[int, ...], after: tuple[int, ...]) -> tuple:
    """The expected frame, the parts that must stay and the mask the check ignores, the colour groups
    of the rest, and the all-dark and all-lit rows."""
    n = len(after)
    expected = np.asarray(draw_row(list(after)), np.float64)
    switched = [disc_box(i, n) for i in range(n) if first[i] != after[i]]
    parts, ignore = shared_parts(np.asarray(draw_row(list(first))), expected, switched)
    parts = {**{f"lamp {i + 1}": disc_box(i, n) for i in range(n)},
             **{f"number {i + 1}": label_box(i, n) for i in range(n)}, **parts}
    return (expected, parts, ignore, ColourGroups.of(expected, ~ignore), np.asarray(draw_row([0] * n), np.float64),
            np.asarray(draw_row([1] * n), np.float64))


class LightSequenceTask(Task):
    name = "light_sequence"
    version = "1"
    description = "Apply a stated rule (shift, invert, spread, mirror, binary +k, xor) to a row of lamps."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        pattern, rule, param, after = make(task_rng(self.name, seed, difficulty), difficulty)
        frames, current = [draw_row(pattern)], list(pattern)
        for i in range(len(pattern)):
            if current[i] != after[i]:
                current[i] = after[i]
                frames += [draw_row(current)] * FRAMES_PER_LAMP
        prompt = INTRO.format(n=len(pattern)) + describe(rule, param) + OUTRO
        question = new_question(self, seed, difficulty, prompt=prompt, first=frames[0], final=frames[-1],
                                solution={"pattern": after}, lamps={"pattern": pattern, "rule": rule,
                                                                    "param": param})
        return Generated(question, solution_video(frames))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        first, after = question.metadata["lamps"]["pattern"], question.metadata["solution"]["pattern"]
        n = len(after)
        expected, parts, ignore, groups, dark, lit = _references(tuple(first), tuple(after))
        observed = register(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected)
        fit = groups.fit(observed)
        states = box_states(observed, fit.apply(dark), fit.apply(lit), [lamp_box(i, n) for i in range(n)], inset=0)
        read = [int(s["filled"]) for s in states]
        correct = read == after
        seen = aligned(observed, expected, ignore, drift=False)  # lined up above
        consistent, consistency = verdict(part_differences(seen, expected, parts, ignore),
                                          "the panel, the lamp numbers and the lamps the rule leaves as they are")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"pattern_read": read, "expected": after, "first": first,
                      "wrong_lamps": [i + 1 for i in range(n) if read[i] != after[i]],
                      "unchanged": read == first, "lamps": states, "consistency": consistency},
                     consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The new pattern with one lamp in the wrong state."""
        after = list(question.metadata["solution"]["pattern"])
        i = task_rng(self.name, seed, f"wrong:{question.id}").randrange(len(after))
        after[i] = 1 - after[i]
        return draw_row(after)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The new pattern, with one lamp's number below the panel gone."""
        after = question.metadata["solution"]["pattern"]
        labels = [str(i + 1) for i in range(len(after))]
        labels[task_rng(self.name, seed, f"inconsistent:{question.id}").randrange(len(after))] = ""
        return draw_row(after, labels)


TASK = LightSequenceTask()
