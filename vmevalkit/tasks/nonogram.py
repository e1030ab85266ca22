"""Nonogram: fill the cells of a grid so that every row and column shows its clue.

A clue lists, in order, the lengths of the runs of filled cells in its row (left to right) or
column (top to bottom). Puzzles (5x5 up to 10x10) are random pictures kept only when their clues
have exactly one solution, checked by our own solver (line-by-line deduction, then trying both
values of an open cell, counting solutions up to two). The scorer reads every cell of the final
state as filled or empty (closest of its two looks, after lining the picture up and fitting its
colours) and is correct when the grid is the solution. The clues must stay as drawn."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, CANVAS, Box, Grid, canvas, draw_text, text_box
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import box_states, context_mask, read_against
from vmevalkit.tasks.consistency import box_mask, grown, part_differences, verdict
from vmevalkit.video import Video

Cells = list[list[int]]  # 1 filled, 0 empty (and -1 unknown while solving)
SIZES = {"easy": (5, 5), "medium": (6, 7), "hard": (8, 10)}
FILL_SHARE = (0.5, 0.65)  # share of filled cells in a random picture
FILLED = (35, 35, 45)
LINE, CLUE_INK = (150, 150, 160), (30, 30, 30)
MARGIN = 16
CLUE_STEP = 0.75  # of a cell: the spacing of the numbers in a clue
MAX_CELL = 44  # px
CLUE_PAD = 3  # px around each clue number's glyphs: the part checked for it
PROMPT = ("This is a {n}x{n} nonogram. The numbers to the left of each row and above each column give, "
          "in order, the lengths of the runs of consecutive filled cells in that row (left to right) or "
          "column (top to bottom), with at least one empty cell between runs. Fill in exactly the cells "
          "that satisfy every clue with solid black and leave the other cells white. Keep the clues, the grid "
          "and the camera unchanged, and hold the finished grid.")


def runs(line: list[int]) -> list[int]:
    """The lengths of the runs of filled cells in `line`."""
    out, count = [], 0
    for v in [*line, 0]:
        if v == 1:
            count += 1
        elif count:
            out.append(count)
            count = 0
    return out


def clues(cells: Cells) -> tuple[list[list[int]], list[list[int]]]:
    """(row clues, column clues)."""
    return [runs(row) for row in cells], [runs(list(col)) for col in zip(*cells)]


@lru_cache(maxsize=4096)
def placements(clue: tuple[int, ...], length: int) -> tuple[tuple[int, ...], ...]:
    """Every line of `length` cells whose runs are `clue`."""
    if not clue:
        return ((0,) * length,)
    run, rest = clue[0], clue[1:]
    after = sum(rest) + len(rest)  # the cells the later runs need, each with the gap before it
    lines = []
    for start in range(length - run - after + 1):
        head = (0,) * start + (1,) * run
        if rest:
            lines += [head + (0,) + tail for tail in placements(rest, length - start - run - 1)]
        else:
            lines.append(head + (0,) * (length - start - run))
    return tuple(lines)


def _deduce(line: list[int], clue: tuple[int, ...]) -> list[int] | None:
    """The cells of `line` that every placement agreeing with its known cells shares (None: none agrees)."""
    fits = [p for p in placements(clue, len(line)) if all(k in (-1, v) for k, v in zip(line, p))]
    if not fits:
        return None
    return [fits[0][i] if all(p[i] == fits[0][i] for p in fits) else -1 for i in range(len(line))]


def count_solutions(row_clues: list[list[int]], col_clues: list[list[int]], limit: int = 2) -> int:
    """How many grids (up to `limit`) satisfy the clues: deduce line by line until nothing changes, then
    try both values of the first open cell."""
    n_rows, n_cols = len(row_clues), len(col_clues)

    def search(grid: Cells, limit: int) -> int:
        changed = True
        while changed:
            changed = False
            for along_columns, line_clues in ((False, row_clues), (True, col_clues)):
                for i, clue in enumerate(line_clues):
                    where = ([(r, i) for r in range(n_rows)] if along_columns
                             else [(i, c) for c in range(n_cols)])
                    line = [grid[r][c] for r, c in where]
                    deduced = _deduce(line, tuple(clue))
                    if deduced is None:
                        return 0
                    for (r, c), old, new in zip(where, line, deduced):
                        if old != new:
                            grid[r][c], changed = new, True
        open_cells = [(r, c) for r in range(n_rows) for c in range(n_cols) if grid[r][c] == -1]
        if not open_cells:
            return 1
        r, c = open_cells[0]
        found = 0
        for v in (1, 0):
            trial = [row[:] for row in grid]
            trial[r][c] = v
            found += search(trial, limit - found)
            if found >= limit:
                break
        return found

    return search([[-1] * n_cols for _ in range(n_rows)], limit)


class Layout:
    """Where the grid and the clues of an n x n nonogram go: the clue bands to the left and on top."""

    def __init__(self, n: int):
        self.n = n
        slots = (n + 1) // 2  # the most numbers a clue of n cells can have
        self.cell = min(MAX_CELL, int((CANVAS - 2 * MARGIN) / (n + slots * CLUE_STEP)))
        self.step = CLUE_STEP * self.cell
        self.band = round(slots * self.step) + 4
        side = self.band + n * self.cell
        corner = (CANVAS - side) // 2
        self.grid = Grid(n, n, self.cell, corner + self.band, corner + self.band)
        self.font_size = round(0.68 * self.cell)

    def clue_numbers(self, row_clues: list[list[int]],
                     col_clues: list[list[int]]) -> list[tuple[str, tuple[float, float], int]]:
        """(name, centre, number) of every number written in the clues (an empty line's clue is a 0)."""
        g, out = self.grid, []
        for r, clue in enumerate(row_clues):
            _, y = g.pixel_centre(r, 0)
            numbers = clue or [0]
            out += [(f"row {r + 1} number {len(numbers) - j}", (g.left - 4 - (j + 0.5) * self.step, y),
                     number)
                    for j, number in enumerate(reversed(numbers))]
        for c, clue in enumerate(col_clues):
            x, _ = g.pixel_centre(0, c)
            numbers = clue or [0]
            out += [(f"column {c + 1} number {len(numbers) - j}", (x, g.top - 4 - (j + 0.5) * self.step),
                     number)
                    for j, number in enumerate(reversed(numbers))]
        return out

    def draw(self, row_clues: list[list[int]], col_clues: list[list[int]], cells: Cells,
             erased: str | None = None) -> Image.Image:
        """The clues and the cells; `erased` names a clue number left out (the inconsistent frame)."""
        im = canvas()
        draw = ImageDraw.Draw(im)
        g = self.grid
        for r, c in g.cells():
            if cells[r][c] == 1:
                x0, y0, x1, y1 = g.box(r, c)
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=FILLED)
        g.draw_lines(draw, LINE, 1, thick_every=5, thick_width=3)  # every fifth line thicker
        x0, y0, x1, y1 = g.bounds
        draw.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), outline=BLACK, width=3)
        for name, centre, number in self.clue_numbers(row_clues, col_clues):
            if name != erased:
                draw_text(draw, centre, str(number), self.font_size, CLUE_INK)
        return im


