"""Clock: move the hands of an analogue clock to the time N minutes later.

The face has twelve numerals and minute ticks; the minute hand is long and blue, the hour hand short
and red. At the hard level the whole clock is seen in a mirror (left and right reversed, numerals
included): the model must read the mirrored time, add N minutes, and set the hands so that the
mirror shows the new time. The scorer reads each hand's angle from its colour along rays out of the
centre, turns the two angles into a time, and is correct when that time is the asked one (to within
two minutes, with the hour hand where that time puts it). The face (numerals, ticks, rim) must stay
as drawn."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, canvas, draw_disc, draw_text, text_box
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import context_mask, read_against
from vmevalkit.tasks.consistency import box_mask, part_differences, verdict
from vmevalkit.video import Video

CENTRE = (CANVAS // 2, CANVAS // 2)
RADIUS = 172  # px, outer edge of the rim
FACE = (250, 247, 236)
WALL = (80, 100, 125)  # behind the clock: a second flat colour, far from the face's, for fitting colours
MINUTE_HAND = (40, 80, 200)
HOUR_HAND = (205, 40, 40)
NUMERAL_RADIUS, NUMERAL_SIZE = 0.77, 30  # numerals' centres at this share of RADIUS, and their size in px
MINUTE_LENGTH, HOUR_LENGTH = 0.62, 0.4  # hand lengths, as shares of RADIUS (clear of the numerals)
MINUTE_WIDTH, HOUR_WIDTH = 8, 13  # px at the hand's base
FACE_INNER = 0.66  # the hands never reach beyond this share of RADIUS: the face outside it must stay
MINUTE_RING, HOUR_RING = (0.46, 0.6), (0.12, 0.36)  # where each hand is read (the minute hand alone
# reaches the first; the second is read by the hour hand's colour)
MIN_HAND_STRENGTH = 25.0  # mean colour excess (grey levels) along the best ray for a hand to count as seen (a
# drawn hand gives 55-70 after every distortion, a face without that hand 0-5)
TOLERANCE_MINUTES = 2  # the time read may be this far from the asked one
MAX_HOUR_OFFSET = 0.35  # hours the hour hand may be from where the minute hand puts it
SWEEP_FRAMES = 12
# difficulty -> (minutes of the start time are a multiple of this, the choices of N, mirrored)
LEVELS = {"easy": (15, (15, 30, 45, 60, 90, 120, 180), False),
          "medium": (5, tuple(range(5, 240, 5)), False),
          "hard": (5, tuple(range(5, 240, 5)), True)}
MIRROR = " seen in a mirror, so its face is reversed left to right"
PROMPT = ("This is an analogue clock{mirror}. The long blue hand shows the minutes and the short red hand "
          "the hours. Work out the time it shows, then turn the hands forward to show the time {n} "
          "later{mirror_set}: move only the hands, keep the face, its numerals and the camera unchanged, "
          "and stop when the hands show the new time.")


def _polar(angle: float, r: float) -> tuple[float, float]:
    """The point at `r` px from the centre, `angle` degrees clockwise from 12 o'clock."""
    a = math.radians(angle)
    return CENTRE[0] + r * math.sin(a), CENTRE[1] - r * math.cos(a)


def hand_angles(minutes: float) -> tuple[float, float]:
    """(minute hand, hour hand) angles in degrees clockwise from 12 for a time of day in minutes."""
    return (minutes % 60) * 6.0, (minutes % 720) / 2.0


def _hand(draw: ImageDraw.ImageDraw, angle: float, length: float, width: float, colour) -> None:
    """A hand tapering from `width` at a short tail behind the centre to a third of it at the tip."""
    a = math.radians(angle)
    along, across = (math.sin(a), -math.cos(a)), (math.cos(a), math.sin(a))
    tail, tip = -0.08 * RADIUS, length * RADIUS
    points = [(CENTRE[0] + along[0] * d + across[0] * w, CENTRE[1] + along[1] * d + across[1] * w)
              for d, w in ((tail, width / 2), (tip, width / 6), (tip, -width / 6), (tail, -width / 2))]
    draw.polygon(points, fill=colour)


