"""Letter counting: write how many times a letter occurs in a word or phrase (or, at hard, the edit
distance between two words) as a digit in an answer box.

The picture shows the word or phrase (two words, one above the other, at hard) and an empty box
below. The scorer reads the box of the last frames: empty when its blurred luminance hardly
varies, else the best of our own renderings of the digits 0-9 by normalised cross-correlation of
blurred luminance over small shifts (the glyph matcher Sudoku reads its digits with), so ink colour
and contrast do not matter. Correct = the digit read is the answer. Whether the text stayed as it
was is the consistency check."""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, canvas, draw_text, font
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import GlyphReader, blurred, crop, final_state, luminance
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import Box, register
from vmevalkit.tasks.consistency import aligned, part_differences, shared_parts, verdict
from vmevalkit.video import Video

WORDS = (  # common English words, 4-8 letters, many a few edits apart
    "apple", "arrow", "balloon", "banana", "banner", "basket", "blanket", "borrow", "bottle", "brick",
    "bright", "bubble", "butter", "button", "cable", "candle", "carrot", "cherry", "chicken", "cocoon",
    "coffee", "cool", "corner", "course", "danger", "deep", "dinner", "earth", "eight", "eleven", "fable",
    "fight", "flight", "forty", "garden", "green", "hammer", "handle", "happy", "header", "heart", "heater",
    "height", "hippo", "horse", "house", "jacket", "keep", "kitchen", "kitten", "later", "leader", "letter",
    "light", "little", "liver", "manger", "manner", "market", "middle", "might", "mirror", "mitten", "moon",
    "mouse", "narrow", "night", "noon", "north", "orange", "paddle", "paper", "parrot", "pencil", "pepper",
    "pillow", "planet", "plant", "pocket", "pool", "poppy", "puppy", "puzzle", "queen", "rabbit", "ranger",
    "reader", "right", "river", "rocket", "sable", "saddle", "sandal", "school", "screen", "seven", "sheet",
    "sight", "silver", "sinner", "sleep", "smart", "socket", "soon", "source", "south", "sponge", "spool",
    "spoon", "stable", "start", "steep", "stencil", "stick", "stone", "stool", "store", "storm", "story",
    "strange", "stranger", "street", "summer", "sweet", "table", "tablet", "teacher", "theater", "thicken",
    "thinner", "thirty", "tomorrow", "tool", "trick", "twelve", "waiter", "water", "weight", "window",
    "winner", "winter", "yellow",
)
ANSWER = (25, 70, 200)  # the digit written in the box
TEXT_SIZE = {"easy": 48, "medium": 36, "hard": 44}
TEXT_Y = (118,)  # centre heights of the text lines (two words at hard)
PAIR_Y = (92, 156)
BOX: Box = (144, 228, 240, 324)
BOX_OUTLINE = 4
INSET = BOX_OUTLINE + 3  # px of the box's inside left out when it is read
DIGIT_SIZE = 64
BLANK_STD = 12.0  # a box whose blurred luminance varies less than this (grey levels) is empty
MIN_MATCH = 0.5  # a best match below this is no digit at all
DOUBTFUL = (0.6, 0.03)  # a read below this score or margin is flagged for a human look
MAX_SHIFT = 4  # px the written digit may sit off the box's centre
PHRASE_LETTERS = 16  # at most this many letters in a medium phrase
EDIT_DISTANCES = (2, 3, 4)
END = " Keep everything else unchanged and the camera fixed, and hold the result at the end."
COUNT_PROMPT = ('The picture shows the {what} "{text}". Count how many times the letter "{letter}" occurs in '
                'it and write that number as one digit in the empty box below.' + END)
EDIT_PROMPT = ('The picture shows two words, "{a}" above "{b}". Their edit distance is the fewest single-'
               'letter insertions, deletions or substitutions that turn the upper word into the lower one. '
               'Write that number as one digit in the empty box below.' + END)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@cache
def word_pairs() -> dict[int, list[tuple[str, str]]]:
    """Every pair of different words from WORDS by their edit distance, for the distances used."""
    pairs: dict[int, list[tuple[str, str]]] = {d: [] for d in EDIT_DISTANCES}
    for i, a in enumerate(WORDS):
        for b in WORDS[i + 1:]:
            d = edit_distance(a, b)
            if d in pairs:
                pairs[d].append((a, b))
    return pairs


def make(rng, difficulty: str) -> dict:
    """The lines of text shown, the answer, and what was asked (`letter`, or the edit distance)."""
    if difficulty == "hard":
        pair = list(rng.choice(word_pairs()[rng.choice(EDIT_DISTANCES)]))
        rng.shuffle(pair)
        return {"lines": pair, "answer": edit_distance(*pair), "asked": "edit_distance"}
    while True:
        if difficulty == "easy":
            text, low, high = rng.choice(WORDS), 1, 3
        else:
            text, low, high = " ".join(rng.sample(WORDS, rng.choice((2, 3)))), 2, 6
        counts = {c: text.count(c) for c in sorted(set(text) - {" "})}
        letters = [c for c, k in counts.items() if low <= k <= high]
        if letters and (difficulty == "easy" or len(text.replace(" ", "")) <= PHRASE_LETTERS):
            letter = rng.choice(letters)
            return {"lines": [text], "answer": counts[letter], "asked": letter}


