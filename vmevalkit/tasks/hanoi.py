"""Tower of Hanoi: make the next move of the shortest solution from a position part-way through.

Three to five discs (of distinct widths and colours) sit on three pegs in any legal position that is
not already the goal (every disc on the right peg). The prompt asks for the next move of the
shortest solution, which from any legal position is unique. The scorer reads, in every frame, which
disc lies on which peg at which level (by colour, in slots along each peg) and is correct when the
video starts from the question's position, ends on the position after the optimal move, passes
through no other resting position, never loses a disc from view and never shows a disc resting
above a smaller one. The pegs and the base must stay as drawn."""

from __future__ import annotations

from collections import deque
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import CANVAS, Box, canvas
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state, frames_at
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import context_mask, read_against
from vmevalkit.tasks.consistency import box_mask, grown, part_differences, verdict
from vmevalkit.video import Video

Position = tuple[int, ...]  # the peg (0 left, 1 middle, 2 right) of every disc, smallest disc first
DISCS = {"easy": 3, "medium": 4, "hard": 5}
GOAL_PEG = 2
BACKGROUND = (240, 240, 236)
PEG, BASE, OUTLINE = (135, 100, 65), (85, 62, 45), (40, 40, 40)
DISC_COLOURS = ((210, 45, 45), (235, 135, 30), (230, 215, 60), (60, 165, 80), (55, 100, 215))
PEG_X = (72, 192, 312)
BASE_TOP, BASE_HEIGHT = 272, 18
LEVEL = 26  # px: a disc's height and the spacing of the slots along a peg
LEVELS = 6  # slots along each peg (pegs are this tall whatever the number of discs)
PEG_TOP = BASE_TOP - LEVELS * LEVEL  # the top slot (above the fifth) is never covered by a resting disc
PEG_WIDTH = 10
AIR = PEG_TOP - LEVEL  # the height (centre) at which a lifted disc crosses over the pegs
WIDEST, NARROWEST = 112, 40
MAX_COLOUR_DISTANCE = 70.0  # a pixel farther than this from every drawn colour is not counted
MIN_SHARE = 0.5  # a disc is seen (in a slot, or anywhere) when at least this share of its area shows
CLEARANCE = 6  # px between the parts checked for consistency and any disc (a disc's blurred edge stays out)
STEP_FRAMES = 3  # frames to lift a disc, to carry it over, and to lower it
PROMPT = ("This is a Tower of Hanoi with {n} discs on three pegs. The goal is to stack all the discs on the "
          "right peg, moving one disc at a time from the top of a peg to another peg and never putting a "
          "disc on a smaller one. From this position, make only the next move of the shortest solution: "
          "lift that disc, put it on its new peg, and stop. Keep the pegs, the other discs and the camera "
          "unchanged.")


def disc_width(disc: int, n: int) -> int:
    """Disc 0 is the smallest."""
    return round(NARROWEST + (WIDEST - NARROWEST) * disc / (n - 1))


def stacks(position: Position) -> list[list[int]]:
    """The discs on each peg, bottom (largest) first."""
    return [sorted((d for d, p in enumerate(position) if p == peg), reverse=True) for peg in range(3)]


def legal_moves(position: Position) -> list[tuple[int, int, int]]:
    """(disc, from peg, to peg) for every legal move: a peg's top disc onto an empty peg or a larger disc."""
    tops = [s[-1] if s else None for s in stacks(position)]
    return [(tops[a], a, b) for a in range(3) for b in range(3)
            if a != b and tops[a] is not None and (tops[b] is None or tops[b] > tops[a])]


def moved(position: Position, move: tuple[int, int, int]) -> Position:
    disc, _, to = move
    return tuple(to if d == disc else p for d, p in enumerate(position))