def draw_clock(minutes: float, mirrored: bool,
               numerals: tuple[int, ...] = tuple(range(1, 13))) -> Image.Image:
    """The clock showing `minutes` (time of day); `numerals[i]` is the number written at hour i + 1
    (the inconsistent frame swaps two). Mirrored: the whole picture reversed left to right."""
    im = canvas(WALL)
    draw = ImageDraw.Draw(im)
    draw_disc(draw, CENTRE, RADIUS, FACE, outline=BLACK, width=6)
    for tick in range(60):
        inner = 0.86 if tick % 5 == 0 else 0.91
        draw.line([_polar(tick * 6, inner * RADIUS), _polar(tick * 6, 0.95 * RADIUS)], fill=BLACK,
                  width=4 if tick % 5 == 0 else 2)
    for hour, label in zip(range(1, 13), numerals):
        draw_text(draw, _polar(hour * 30, NUMERAL_RADIUS * RADIUS), str(label), NUMERAL_SIZE, BLACK)
    minute_angle, hour_angle = hand_angles(minutes)
    _hand(draw, minute_angle, MINUTE_LENGTH, MINUTE_WIDTH, MINUTE_HAND)
    _hand(draw, hour_angle, HOUR_LENGTH, HOUR_WIDTH, HOUR_HAND)  # on top: the minute hand's tip still shows
    draw_disc(draw, CENTRE, 7, BLACK)
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirrored else im