def draw_card(lines: list[str], size: int, digit: str | None = None) -> Image.Image:
    """The text, one line each, and the answer box (with `digit` written in it)."""
    im = canvas()
    draw = ImageDraw.Draw(im)
    for text, y in zip(lines, TEXT_Y if len(lines) == 1 else PAIR_Y):
        draw_text(draw, (CANVAS // 2, y), text, size, BLACK)
    draw.rectangle(BOX, outline=BLACK, width=BOX_OUTLINE)
    if digit is not None:
        draw_text(draw, _box_centre(), digit, DIGIT_SIZE, ANSWER)
    return im


def _box_centre() -> tuple[int, int]:
    return (BOX[0] + BOX[2]) // 2, (BOX[1] + BOX[3]) // 2


def _inside() -> Box:
    return BOX[0] + INSET, BOX[1] + INSET, BOX[2] - INSET, BOX[3] - INSET


def text_box(lines: list[str], size: int) -> Box:
    """Where the text lies (with a few px around it)."""
    ys = TEXT_Y if len(lines) == 1 else PAIR_Y
    boxes = [ImageDraw.Draw(canvas()).textbbox((CANVAS // 2, y), t, font=font(size), anchor="mm")
             for t, y in zip(lines, ys)]
    return (min(b[0] for b in boxes) - 3, min(b[1] for b in boxes) - 3, max(b[2] for b in boxes) + 3,
            max(b[3] for b in boxes) + 3)


@cache
def reader() -> GlyphReader:
    def render(label: str) -> np.ndarray:
        return crop(np.asarray(draw_card([], 1, label), np.float32), _inside())
    return GlyphReader([str(d) for d in range(10)], render, max_shift=MAX_SHIFT)


@lru_cache(maxsize=32)
def _references(lines: tuple[str, ...], size: int, answer: int) -> tuple:
    """The expected frame, the parts that must stay (the text, the picture) and the mask the check
    ignores (the answer box)."""
    expected = np.asarray(draw_card(list(lines), size, str(answer)), np.float64)
    parts, ignore = shared_parts(np.asarray(draw_card(list(lines), size)), expected, [BOX])
    return expected, {"text": text_box(list(lines), size), **parts}, ignore


class LetterCountTask(Task):
    name = "letter_count"
    version = "1"
    description = "Write how often a letter occurs in a word or phrase (hard: the edit distance of two words)."

    def generate(self, seed: int, difficulty: str) -> Generated:
        check_difficulty(self, difficulty)
        asked = make(task_rng(self.name, seed, difficulty), difficulty)
        lines, answer, size = asked["lines"], asked["answer"], TEXT_SIZE[difficulty]
        if asked["asked"] == "edit_distance":
            prompt = EDIT_PROMPT.format(a=lines[0], b=lines[1])
        else:
            prompt = COUNT_PROMPT.format(what="word" if difficulty == "easy" else "phrase", text=lines[0],
                                         letter=asked["asked"])
        first = draw_card(lines, size)
        written = Image.blend(first, draw_card(lines, size, str(answer)), 0.5)
        final = draw_card(lines, size, str(answer))
        question = new_question(self, seed, difficulty, prompt=prompt, first=first, final=final,
                                solution={"answer": answer}, text={"lines": lines, "size": size,
                                                                   "asked": asked["asked"]})
        return Generated(question, solution_video([first, written, written, final]))

    def read_box(self, seen: np.ndarray) -> dict:
        """What is written in the answer box: `digit` (None when empty or unreadable), score, margin."""
        patch = crop(seen, _inside())
        if blurred(luminance(patch)).std() < BLANK_STD:
            return {"digit": None, "empty": True}
        match = reader().read(patch)
        digit = int(match.label) if match.score >= MIN_MATCH else None
        return {"digit": digit, "empty": False, "best_match": match.label, "score": match.score,
                "margin": match.margin, "doubtful": match.score < DOUBTFUL[0] or match.margin < DOUBTFUL[1]}

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        text, answer = question.metadata["text"], question.metadata["solution"]["answer"]
        expected, parts, ignore = _references(tuple(text["lines"]), text["size"], answer)
        observed = register(final_state(video, (CANVAS, CANVAS)).astype(np.float64), expected)
        box = self.read_box(observed)
        correct = box["digit"] == answer
        seen = aligned(observed, expected, ignore, drift=False)  # lined up above
        consistent, consistency = verdict(part_differences(seen, expected, parts, ignore), "the text")
        return Score(self.name, self.scorer_version, correct, 1.0 if correct else 0.0,
                     {"read": box["digit"], "expected": answer, "box": box, "consistency": consistency},
                     consistent=consistent)

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The box holding the answer plus or minus one."""
        text, answer = question.metadata["text"], question.metadata["solution"]["answer"]
        wrong = task_rng(self.name, seed, f"wrong:{question.id}").choice(
            [d for d in (answer - 1, answer + 1) if 0 <= d <= 9])
        return draw_card(text["lines"], text["size"], str(wrong))

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The right digit in the box, and one letter of the text (not the counted one) replaced by another."""
        text, answer = question.metadata["text"], question.metadata["solution"]["answer"]
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        lines = list(text["lines"])
        row = rng.randrange(len(lines))
        keep = {text["asked"], " "}
        i = rng.choice([k for k, c in enumerate(lines[row]) if c not in keep])
        swap = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c not in keep | {lines[row][i]}])
        lines[row] = lines[row][:i] + swap + lines[row][i + 1:]
        return draw_card(lines, text["size"], str(answer))


TASK = LetterCountTask()
