"""The maze task: perfect mazes, solution paths, and a scorer that reads the final cell and the path."""

from itertools import pairwise

import numpy as np
import pytest

from vmevalkit.tasks import get_task
from vmevalkit.tasks._video import cut_video, held_video, solution_video
from vmevalkit.tasks.maze import SIZES, Maze, corridor_distances, solve
from vmevalkit.video import Video

TASK = get_task("maze")


@pytest.fixture(scope="module")
def generated():
    return {d: TASK.generate(7, d) for d in TASK.difficulties}


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_generated_mazes_are_perfect_and_solvable_and_never_solved(difficulty):
    for seed in range(4):
        q = TASK.generate(seed, difficulty).question
        maze = Maze.from_metadata(q.metadata["maze"])
        low, high = SIZES[difficulty]
        assert low <= maze.n <= high
        assert len(maze.passages) == maze.n ** 2 - 1  # a spanning tree: one route between any two cells
        assert len(corridor_distances(maze.n, maze.passages, maze.start)) == maze.n ** 2
        assert maze.start != maze.goal
        path = [tuple(c) for c in q.metadata["solution"]["path"]]
        assert path[0] == maze.start and path[-1] == maze.goal
        assert all(frozenset((a, b)) in maze.passages for a, b in pairwise(path))
        assert q.metadata["task"] == "maze" and q.metadata["seed"] == seed and q.metadata["difficulty"] == difficulty
        assert np.asarray(q.first_frame).tolist() != np.asarray(q.final_frame).tolist()


def test_sizes_cover_3x3_to_9x9():
    sizes = {Maze.from_metadata(TASK.generate(s, d).question.metadata["maze"]).n
             for d in TASK.difficulties for s in range(30)}
    assert min(sizes) == 3 and max(sizes) == 9


def _walk(maze: Maze, cells) -> Video:
    board = maze.board()
    return solution_video([maze.frame(board, c) for c in cells])


def test_oracle_is_correct_and_reads_the_goal_cell(generated):
    for g in generated.values():
        s = TASK.score(g.question, g.solution)
        assert s.correct is True and s.details["reached_goal"] and s.details["legal_path"]
        assert s.details["agent_cell"] == g.question.metadata["maze"]["goal"]
        assert s.details["cells_visited"] == g.question.metadata["solution"]["path"]


def test_static_video_is_incorrect(generated):
    for g in generated.values():
        s = TASK.score(g.question, held_video(g.question.first_frame))
        assert s.correct is False and s.details["agent_cell"] == g.question.metadata["maze"]["start"]


def test_a_legal_walk_that_stops_next_to_the_goal_is_caught(generated):
    g = generated["hard"]
    maze = Maze.from_metadata(g.question.metadata["maze"])
    path = solve(maze.n, maze.passages, maze.start, maze.goal)
    s = TASK.score(g.question, _walk(maze, path[:-1]))
    assert s.correct is False and s.details["legal_path"] and not s.details["reached_goal"]
    assert s.details["agent_cell"] == list(path[-2])


def test_teleporting_to_the_goal_is_a_jump(generated):
    g = generated["hard"]
    s = TASK.score(g.question, cut_video(g.question.first_frame, g.question.final_frame))
    assert s.details["reached_goal"] is True
    assert s.correct is False and s.details["jumps"] and s.details["jumps"][0]["from"] == s.details["start_cell"]


def test_a_video_that_opens_on_the_goal_has_not_walked_the_maze(generated):
    g = generated["medium"]
    maze = Maze.from_metadata(g.question.metadata["maze"])
    s = TASK.score(g.question, _walk(maze, [maze.goal] * 4))  # never seen anywhere else: no illegal move
    assert s.details["reached_goal"] and s.details["legal_path"] and not s.details["started_at_start"]
    assert s.correct is False and s.version == "1.2"
    assert TASK.score(g.question, g.solution).details["started_at_start"] is True


def test_stepping_through_a_wall_is_a_wall_crossing(generated):
    g = generated["medium"]
    maze = Maze.from_metadata(g.question.metadata["maze"])
    a, b = next(((r, c), (r, c + 1)) for r, c in maze.grid.cells()
                if c + 1 < maze.n and frozenset(((r, c), (r, c + 1))) not in maze.passages)
    s = TASK.score(g.question, _walk(maze, [a, b]))
    assert [(w["from"], w["to"]) for w in s.details["wall_crossings"]] == [(list(a), list(b))]
    assert s.correct is False and not s.details["jumps"]


def test_skipping_cells_along_the_corridor_is_still_legal(generated):
    g = generated["hard"]
    maze = Maze.from_metadata(g.question.metadata["maze"])
    path = solve(maze.n, maze.passages, maze.start, maze.goal)
    s = TASK.score(g.question, _walk(maze, path[::2] + [path[-1]]))
    assert s.correct is True and not s.details["jumps"] and not s.details["wall_crossings"]


def test_agent_missing_at_the_end_is_incorrect(generated):
    g = generated["easy"]
    maze = Maze.from_metadata(g.question.metadata["maze"])
    s = TASK.score(g.question, cut_video(g.question.first_frame, maze.board()))
    assert s.correct is False and s.details["agent_cell"] is None and s.details["frames_without_agent"] == 8


def test_a_video_at_another_size_is_read_in_the_question_geometry(generated):
    g = generated["hard"]
    from PIL import Image
    frames = [Image.fromarray(f).resize((512, 320)) for f in g.solution.frames]
    s = TASK.score(g.question, Video.from_images(frames, 8))
    assert s.correct is True


def test_wrong_final_frame_is_next_to_the_goal_and_caught(generated):
    for g in generated.values():
        wrong = TASK.wrong_final_frame(g.question, 0)
        s = TASK.score(g.question, held_video(wrong))
        goal = g.question.metadata["maze"]["goal"]
        assert s.correct is False
        assert abs(s.details["agent_cell"][0] - goal[0]) + abs(s.details["agent_cell"][1] - goal[1]) == 1


def test_a_question_from_another_task_version_is_not_judged(generated):
    from dataclasses import replace
    q = generated["easy"].question
    old = replace(q, metadata={**q.metadata, "task_version": "0"})
    s = TASK.score(old, generated["easy"].solution)
    assert s.correct is None and "regenerate" in s.error