def clock_text(minutes: int) -> str:
    hours = (minutes // 60) % 12
    return f"{hours or 12}:{minutes % 60:02d}"


def _duration(n: int) -> str:
    hours, mins = divmod(n, 60)
    parts = ([f"{hours} hour{'s' * (hours > 1)}"] if hours else []) + ([f"{mins} minutes"] if mins else [])
    return " and ".join(parts)


@lru_cache(maxsize=1)
def _rays() -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices (y, x) along rays every half degree: 720 angles x radii 0 .. RADIUS."""
    angles = np.radians(np.arange(720) / 2.0)[:, None]
    radii = np.arange(RADIUS)[None, :]
    xs = np.rint(CENTRE[0] + radii * np.sin(angles)).astype(int)
    ys = np.rint(CENTRE[1] - radii * np.cos(angles)).astype(int)
    return ys, xs


def read_hand(excess: np.ndarray, ring: tuple[float, float]) -> tuple[float | None, float]:
    """The angle (degrees clockwise from 12, in the picture) of the ray along which `excess` (a hand's
    colour over the other channels) is strongest within `ring`, and that strength; None if too weak."""
    ys, xs = _rays()
    r0, r1 = round(ring[0] * RADIUS), round(ring[1] * RADIUS)
    profile = np.clip(excess[ys[:, r0:r1], xs[:, r0:r1]], 0, None).mean(axis=1)
    smooth = sum(np.roll(profile, k) for k in range(-4, 5)) / 9
    peak = int(np.argmax(smooth))
    strength = float(smooth[peak])
    if strength < MIN_HAND_STRENGTH:
        return None, round(strength, 1)
    near = (peak + np.arange(-16, 17)) % 720  # +-8 degrees: the weighted circular mean refines the peak
    weights = profile[near]
    angles = np.radians(near / 2.0)
    angle = math.degrees(math.atan2((weights * np.sin(angles)).sum(), (weights * np.cos(angles)).sum())) % 360
    return round(angle, 2), round(strength, 1)


def read_time(minute_angle: float, hour_angle: float) -> tuple[int, float]:
    """The time of day (minutes, 0..719) two hand angles show, and how far (in hours) the hour hand is
    from where that time puts it."""
    minutes = minute_angle / 6.0
    hours = hour_angle / 30.0 - minutes / 60.0  # a whole number when the hands agree
    whole = round(hours)
    return round(whole * 60 + minutes) % 720, round(hours - whole, 3)


@lru_cache(maxsize=32)
def _references(minutes: int, mirrored: bool
                ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """The expected final frame, the context for colour fitting (the face outside the hands' reach), the
    parts that must stay (each numeral, and the ticks, rim and wall around them) and the hands' reach
    (left out of the consistency check: the hands are the answer)."""
    expected = draw_clock(minutes, mirrored)
    shape = (CANVAS, CANVAS)
    yy, xx = np.mgrid[:CANVAS, :CANVAS]
    reach = np.hypot(xx - CENTRE[0], yy - CENTRE[1]) <= FACE_INNER * RADIUS
    flip = (lambda m: m[:, ::-1]) if mirrored else (lambda m: m)
    parts = {f"numeral {h}": flip(box_mask(shape, [text_box(_polar(h * 30, NUMERAL_RADIUS * RADIUS), str(h),
                                                            NUMERAL_SIZE, 4)]))
             for h in range(1, 13)}
    numerals = np.logical_or.reduce(list(parts.values()))
    parts["ticks, rim and wall"] = ~reach & ~numerals
    context = context_mask(expected, []) & ~reach
    return np.asarray(expected, np.float64), context, parts, reach


class ClockTask(Task):
    name = "clock"
    version = "1"
    description = "Turn an analogue clock's hands to the time N minutes later (hard: a clock in a mirror)."

    def make(self, seed: int, difficulty: str) -> tuple[int, int, bool]:
        """(start time of day in minutes, minutes to add, mirrored)."""
        check_difficulty(self, difficulty)
        step, choices, mirrored = LEVELS[difficulty]
        rng = task_rng(self.name, seed, difficulty)
        return rng.randrange(0, 720, step), rng.choice(choices), mirrored

    def generate(self, seed: int, difficulty: str) -> Generated:
        start, add, mirrored = self.make(seed, difficulty)
        end = (start + add) % 720
        # the hands sweep forward through the added minutes (in a mirror they turn the other way)
        frames = [draw_clock(start + add * k / SWEEP_FRAMES, mirrored) for k in range(SWEEP_FRAMES + 1)]
        prompt = PROMPT.format(mirror=MIRROR if mirrored else "",
                               n=_duration(add),
                               mirror_set=", as it would be seen in the same mirror" if mirrored else "")
        question = new_question(self, seed, difficulty, prompt=prompt, first=frames[0], final=frames[-1],
                                solution={"time": clock_text(end), "minutes": end},
                                clock={"start": start, "start_time": clock_text(start), "add_minutes": add,
                                       "mirrored": mirrored})
        return Generated(question, solution_video(frames))

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The hands at a plausible wrong time: 5 or 10 minutes off, an hour off, turned backwards, or (in
        a mirror) set as on a clock that is not mirrored; never within the scorer's tolerance."""
        m = question.metadata["clock"]
        start, add, mirrored = m["start"], m["add_minutes"], m["mirrored"]
        end = (start + add) % 720
        options = [end + d for d in (-10, -5, 5, 10, -60, 60)] + [start - add]
        if mirrored:
            options.append(-end)  # the real time's hands drawn straight onto the mirror image
        options = [t % 720 for t in options if _minutes_apart(t % 720, end) > TOLERANCE_MINUTES]
        return draw_clock(task_rng(self.name, seed, f"wrong:{question.id}").choice(options), mirrored)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right time with two numerals of the face swapped."""
        m = question.metadata["clock"]
        numerals = list(range(1, 13))
        a, b = task_rng(self.name, seed, f"inconsistent:{question.id}").sample(range(12), 2)
        numerals[a], numerals[b] = numerals[b], numerals[a]
        return draw_clock((m["start"] + m["add_minutes"]) % 720, m["mirrored"], tuple(numerals))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        m = question.metadata["clock"]
        expected_minutes = question.metadata["solution"]["minutes"]
        reference, context, parts, reach = _references(expected_minutes, m["mirrored"])
        seen = read_against(final_state(video, (CANVAS, CANVAS)).astype(np.float64), reference, context)
        r, g, b = seen[..., 0], seen[..., 1], seen[..., 2]
        minute_angle, minute_strength = read_hand(b - np.maximum(r, g), MINUTE_RING)
        hour_angle, hour_strength = read_hand(r - np.maximum(g, b), HOUR_RING)
        time_read = offset = None
        if minute_angle is not None and hour_angle is not None:
            if m["mirrored"]:  # the angles the hands would have on the real clock
                minute_angle, hour_angle = (360 - minute_angle) % 360, (360 - hour_angle) % 360
            minute_angle, hour_angle = round(minute_angle, 2), round(hour_angle, 2)
            time_read, offset = read_time(minute_angle, hour_angle)
        correct = (time_read is not None and _minutes_apart(time_read, expected_minutes) <= TOLERANCE_MINUTES
                   and abs(offset) <= MAX_HOUR_OFFSET)
        consistent, consistency = verdict(part_differences(seen, reference, parts, reach),
                                          "the twelve numerals, the ticks, the rim and the wall")
        return Score(self.name, self.scorer_version, correct, float(correct),
                     {"time_read": clock_text(time_read) if time_read is not None else None,
                      "expected_time": clock_text(expected_minutes), "start_time": m["start_time"],
                      "unchanged": time_read == m["start"],
                      "minute_angle": minute_angle, "hour_angle": hour_angle,
                      "hand_strengths": {"minute": minute_strength, "hour": hour_strength},
                      "hour_hand_offset": offset, "mirrored": m["mirrored"], "consistency": consistency},
                     consistent=consistent)


def _minutes_apart(a: int, b: int) -> int:
    """Distance between two times of day on a 12-hour dial, in minutes."""
    d = abs(a - b) % 720
    return min(d, 720 - d)


TASK = ClockTask()