@lru_cache(maxsize=32)
def _references(cells_key: tuple[tuple[int, ...], ...]) -> tuple[Layout, np.ndarray, np.ndarray, np.ndarray,
                                                                 np.ndarray, dict[str, Box], np.ndarray]:
    """The layout, the solved frame, its colour-fitting context (outside the cells), the frames with every
    cell empty and every cell filled, the parts that must stay (every number of the clues) and the grid
    (the answer, grown: left out of the consistency check)."""
    cells = [list(row) for row in cells_key]
    n = len(cells)
    layout = Layout(n)
    row_clues, col_clues = clues(cells)
    solved = layout.draw(row_clues, col_clues, cells)
    empty = layout.draw(row_clues, col_clues, [[0] * n for _ in range(n)])
    full = layout.draw(row_clues, col_clues, [[1] * n for _ in range(n)])
    parts = {name: text_box(centre, str(number), layout.font_size, CLUE_PAD)
             for name, centre, number in layout.clue_numbers(row_clues, col_clues)}
    boxes = [layout.grid.box(r, c) for r, c in layout.grid.cells()]
    return (layout, np.asarray(solved, np.float64), context_mask(solved, boxes),
            np.asarray(empty, np.float64), np.asarray(full, np.float64), parts,
            grown(box_mask((CANVAS, CANVAS), [layout.grid.bounds])))


