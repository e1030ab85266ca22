"""Maze: walk the red dot along the corridors of a grid maze to the green flag.

Mazes are perfect (one path between any two cells), made by a randomised depth-first search.
The scorer reads the dot's cell from the last frames, and from every frame the cells the dot
passed through: a move between two frames is legal when the corridor route between the two
cells is no longer than their grid distance (so a fast model may skip cells along a corridor,
but never pass through a wall). The answer is correct only if the dot ends on the flag's cell
AND no move was illegal. Consistency (reported apart): every wall segment and every open passage
(each cell edge) and the flag look in the last frames as in the question, wherever the dot is not."""

from __future__ import annotations

from collections import deque
from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw

from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.tasks._draw import BLACK, Grid, canvas, draw_disc
from vmevalkit.tasks._question import check_difficulty, foreign_question, new_question, task_rng
from vmevalkit.tasks._read import final_state, frames_at, red_mask
from vmevalkit.tasks._video import solution_video
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.tasks.candidates import MAX_DRIFT
from vmevalkit.tasks.consistency import IGNORE_MARGIN, aligned, grid_edges, grown, part_differences, verdict
from vmevalkit.video import Video

Cell = tuple[int, int]
SIZES = {"easy": (3, 4), "medium": (5, 6), "hard": (7, 9)}  # maze side length range per difficulty
AGENT = (220, 30, 30)
FLAG = (30, 160, 60)
AGENT_RADIUS = 0.28  # of a cell
MIN_AGENT_AREA = 0.3  # share of the dot's area that must read red for the dot to count as seen
FRAMES_PER_STEP = 2
PROMPT = ("This is a {n}x{n} maze seen from above. The red dot is the agent and the green flag marks the "
          "goal. Move the red dot through the white corridors to the green flag, one cell at a time, "
          "never crossing the black walls. Keep the camera fixed and the maze unchanged, and stop when "
          "the dot is on the flag.")


