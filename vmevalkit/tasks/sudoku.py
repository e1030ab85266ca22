"""Sudoku: fill the empty cells of a 3x3 Latin square, a 4x4 Sudoku or a 9x9 Sudoku.

Puzzles have a unique solution. The scorer reads every cell of the last frames by matching it
against our own rendering of each digit; it accepts any grid that is complete, keeps every
given digit, and breaks no row, column or box rule. Consistency (reported apart): every given
cell and every grid line look in the last frames as in the question (a given rewritten in the
solver's blue, or a line erased, is inconsistent even where the digits still read right)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, WHITE, Grid, canvas, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import GlyphReader, blurred, crop, final_state, luminance
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.consistency import aligned, box_mask, grid_edges, part_differences, verdict
from vmevalkit.video import Video

# difficulty -> (side, box rows, box cols, fewest blanks, most blanks); box 1x3 on 3x3 = a Latin square
LEVELS = {"easy": (3, 1, 3, 4, 5), "medium": (4, 2, 2, 8, 10), "hard": (9, 3, 3, 30, 40)}
ANSWER = (25, 70, 200)  # digits written in by the solver are blue; given digits are black
BLANK_STD = 12.0  # a cell whose blurred luminance varies less than this (grey levels) is empty
Grid2D = list[list[int]]  # 0 = empty


class Board:
    """A puzzle's geometry (side, boxes) and how it is drawn."""

    def __init__(self, side: int, box_rows: int, box_cols: int):
        self.side, self.box_rows, self.box_cols = side, box_rows, box_cols
        self.grid = Grid.centred(side, side)
        self.font_size = round(0.7 * self.grid.cell)
        self.thick = 5 if side > 3 else 3
        self.inset = self.thick // 2 + 2  # keeps grid lines out of the cell crops the scorer reads

    def has_boxes(self) -> bool:
        return self.box_rows > 1

    def units(self) -> list[list[tuple[int, int]]]:
        """Every row, column and (for Sudoku) box: each must hold every digit exactly once."""
        n = self.side
        units = [[(r, c) for c in range(n)] for r in range(n)] + [[(r, c) for r in range(n)] for c in range(n)]
        if self.has_boxes():
            units += [[(r0 + r, c0 + c) for r in range(self.box_rows) for c in range(self.box_cols)]
                      for r0 in range(0, n, self.box_rows) for c0 in range(0, n, self.box_cols)]
        return units

    def draw(self, givens: Grid2D, answers: Grid2D) -> Image.Image:
        im = canvas()
        draw = ImageDraw.Draw(im)
        g = self.grid
        every = self.box_rows if self.has_boxes() else self.side  # boxes are square (2x2, 3x3)
        g.draw_lines(draw, BLACK, 2, thick_every=every, thick_width=self.thick)
        for r, c in g.cells():
            if givens[r][c]:
                draw_text(draw, g.pixel_centre(r, c), str(givens[r][c]), self.font_size, BLACK)
            elif answers[r][c]:
                draw_text(draw, g.pixel_centre(r, c), str(answers[r][c]), self.font_size, ANSWER)
        return im

    def cell_box(self, r: int, c: int):
        return self.grid.box(r, c, inset=self.inset)

    @cached_property
    def reader(self) -> GlyphReader:
        def render(label: str) -> np.ndarray:
            im = Image.new("RGB", (self.grid.cell, self.grid.cell), WHITE)
            draw_text(ImageDraw.Draw(im), (self.grid.cell // 2, self.grid.cell // 2), label, self.font_size, BLACK)
            return crop(np.asarray(im, dtype=np.float32), (self.inset, self.inset, self.grid.cell - self.inset,
                                                           self.grid.cell - self.inset))
        return GlyphReader([str(d) for d in range(1, self.side + 1)], render)

    def read(self, rgb: np.ndarray) -> tuple[Grid2D, list[dict]]:
        """The digit in every cell (0 where empty) and the cells read with little confidence."""
        grid, doubtful = [], []
        for r in range(self.side):
            row = []
            for c in range(self.side):
                patch = crop(rgb, self.cell_box(r, c))
                if blurred(luminance(patch)).std() < BLANK_STD:
                    row.append(0)
                    continue
                match = self.reader.read(patch)
                row.append(int(match.label))
                if match.score < 0.6 or match.margin < 0.03:
                    doubtful.append({"cell": [r, c], "read": int(match.label), "score": match.score,
                                     "margin": match.margin})
            grid.append(row)
        return grid, doubtful


def full_grid(side: int, box_rows: int, box_cols: int, rng) -> Grid2D:
    """A random complete grid: the standard pattern with shuffled bands, rows, stacks, columns, digits."""
    def order(groups: int, size: int) -> list[int]:
        bands = rng.sample(range(groups), groups)
        return [b * size + i for b in bands for i in rng.sample(range(size), size)]
    rows = order(side // box_rows, box_rows)
    cols = order(side // box_cols, box_cols)
    digits = rng.sample(range(1, side + 1), side)
    return [[digits[(box_cols * (r % box_rows) + r // box_rows + c) % side] for c in cols] for r in rows]


def count_solutions(board: Board, grid: Grid2D, limit: int = 2) -> int:
    """Number of completions of `grid` (up to `limit`), by backtracking on the most constrained cell."""
    units = board.units()
    peers = {cell: {p for u in units if cell in u for p in u} - {cell} for cell in board.grid.cells()}
    grid = [row[:] for row in grid]

    def search() -> int:
        best, best_options = None, None
        for r, c in board.grid.cells():
            if not grid[r][c]:
                options = set(range(1, board.side + 1)) - {grid[pr][pc] for pr, pc in peers[(r, c)]}
                if best_options is None or len(options) < len(best_options):
                    best, best_options = (r, c), options
        if best is None:
            return 1
        found = 0
        for d in sorted(best_options):
            grid[best[0]][best[1]] = d
            found += search()
            grid[best[0]][best[1]] = 0
            if found >= limit:
                break
        return found

    return search()


def valid_completion(board: Board, grid: Grid2D) -> tuple[bool, int]:
    """Whether `grid` is complete and breaks no rule, and how many units break a rule."""
    broken = sum(sorted(grid[r][c] for r, c in unit) != list(range(1, board.side + 1)) for unit in board.units())
    return broken == 0, broken


class SudokuTask(Task):
    name = "sudoku"
    version = "1"
    scorer_revision = 1  # 1: consistency is checked
    description = "Fill in a 3x3 Latin square (easy), a 4x4 Sudoku (medium) or a 9x9 Sudoku (hard)."

    def make(self, seed: int, difficulty: str) -> tuple[Board, Grid2D, Grid2D]:
        """The board, the givens (0 = blank) and the unique solution."""
        check_difficulty(self, difficulty)
        side, box_rows, box_cols, fewest, most = LEVELS[difficulty]
        board = Board(side, box_rows, box_cols)
        rng = task_rng(self.name, seed, difficulty)
        target = rng.randint(fewest, most)
        while True:
            solution = full_grid(side, box_rows, box_cols, rng)
            givens = [row[:] for row in solution]
            blanks = 0
            for r, c in rng.sample(board.grid.cells(), side * side):
                givens[r][c] = 0
                if count_solutions(board, givens) == 1:
                    blanks += 1
                    if blanks == target:
                        return board, givens, solution
                else:
                    givens[r][c] = solution[r][c]

    def generate(self, seed: int, difficulty: str) -> Generated:
        board, givens, solution = self.make(seed, difficulty)
        answers = [[0] * board.side for _ in range(board.side)]
        frames = [board.draw(givens, answers)]
        for r, c in board.grid.cells():
            if not givens[r][c]:
                answers[r][c] = solution[r][c]
                frames.append(board.draw(givens, answers))
        kind = "Latin square" if not board.has_boxes() else "Sudoku"
        rules = ("each row and each column" if not board.has_boxes() else
                 f"each row, each column and each {board.box_rows}x{board.box_cols} box")
        prompt = (f"This is a {board.side}x{board.side} {kind} puzzle. Fill every empty cell with a digit from 1 "
                  f"to {board.side} so that {rules} contains every digit exactly once. Keep the given digits "
                  f"unchanged and the camera fixed; end on the completed grid.")
        question = new_question(self, seed, difficulty, prompt=prompt, first=frames[0], final=frames[-1],
                                solution={"grid": solution},
                                sudoku={"side": board.side, "box": [board.box_rows, board.box_cols],
                                        "givens": givens})
        return Generated(question, solution_video(frames))

    @staticmethod
    def board_of(question: Question) -> tuple[Board, Grid2D, Grid2D]:
        m = question.metadata["sudoku"]
        return Board(m["side"], *m["box"]), m["givens"], question.metadata["solution"]["grid"]

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The solution with one filled-in digit replaced by another (which always breaks its row)."""
        board, givens, solution = self.board_of(question)
        rng = task_rng(self.name, seed, "wrong")
        r, c = rng.choice([cell for cell in board.grid.cells() if not givens[cell[0]][cell[1]]])
        answers = [[0 if givens[i][j] else solution[i][j] for j in range(board.side)] for i in range(board.side)]
        answers[r][c] = rng.choice([d for d in range(1, board.side + 1) if d != solution[r][c]])
        return board.draw(givens, answers)

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The solved grid with one given rewritten in the solver's blue, or one grid line segment erased."""
        board, givens, solution = self.board_of(question)
        rng = task_rng(self.name, seed, f"inconsistent:{question.id}")
        answers = [[0 if givens[i][j] else solution[i][j] for j in range(board.side)] for i in range(board.side)]
        if rng.random() < 0.5:
            r, c = rng.choice([cell for cell in board.grid.cells() if givens[cell[0]][cell[1]]])
            givens = [row[:] for row in givens]
            givens[r][c], answers[r][c] = 0, solution[r][c]
            return board.draw(givens, answers)
        image = board.draw(givens, answers)
        x0, y0, x1, y1 = rng.choice(sorted(grid_edges(board.grid, board.thick // 2).values()))
        ImageDraw.Draw(image).rectangle((x0, y0, x1 - 1, y1 - 1), fill=WHITE)
        return image

    @staticmethod
    def consistency(board: Board, givens: Grid2D, question: Question, state: np.ndarray) -> tuple[bool, dict]:
        """Whether every given cell and every grid line segment look as in the question's first frame."""
        reference = np.asarray(question.first_frame, np.float64)
        blanks = [board.cell_box(r, c) for r, c in board.grid.cells() if not givens[r][c]]
        seen = aligned(state, reference, box_mask(reference.shape, blanks))
        parts = {f"line {name}": box for name, box in grid_edges(board.grid, board.thick // 2 + 2).items()}
        parts.update({f"given {r} {c}": board.cell_box(r, c) for r, c in board.grid.cells() if givens[r][c]})
        return verdict(part_differences(seen, reference, parts), "given digits and grid lines")

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        board, givens, solution = self.board_of(question)
        state = final_state(video, question.first_frame.size)
        read, doubtful = board.read(state)
        changed = [[r, c] for r, c in board.grid.cells() if givens[r][c] and read[r][c] != givens[r][c]]
        empty = [[r, c] for r, c in board.grid.cells() if not read[r][c]]
        valid, broken = valid_completion(board, read)
        correct = valid and not changed
        consistent, consistency = self.consistency(board, givens, question, state)
        return Score(scorer=self.name, version=self.scorer_version, correct=correct, score=float(correct),
                     consistent=consistent,
                     details={"grid_read": read, "empty_cells": empty, "givens_changed": changed,
                              "broken_units": broken, "valid_completion": valid,
                              "matches_stored_solution": read == solution, "doubtful_cells": doubtful,
                              "consistency": consistency})


TASK = SudokuTask()