class NonogramTask(Task):
    name = "nonogram"
    version = "1"
    description = "Fill a nonogram (5x5 up to 10x10, one solution) from its row and column clues."

    def make(self, seed: int, difficulty: str) -> Cells:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        n = rng.randint(*SIZES[difficulty])
        share = rng.uniform(*FILL_SHARE)
        while True:
            cells = [[int(rng.random() < share) for _ in range(n)] for _ in range(n)]
            if any(map(any, cells)) and count_solutions(*clues(cells)) == 1:
                return cells

    def generate(self, seed: int, difficulty: str) -> Generated:
        cells = self.make(seed, difficulty)
        n = len(cells)
        layout = Layout(n)
        row_clues, col_clues = clues(cells)
        frames = [layout.draw(row_clues, col_clues, cells[:k] + [[0] * n] * (n - k)) for k in range(n + 1)]
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(n=n), first=frames[0],
                                final=frames[-1], solution={"cells": cells},
                                nonogram={"size": n, "row_clues": row_clues, "column_clues": col_clues})
        return Generated(question, solution_video(frames))

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The solution with one or two cells flipped (filled left empty, or an empty one filled)."""
        cells = [row[:] for row in question.metadata["solution"]["cells"]]
        rng = task_rng(self.name, seed, f"wrong:{question.id}")
        n = len(cells)
        for r, c in rng.sample([(r, c) for r in range(n) for c in range(n)], rng.randint(1, 2)):
            cells[r][c] = 1 - cells[r][c]
        m = question.metadata["nonogram"]
        return Layout(n).draw(m["row_clues"], m["column_clues"], cells)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The solution with one number of one clue erased."""
        m = question.metadata["nonogram"]
        layout = Layout(m["size"])
        names = [name for name, _, _ in layout.clue_numbers(m["row_clues"], m["column_clues"])]
        erased = task_rng(self.name, seed, f"inconsistent:{question.id}").choice(names)
        return layout.draw(m["row_clues"], m["column_clues"], question.metadata["solution"]["cells"], erased)

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        solution = question.metadata["solution"]["cells"]
        layout, reference, context, empty, full, parts, grid = _references(tuple(map(tuple, solution)))
        seen = read_against(final_state(video, (CANVAS, CANVAS)).astype(np.float64), reference, context)
        boxes = [layout.grid.box(r, c) for r, c in layout.grid.cells()]
        states = box_states(seen, empty, full, boxes)
        n = layout.n
        read = [[int(states[r * n + c]["filled"]) for c in range(n)] for r in range(n)]
        wrong = [[r, c] for r in range(n) for c in range(n) if read[r][c] != solution[r][c]]
        row_clues, col_clues = clues(read)
        m = question.metadata["nonogram"]
        broken = ([f"row {r + 1}" for r in range(n) if row_clues[r] != m["row_clues"][r]]
                  + [f"column {c + 1}" for c in range(n) if col_clues[c] != m["column_clues"][c]])
        correct = not wrong
        consistent, consistency = verdict(part_differences(seen, reference, parts, grid),
                                          "every number of the row and column clues")
        return Score(self.name, self.scorer_version, correct, float(correct),
                     {"cells_read": read, "wrong_cells": wrong, "filled_read": sum(map(sum, read)),
                      "filled_expected": sum(map(sum, solution)), "clues_broken": broken,
                      "consistency": consistency},
                     consistent=consistent)


TASK = NonogramTask()