def carve(n: int, rng) -> set[frozenset[Cell]]:
    """A perfect n x n maze as the set of open passages between neighbouring cells."""
    start = (rng.randrange(n), rng.randrange(n))
    seen, stack, passages = {start}, [start], set()
    while stack:
        r, c = stack[-1]
        options = [(r + dr, c + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                   if 0 <= r + dr < n and 0 <= c + dc < n and (r + dr, c + dc) not in seen]
        if not options:
            stack.pop()
            continue
        nxt = options[rng.randrange(len(options))]
        passages.add(frozenset((stack[-1], nxt)))
        seen.add(nxt)
        stack.append(nxt)
    return passages


def corridor_distances(n: int, passages: set[frozenset[Cell]], source: Cell) -> dict[Cell, int]:
    """Shortest corridor distance (in steps) from `source` to every cell."""
    dist, queue = {source: 0}, deque([source])
    while queue:
        r, c = queue.popleft()
        for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nb not in dist and frozenset(((r, c), nb)) in passages:
                dist[nb] = dist[(r, c)] + 1
                queue.append(nb)
    return dist


def solve(n: int, passages: set[frozenset[Cell]], start: Cell, goal: Cell) -> list[Cell]:
    dist = corridor_distances(n, passages, goal)
    path = [start]
    while path[-1] != goal:
        r, c = path[-1]
        path.append(min(((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)),
                        key=lambda nb: dist.get(nb, 1 << 30) if frozenset(((r, c), nb)) in passages else 1 << 30))
    return path


class Maze:
    """One maze and its layout on the canvas."""

    def __init__(self, n: int, passages: set[frozenset[Cell]], start: Cell, goal: Cell):
        self.n, self.passages, self.start, self.goal = n, passages, start, goal
        self.grid = Grid.centred(n, n)
        self.wall = max(3, self.grid.cell // 10)

    @classmethod
    def from_metadata(cls, m: dict) -> Maze:
        passages = {frozenset(((a, b), (c, d))) for a, b, c, d in m["passages"]}
        return cls(m["size"], passages, tuple(m["start"]), tuple(m["goal"]))

    def to_metadata(self) -> dict:
        return {"size": self.n, "start": list(self.start), "goal": list(self.goal),
                "passages": sorted([*a, *b] for a, b in map(sorted, self.passages))}

    def board(self) -> Image.Image:
        """The maze and the flag, without the agent."""
        im = canvas()
        draw = ImageDraw.Draw(im)
        g, w = self.grid, self.wall
        x0, y0, x1, y1 = g.bounds
        draw.rectangle((x0 - w // 2, y0 - w // 2, x1 + w // 2, y1 + w // 2), outline=BLACK, width=w)
        for r, c in g.cells():
            for nb, line in (((r, c + 1), ((x0 + (c + 1) * g.cell, y0 + r * g.cell), (0, g.cell))),
                             ((r + 1, c), ((x0 + c * g.cell, y0 + (r + 1) * g.cell), (g.cell, 0)))):
                if nb[0] < self.n and nb[1] < self.n and frozenset(((r, c), nb)) not in self.passages:
                    (x, y), (dx, dy) = line
                    draw.rectangle((x - w // 2, y - w // 2, x + dx + w // 2, y + dy + w // 2), fill=BLACK)
        self._draw_flag(draw)
        return im

    def _draw_flag(self, draw: ImageDraw.ImageDraw) -> None:
        bx0, by0, bx1, by1 = self.grid.box(*self.goal)
        s = self.grid.cell
        pole_x = bx0 + round(0.3 * s)
        draw.rectangle((pole_x, by0 + round(0.15 * s), pole_x + max(1, s // 20), by1 - round(0.15 * s)), fill=BLACK)
        draw.polygon([(pole_x, by0 + 0.15 * s), (bx1 - 0.15 * s, by0 + 0.3 * s), (pole_x, by0 + 0.45 * s)], fill=FLAG)

    def frame(self, board: Image.Image, position: tuple[float, float]) -> Image.Image:
        """`board` with the agent at (row, col), possibly between cells."""
        im = board.copy()
        draw_disc(ImageDraw.Draw(im), self.grid.centre(*position), AGENT_RADIUS * self.grid.cell, AGENT)
        return im

    def legal_move(self, a: Cell, b: Cell, distances: dict[Cell, dict[Cell, int]]) -> bool:
        return distances[a][b] == abs(a[0] - b[0]) + abs(a[1] - b[1])


class MazeTask(Task):
    name = "maze"
    version = "1"
    scorer_revision = 2  # 1: the path must begin on the start cell; 2: consistency is checked
    description = "Walk a red dot through a grid maze (3x3 up to 9x9) to a green flag without crossing walls."

    def make(self, seed: int, difficulty: str) -> Maze:
        check_difficulty(self, difficulty)
        rng = task_rng(self.name, seed, difficulty)
        n = rng.randint(*SIZES[difficulty])
        passages = carve(n, rng)
        start = (rng.randrange(n), rng.randrange(n))
        dist = corridor_distances(n, passages, start)
        far = max(dist.values())
        goals = sorted(cell for cell, d in dist.items() if d >= max(1, round(0.6 * far)))
        return Maze(n, passages, start, goals[rng.randrange(len(goals))])

    def generate(self, seed: int, difficulty: str) -> Generated:
        maze = self.make(seed, difficulty)
        path = solve(maze.n, maze.passages, maze.start, maze.goal)
        board = maze.board()
        positions = [path[0]]
        for a, b in pairwise(path):
            positions += [(a[0] + (b[0] - a[0]) * k / FRAMES_PER_STEP, a[1] + (b[1] - a[1]) * k / FRAMES_PER_STEP)
                          for k in range(1, FRAMES_PER_STEP + 1)]
        frames = [maze.frame(board, p) for p in positions]
        question = new_question(self, seed, difficulty, prompt=PROMPT.format(n=maze.n), first=frames[0],
                                final=frames[-1], solution={"path": [list(c) for c in path]},
                                maze=maze.to_metadata())
        return Generated(question, solution_video(frames))

    def wrong_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The agent on a cell next to the goal (grid neighbour, through a wall or not)."""
        maze = Maze.from_metadata(question.metadata["maze"])
        r, c = maze.goal
        near = [(r + dr, c + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                if 0 <= r + dr < maze.n and 0 <= c + dc < maze.n]
        return maze.frame(maze.board(), near[task_rng(self.name, seed, "wrong").randrange(len(near))])

    def inconsistent_final_frame(self, question: Question, seed: int) -> Image.Image:
        """The dot on the flag, with one inner wall segment erased (as if the maze had a passage there)."""
        maze = Maze.from_metadata(question.metadata["maze"])
        walls = sorted(((r, c), nb) for r, c in maze.grid.cells() for nb in ((r, c + 1), (r + 1, c))
                       if nb[0] < maze.n and nb[1] < maze.n and frozenset(((r, c), nb)) not in maze.passages)
        erased = task_rng(self.name, seed, f"inconsistent:{question.id}").choice(walls)
        opened = Maze(maze.n, maze.passages | {frozenset(erased)}, maze.start, maze.goal)
        return opened.frame(opened.board(), maze.goal)

    def consistency(self, maze: Maze, state: np.ndarray) -> tuple[bool, dict]:
        """Whether every cell edge (wall or passage) and the flag look as drawn, outside the dot."""
        reference = np.asarray(maze.board(), np.float64)
        seen = aligned(state, reference, grown(red_mask(state), MAX_DRIFT + IGNORE_MARGIN))
        parts = grid_edges(maze.grid, maze.wall // 2 + 2)
        parts["flag"] = maze.grid.box(*maze.goal, inset=maze.wall // 2 + 2)
        return verdict(part_differences(seen, reference, parts, grown(red_mask(seen))), "walls and flag")

    def agent_cells(self, maze: Maze, frames: np.ndarray) -> list[Cell | None]:
        """The agent's cell in each frame (None where no dot is seen or it is outside the grid)."""
        min_area = MIN_AGENT_AREA * np.pi * (AGENT_RADIUS * maze.grid.cell) ** 2
        cells = []
        for frame in frames:
            ys, xs = np.nonzero(red_mask(frame))
            cells.append(maze.grid.cell_at(xs.mean(), ys.mean()) if len(xs) >= min_area else None)
        return cells

    def score(self, question: Question, video: Video) -> Score:
        if (problem := foreign_question(self, question)) is not None:
            return problem
        maze = Maze.from_metadata(question.metadata["maze"])
        size = question.first_frame.size
        state = final_state(video, size)
        final = self.agent_cells(maze, state[None])[0]
        seen = [(i, c) for i, c in enumerate(self.agent_cells(maze, frames_at(video, size))) if c is not None]
        distances = {cell: corridor_distances(maze.n, maze.passages, cell) for cell in maze.grid.cells()}
        wall_crossings, jumps = [], []
        for (_, a), (j, b) in pairwise(seen):
            if a != b and not maze.legal_move(a, b, distances):
                adjacent = abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
                (wall_crossings if adjacent else jumps).append({"frame": j, "from": list(a), "to": list(b)})
        path: list[Cell] = []
        for _, cell in seen:
            if not path or path[-1] != cell:
                path.append(cell)
        reached = final == maze.goal
        legal = not wall_crossings and not jumps
        started = bool(path) and path[0] == maze.start  # a video that opens on the goal has walked nowhere
        correct = reached and legal and started
        consistent, consistency = self.consistency(maze, state)
        return Score(
            scorer=self.name, version=self.scorer_version, correct=correct, score=float(correct),
            consistent=consistent,
            details={"agent_cell": list(final) if final else None, "goal_cell": list(maze.goal),
                     "start_cell": list(maze.start), "started_at_start": started, "reached_goal": reached,
                     "legal_path": legal,
                     "wall_crossings": wall_crossings, "jumps": jumps, "cells_visited": [list(c) for c in path],
                     "frames_without_agent": video.num_frames - len(seen), "consistency": consistency})


TASK = MazeTask()