@lru_cache(maxsize=8)
def distances(n: int) -> dict[Position, int]:
    """Moves left to the goal from every legal position of `n` discs (breadth-first from the goal)."""
    goal = (GOAL_PEG,) * n
    dist, queue = {goal: 0}, deque([goal])
    while queue:
        here = queue.popleft()
        for move in legal_moves(here):
            there = moved(here, move)
            if there not in dist:
                dist[there] = dist[here] + 1
                queue.append(there)
    return dist


def optimal_moves(position: Position) -> list[tuple[int, int, int]]:
    """Every move that starts a shortest solution from `position` (there is exactly one, tests check)."""
    dist = distances(len(position))
    return [m for m in legal_moves(position) if dist[moved(position, m)] == dist[position] - 1]


def slot_box(peg: int, level: int) -> tuple[int, int, int, int]:
    """Where a disc resting `level` discs up on `peg` is drawn (as wide as the widest disc)."""
    bottom = BASE_TOP - level * LEVEL
    return PEG_X[peg] - WIDEST // 2 - 2, bottom - LEVEL, PEG_X[peg] + WIDEST // 2 + 3, bottom


def _disc(draw: ImageDraw.ImageDraw, disc: int, n: int, x: float, bottom: float) -> None:
    w = disc_width(disc, n)
    draw.rounded_rectangle((round(x - w / 2), round(bottom - LEVEL + 1), round(x + w / 2), round(bottom - 1)),
                           radius=7, fill=DISC_COLOURS[disc], outline=OUTLINE, width=2)


