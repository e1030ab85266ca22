"""Sliding puzzle: slide the numbered tiles of a 3x3 tray back into order.

The tray holds tiles 1..8 and one empty space; solved, the tiles read 1 to 8 row by row with the
space at the bottom right. Questions are scrambled exactly k moves from solved (k is the length
of the shortest solution, by breadth-first search; k grows with the difficulty). The scorer reads
every cell (empty, or a tile whose digit is matched against our own rendering) in every frame where
the tiles are at rest, and is correct when the final state is solved, the first board at rest is
the question's, no board at rest shows a tile twice or loses one, and every change between two
boards at rest is a chain of slides into the empty space that never brings the space back to a cell
it left (each tile moving at most one cell). The tray's frame must stay as drawn."""

from __future__ import annotations

from collections import deque
from functools import cached_property, lru_cache
from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import CANVAS, Box, Grid, canvas, draw_text
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import GlyphReader, blurred, crop, final_state, frames_at, luminance
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import context_mask, drift, match_colours, shifted
from vmevalkit.tasks.consistency import box_mask, part_differences, verdict
from vmevalkit.video import Video

Board = tuple[int, ...]  # 9 cells row by row, 0 = the empty space
SOLVED: Board = (1, 2, 3, 4, 5, 6, 7, 8, 0)
SIDE = 3
MOVES = {"easy": (3, 5), "medium": (6, 10), "hard": (11, 16)}  # length of the shortest solution
BACKGROUND = (236, 238, 242)
TRAY, FRAME = (70, 62, 58), (150, 110, 70)
TILE, TILE_EDGE, INK = (238, 212, 160), (120, 90, 50), (45, 35, 30)
GRID = Grid.centred(SIDE, SIDE, margin=48)
FRAME_WIDTH = 18  # px of the tray's frame around the cells
TILE_INSET = 4  # px between a tile and its cell's edge
READ_INSET = 20  # px cut off a cell's edges before reading it: the digit and the tile around it
FONT_SIZE = 60
EMPTY_STD = 10.0  # a cell whose blurred luminance varies less than this (grey levels) is empty
SURE_SCORE, SURE_MARGIN = 0.8, 0.05  # a tile is read with confidence above these (in every cell: at rest)
SLIDE_FRAMES = 3
PROMPT = ("This is a sliding puzzle: eight numbered tiles and one empty space in a 3x3 tray. Slide "
          "the tiles one at a time into the empty space, never lifting them out of the tray, until the tiles "
          "read 1 to 8 in order, row by row from the top left, with the empty space at the bottom right. It "
          "can be solved in {k} moves. Keep the tray and the camera unchanged, and stop when it is solved.")


def neighbours(cell: int) -> list[int]:
    r, c = divmod(cell, SIDE)
    return [nr * SIDE + nc for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
            if 0 <= nr < SIDE and 0 <= nc < SIDE]


def slide(board: Board, cell: int) -> Board:
    """The board after the tile at `cell` (next to the empty space) slides into it."""
    out = list(board)
    blank = board.index(0)
    out[blank], out[cell] = board[cell], 0
    return tuple(out)


@lru_cache(maxsize=1)
def depths(limit: int = max(high for _, high in MOVES.values())) -> dict[Board, int]:
    """Shortest solution length of every board at most `limit` moves from solved (breadth-first)."""
    depth, queue = {SOLVED: 0}, deque([SOLVED])
    while queue:
        board = queue.popleft()
        if depth[board] == limit:
            continue
        for cell in neighbours(board.index(0)):
            nxt = slide(board, cell)
            if nxt not in depth:
                depth[nxt] = depth[board] + 1
                queue.append(nxt)
    return depth


def solution_path(board: Board) -> list[Board]:
    """A shortest path to solved: each step to the first board (in cell order) one move nearer."""
    depth, path = depths(), [board]
    while path[-1] != SOLVED:
        here = path[-1]
        path.append(next(slide(here, c) for c in sorted(neighbours(here.index(0)))
                         if depth.get(slide(here, c)) == depth[here] - 1))
    return path


def slide_chain(a: Board, b: Board) -> list[int] | None:
    """The cells the empty space passed through to turn `a` into `b` by a chain of slides along which it
    never comes back to a cell (so every tile moves at most one cell), or None when no such chain gives
    `b`: a tile jumped, moved diagonally, two tiles swapped, or the space went round in a loop."""
    path, board, seen = [a.index(0)], a, {a.index(0)}
    while board != b:
        here = path[-1]
        incoming = [c for c in neighbours(here) if c not in seen and board[c] == b[here] and b[here] != 0]
        if len(incoming) != 1:
            return None
        board = slide(board, incoming[0])
        path.append(incoming[0])
        seen.add(incoming[0])
    return path


class Tray:
    """How a board is drawn and read back."""

    grid = GRID

    def cell_box(self, cell: int, inset: int = 0) -> tuple[int, int, int, int]:
        return self.grid.box(*divmod(cell, SIDE), inset=inset)

    def empty_tray(self, broken_side: int | None = None) -> Image.Image:
        """The tray without tiles; `broken_side` (0 top, 1 right, 2 bottom, 3 left) paints a stretch of
        that side of the frame away (the inconsistent frame)."""
        im = canvas(BACKGROUND)
        draw = ImageDraw.Draw(im)
        x0, y0, x1, y1 = self.grid.bounds
        f = FRAME_WIDTH
        draw.rounded_rectangle((x0 - f, y0 - f, x1 + f - 1, y1 + f - 1), radius=10, fill=FRAME)
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=TRAY)
        if broken_side is not None:
            mx, my = (x0 + x1) // 2, (y0 + y1) // 2
            gaps = [(mx - 40, y0 - f, mx + 40, y0 - 1), (x1, my - 40, x1 + f - 1, my + 40),
                    (mx - 40, y1, mx + 40, y1 + f - 1), (x0 - f, my - 40, x0 - 1, my + 40)]
            draw.rectangle(gaps[broken_side], fill=BACKGROUND)
        return im

    def draw_tile(self, draw: ImageDraw.ImageDraw, tile: int, x: float, y: float) -> None:
        """Tile `tile` with its top-left corner at (x, y)."""
        x, y, s = round(x), round(y), self.grid.cell
        a, b = TILE_INSET, s - TILE_INSET - 1
        draw.rounded_rectangle((x + a, y + a, x + b, y + b), radius=8, fill=TILE, outline=TILE_EDGE, width=3)
        draw_text(draw, (x + s // 2, y + s // 2), str(tile), FONT_SIZE, INK)

    def draw(self, board: Board, moving: tuple[int, float, float] | None = None,
             base: Image.Image | None = None) -> Image.Image:
        """`board`'s tiles in their cells, and optionally a tile (number, x, y) between cells."""
        im = (base if base is not None else self.empty_tray()).copy()
        draw = ImageDraw.Draw(im)
        for cell, tile in enumerate(board):
            if tile:
                x0, y0, _, _ = self.cell_box(cell)
                self.draw_tile(draw, tile, x0, y0)
        if moving is not None:
            self.draw_tile(draw, *moving)
        return im

    @cached_property
    def reader(self) -> GlyphReader:
        def render(label: str) -> np.ndarray:
            s = self.grid.cell
            im = Image.new("RGB", (s, s), TRAY)
            self.draw_tile(ImageDraw.Draw(im), int(label), 0, 0)
            return crop(np.asarray(im, np.float32), (READ_INSET, READ_INSET, s - READ_INSET, s - READ_INSET))
        return GlyphReader([str(t) for t in range(1, 9)], render)

    def read(self, rgb: np.ndarray) -> tuple[Board, list[dict]]:
        """The tile in every cell (0 where empty) and the cells read without confidence."""
        board, doubtful = [], []
        for cell in range(SIDE * SIDE):
            patch = crop(rgb, self.cell_box(cell, inset=READ_INSET))
            if blurred(luminance(patch)).std() < EMPTY_STD:
                board.append(0)
                continue
            match = self.reader.read(patch)
            board.append(int(match.label))
            if match.score < SURE_SCORE or match.margin < SURE_MARGIN:
                doubtful.append({"cell": cell, "read": int(match.label), "score": match.score,
                                 "margin": match.margin})
        return tuple(board), doubtful


TRAY_VIEW = Tray()


def slide_frames(path: list[Board]) -> list[Image.Image]:
    """Every board of `path`, each slide shown in SLIDE_FRAMES steps."""
    base = TRAY_VIEW.empty_tray()
    frames = [TRAY_VIEW.draw(path[0], base=base)]
    for a, b in pairwise(path):
        cell, blank = b.index(0), a.index(0)  # the tile at `cell` slides into `blank`
        (x0, y0, _, _), (x1, y1, _, _) = TRAY_VIEW.cell_box(cell), TRAY_VIEW.cell_box(blank)
        rest = tuple(0 if i == cell else t for i, t in enumerate(a))
        for k in range(1, SLIDE_FRAMES):
            t = k / SLIDE_FRAMES
            frames.append(TRAY_VIEW.draw(rest, (a[cell], x0 + (x1 - x0) * t, y0 + (y1 - y0) * t), base=base))
        frames.append(TRAY_VIEW.draw(b, base=base))
    return frames


def boards_at_rest(frames: np.ndarray, shift: tuple[int, int]) -> list[tuple[int, Board]]:
    """(frame, board) for every frame, moved by `shift`, in which every cell reads with confidence and the
    board differs from the one at rest before."""
    at_rest, previous, unsure = [], None, None
    for i, frame in enumerate(frames):
        if previous is None or not np.array_equal(frame, previous):  # a held frame reads as before
            board, unsure = TRAY_VIEW.read(shifted(frame, shift))
        previous = frame
        if not unsure and (not at_rest or board != at_rest[-1][1]):
            at_rest.append((i, board))
    return at_rest


def process_faults(at_rest: list[tuple[int, Board]]) -> tuple[list[dict], list[dict], int]:
    """The boards at rest that lack or repeat a tile, the changes between whole boards at rest that are
    no chain of slides, and the number of slides the other changes add up to."""
    broken = [{"frame": i, "board": list(b), "missing": [t for t in range(1, 9) if t not in b],
               "repeated": sorted({t for t in b if t and b.count(t) > 1})}
              for i, b in at_rest if sorted(b) != list(range(9))]
    whole = [(i, b) for i, b in at_rest if sorted(b) == list(range(9))]
    illegal, moves = [], 0
    for (_, a), (j, b) in pairwise(whole):
        chain = slide_chain(a, b)
        if chain is None:
            illegal.append({"frame": j, "from": list(a), "to": list(b)})
        else:
            moves += len(chain) - 1
    return broken, illegal, moves


@lru_cache(maxsize=1)
def _references() -> tuple[np.ndarray, np.ndarray, dict[str, Box], np.ndarray]:
    """The solved frame, its colour-fitting context (outside the cells), the parts that must stay (each
    side of the tray's frame) and the cells (where the tiles move: left out of the consistency check)."""
    solved = TRAY_VIEW.draw(SOLVED)
    x0, y0, x1, y1 = GRID.bounds
    f, pad = FRAME_WIDTH, 6
    parts = {"frame top": (x0 - f - pad, y0 - f - pad, x1 + f + pad, y0 - 2),
             "frame bottom": (x0 - f - pad, y1 + 2, x1 + f + pad, y1 + f + pad),
             "frame left": (x0 - f - pad, y0, x0 - 2, y1), "frame right": (x1 + 2, y0, x1 + f + pad, y1)}
    cells = [TRAY_VIEW.cell_box(c) for c in range(SIDE * SIDE)]
    return (np.asarray(solved, np.float64), context_mask(solved, cells), parts,
            box_mask((CANVAS, CANVAS), cells))


class SlidingTask(Task):
    name = "sliding"
    version = "1"
    description = "Solve a 3x3 sliding tile puzzle scrambled k moves from solved (k by difficulty)."

    def make(self, seed: int, difficulty: str) -> Board:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        k = rng.randint(*MOVES[difficulty])
        boards = sorted(b for b, d in depths().items() if d == k)
        return boards[rng.randrange(len(boards))]

    def generate(self, seed: int, difficulty: str) -> Generated:
        board = self.make(seed, difficulty)
        path = solution_path(board)
        frames = slide_frames(path)
        moves = [a[b.index(0)] for a, b in pairwise(path)]  # the tile that slides at each move
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(k=len(moves)), first=frames[0],
                                final=frames[-1], solution={"board": list(SOLVED), "moves": len(moves),
                                                            "tiles_moved": moves},
                                sliding={"board": list(board)})
        return Generated(question, solution_video(frames))

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """A board one or two slides short of solved, or solved but for two tiles swapped."""
        rng = task_rng(self.name, seed, f"wrong:{question.id}")
        near = sorted(b for b, d in depths().items() if d in (1, 2))
        a, b = sorted(rng.sample(range(8), 2))
        swapped = SOLVED[:a] + (SOLVED[b],) + SOLVED[a + 1:b] + (SOLVED[a],) + SOLVED[b + 1:]
        return TRAY_VIEW.draw(swapped if rng.random() < 0.2 else near[rng.randrange(len(near))])

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The solved board with a stretch of one side of the tray's frame missing."""
        side = task_rng(self.name, seed, f"inconsistent:{question.id}").randrange(4)
        return TRAY_VIEW.draw(SOLVED, base=TRAY_VIEW.empty_tray(broken_side=side))

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        start = tuple(question.metadata["sliding"]["board"])
        reference, context, parts, cells = _references()
        size = (CANVAS, CANVAS)
        last = final_state(video, size).astype(np.float64)
        shift = drift(last, reference)  # every frame is read where the final state's picture lies
        seen = match_colours(shifted(last, shift), reference, context)
        final, doubtful = TRAY_VIEW.read(seen)
        at_rest = boards_at_rest(frames_at(video, size), shift)
        broken, illegal, moves = process_faults(at_rest)
        started = bool(at_rest) and at_rest[0][1] == start
        solved = final == SOLVED
        correct = solved and started and not broken and not illegal
        consistent, consistency = verdict(part_differences(seen, reference, parts, cells),
                                          "the four sides of the tray's frame")
        return Score(self.name, self.scorer_version, correct, float(correct),
                     {"board_read": list(final), "solved": solved, "start_board": list(start),
                      "started_at_start": started, "unchanged": final == start,
                      "boards_at_rest": len(at_rest), "missing_or_repeated": broken,
                      "illegal_changes": illegal,
                      "moves_read": moves, "shortest_solution": question.metadata["solution"]["moves"],
                      "doubtful_cells": doubtful, "consistency": consistency},
                     consistent=consistent)


TASK = SlidingTask()