def draw_board(position: Position, lifted: tuple[int, float, float] | None = None,
               short_peg: int | None = None) -> Image.Image:
    """The pegs, the base and the discs of `position`; `lifted` = (disc, x, bottom) draws a disc off the
    pegs (it must not be in `position`'s stacks, pass -1 as its peg); `short_peg` draws that peg two
    levels short (the inconsistent frame)."""
    n = len(position)
    im = canvas(BACKGROUND)
    draw = ImageDraw.Draw(im)
    draw.rectangle((16, BASE_TOP, CANVAS - 17, BASE_TOP + BASE_HEIGHT - 1), fill=BASE)
    for peg, x in enumerate(PEG_X):
        top = PEG_TOP + (2 * LEVEL if peg == short_peg else 0)
        draw.rounded_rectangle((x - PEG_WIDTH // 2, top, x + PEG_WIDTH // 2 - 1, BASE_TOP), radius=4,
                               fill=PEG)
    for peg, stack in enumerate(stacks(position)):
        for level, disc in enumerate(stack):
            _disc(draw, disc, n, PEG_X[peg], BASE_TOP - level * LEVEL)
    if lifted is not None:
        _disc(draw, lifted[0], n, lifted[1], lifted[2])
    return im


def move_frames(position: Position, move: tuple[int, int, int]) -> list[Image.Image]:
    """The position, the disc lifted above its peg, carried over, lowered onto the new peg, and the result."""
    disc, a, b = move
    rest = tuple(-1 if d == disc else p for d, p in enumerate(position))
    after = moved(position, move)
    start = BASE_TOP - (len(stacks(position)[a]) - 1) * LEVEL
    end = BASE_TOP - (len(stacks(after)[b]) - 1) * LEVEL
    air = AIR + LEVEL / 2
    path = ([(PEG_X[a], start + (air - start) * k / STEP_FRAMES) for k in range(1, STEP_FRAMES + 1)]
            + [(PEG_X[a] + (PEG_X[b] - PEG_X[a]) * k / STEP_FRAMES, air) for k in range(1, STEP_FRAMES + 1)]
            + [(PEG_X[b], air + (end - air) * k / STEP_FRAMES) for k in range(1, STEP_FRAMES)])
    return [draw_board(position)] + [draw_board(rest, (disc, x, y)) for x, y in path] + [draw_board(after)]


PALETTE = np.array([BACKGROUND, PEG, BASE, OUTLINE, *DISC_COLOURS], np.float32)
FIRST_DISC_CLASS = 4  # PALETTE index of disc 0


def colour_classes(rgb: np.ndarray) -> np.ndarray:
    """Per 2x2 block of pixels (an H/2 x W/2 map), the index of the nearest drawn colour, or -1 where none
    is near."""
    h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    blocks = (rgb[0:h:2, 0:w:2] + rgb[1:h:2, 0:w:2] + rgb[0:h:2, 1:w:2] + rgb[1:h:2, 1:w:2]).reshape(-1, 3)
    blocks /= 4
    # squared distances to every palette colour, as |x|^2 - 2 x.p + |p|^2 (one matrix product)
    d = (blocks * blocks).sum(axis=1, keepdims=True) - 2 * blocks @ PALETTE.T
    d += (PALETTE * PALETTE).sum(axis=1)
    classes = d.argmin(axis=1)
    classes[d[np.arange(len(d)), classes] > MAX_COLOUR_DISTANCE ** 2] = -1
    return classes.reshape(h // 2, w // 2)


@lru_cache(maxsize=8)
def disc_areas(n: int) -> np.ndarray:
    """How many blocks of its colour every disc shows when nothing covers it."""
    classes = colour_classes(np.asarray(draw_board((0,) * n), np.float32))
    return np.array([(classes == FIRST_DISC_CLASS + d).sum() for d in range(n)])


class Reading:
    """What one frame shows (from its `colour_classes`): the disc in every slot, and which discs are seen
    anywhere."""

    def __init__(self, classes: np.ndarray, n: int):
        areas = disc_areas(n)
        self.seen = [bool((classes == FIRST_DISC_CLASS + d).sum() >= MIN_SHARE * areas[d]) for d in range(n)]
        self.slots: list[list[int | None]] = []  # [peg][level]: the disc there, or None
        for peg in range(3):
            column = []
            for level in range(LEVELS):
                x0, y0, x1, y1 = (v // 2 for v in slot_box(peg, level))  # in blocks
                counts = [(classes[y0:y1, x0:x1] == FIRST_DISC_CLASS + d).sum() / areas[d] for d in range(n)]
                best = int(np.argmax(counts))
                column.append(best if counts[best] >= MIN_SHARE else None)
            self.slots.append(column)

    def pegs(self) -> list[int | None]:
        """Each disc's peg, or None unless it is seen on exactly one peg."""
        found = [{peg for peg in range(3) if d in self.slots[peg]} for d in range(len(self.seen))]
        return [where.pop() if len(where) == 1 else None for where in found]

    def position(self) -> Position | None:
        """The position, when every disc is seen on exactly one peg."""
        pegs = self.pegs()
        return None if None in pegs else tuple(pegs)

    def on_smaller(self) -> list[dict]:
        """Every disc seen in a slot above a smaller disc on the same peg."""
        found = []
        for peg, column in enumerate(self.slots):
            below = [d for d in column if d is not None]
            for lower, upper in ((lo, up) for i, lo in enumerate(below) for up in below[i + 1:]):
                if upper > lower:
                    found.append({"peg": peg, "disc": upper, "above": lower})
        return found


@lru_cache(maxsize=32)
def _references(position: Position) -> tuple[np.ndarray, np.ndarray, dict[str, Box], np.ndarray]:
    """The frame of `position`, its colour-fitting context (outside the slots), the parts that must stay
    (each peg above the slots a disc can rest in, and the base) and where the discs may be (those slots,
    grown: left out of the consistency check)."""
    im = draw_board(position)
    shape = (CANVAS, CANVAS)
    slots = [slot_box(p, level) for p in range(3) for level in range(LEVELS)]
    resting = max(DISCS.values())  # the slots a disc can rest in: the lowest five of each peg
    free = slot_box(0, resting - 1)[1] - CLEARANCE  # clear of the highest of them
    parts = {f"{name} peg": (x - PEG_WIDTH, PEG_TOP - 4, x + PEG_WIDTH, free)
             for name, x in zip(("left", "middle", "right"), PEG_X)}
    parts["base"] = (12, BASE_TOP + CLEARANCE, CANVAS - 13, BASE_TOP + BASE_HEIGHT + 4)
    discs = grown(box_mask(shape, [slot_box(p, level) for p in range(3) for level in range(resting)]))
    return np.asarray(im, np.float64), context_mask(im, slots), parts, discs


class HanoiTask(Task):
    name = "hanoi"
    version = "1"
    description = "Make the next move of the shortest Tower of Hanoi solution from a position part-way."

    def make(self, seed: int, difficulty: str) -> Position:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        n = DISCS[difficulty]
        while True:
            position = tuple(rng.randrange(3) for _ in range(n))
            if distances(n)[position] > 0:
                return position

    def generate(self, seed: int, difficulty: str) -> Generated:
        position = self.make(seed, difficulty)
        (move,) = optimal_moves(position)
        after = moved(position, move)
        frames = move_frames(position, move)
        disc, a, b = move
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(n=len(position)),
                                first=frames[0], final=frames[-1],
                                solution={"move": {"disc": disc, "from": a, "to": b}, "position": list(after),
                                          "moves_left": distances(len(position))[position]},
                                hanoi={"discs": len(position), "position": list(position),
                                       "goal_peg": GOAL_PEG})
        return Generated(question, solution_video(frames))

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The position after another legal move (never the optimal one)."""
        position = tuple(question.metadata["hanoi"]["position"])
        best = optimal_moves(position)
        others = [m for m in legal_moves(position) if m not in best]
        return draw_board(moved(position, task_rng(self.name, seed, f"wrong:{question.id}").choice(others)))

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right position with one peg drawn two levels shorter."""
        peg = task_rng(self.name, seed, f"inconsistent:{question.id}").randrange(3)
        return draw_board(tuple(question.metadata["solution"]["position"]), short_peg=peg)

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        start = tuple(question.metadata["hanoi"]["position"])
        answer = tuple(question.metadata["solution"]["position"])
        n = len(start)
        size = (CANVAS, CANVAS)
        reference, context, parts, discs = _references(answer)
        seen = read_against(final_state(video, size).astype(np.float64), reference, context)
        final = Reading(colour_classes(seen.astype(np.float32)), n)
        frames = [Reading(colour_classes(frame), n) for frame in frames_at(video, size)]
        vanished = [{"frame": i, "disc": d} for i, r in enumerate(frames) for d in range(n) if not r.seen[d]]
        on_smaller = [{"frame": i, **v} for i, r in enumerate(frames) for v in r.on_smaller()]
        resting = [p for p in (r.position() for r in frames) if p is not None]
        positions = [p for i, p in enumerate(resting) if i == 0 or p != resting[i - 1]]
        pegs = final.pegs()
        final_position = final.position()
        started = bool(positions) and positions[0] == start
        other = [list(p) for p in positions if p not in (start, answer)]
        read_move = next(({"disc": m[0], "from": m[1], "to": m[2]} for m in legal_moves(start)
                          if final_position == moved(start, m)), None)
        correct = final_position == answer and started and not other and not vanished and not on_smaller
        consistent, consistency = verdict(part_differences(seen, reference, parts, discs),
                                          "the three pegs and the base")
        return Score(self.name, self.scorer_version, correct, float(correct),
                     {"pegs_read": pegs, "position_read": list(final_position) if final_position else None,
                      "expected_position": list(answer), "start_position": list(start),
                      "move_read": read_move, "optimal_move": question.metadata["solution"]["move"],
                      "unchanged": final_position == start, "started_at_start": started,
                      "positions_seen": [list(p) for p in positions], "other_positions": other,
                      "vanished": vanished, "on_smaller": on_smaller, "consistency": consistency},
                     consistent=consistent)


TASK = HanoiTask()
