"""Three small built-in questions, drawn with PIL, for the no-flags demo (`vmevalkit run`).

Each has a first frame, the expected final frame and its solution in the metadata: a maze walk, a
colour-shape matching and a 3x3 colour grid to complete. Frames are 256x160 (the 8:5 aspect of
VideoCrafter's 512x320), drawn deterministically."""

from __future__ import annotations

from PIL import Image, ImageDraw

from vmevalkit.questions import Question

SIZE = (256, 160)
WHITE, BLACK, GREY = (255, 255, 255), (20, 20, 20), (200, 200, 200)
RED, GREEN, BLUE = (220, 40, 40), (40, 170, 60), (40, 80, 220)

_MAZE = ["########",
         "#S.#..G#",
         "#.##.###",
         "#......#",
         "########"]
_MAZE_PATH = [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (3, 4), (2, 4), (1, 4), (1, 5), (1, 6)]  # (row, col)
_CELL = 32
_GRID = [[RED, GREEN, BLUE], [GREEN, BLUE, RED], [BLUE, RED, GREEN]]
_GRID_NAMES = {RED: "red", GREEN: "green", BLUE: "blue"}
_GRID_EMPTY = (2, 2)


def _maze_frame(agent: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(_MAZE):
        for c, cell in enumerate(row):
            box = (c * _CELL, r * _CELL, (c + 1) * _CELL - 1, (r + 1) * _CELL - 1)
            if cell == "#":
                draw.rectangle(box, fill=BLACK)
            elif cell == "G":
                draw.rectangle((box[0] + 6, box[1] + 6, box[2] - 6, box[3] - 6), fill=RED)
    r, c = agent
    draw.ellipse((c * _CELL + 8, r * _CELL + 8, (c + 1) * _CELL - 9, (r + 1) * _CELL - 9), fill=GREEN)
    return image


def _maze() -> Question:
    return Question(
        id="demo_maze_0", domain="maze",
        prompt="The green dot walks along the white corridors of the maze, never crossing a black wall, "
               "until it stands on the red square. Show every step of the walk.",
        first_frame=_maze_frame(_MAZE_PATH[0]), final_frame=_maze_frame(_MAZE_PATH[-1]),
        metadata={"domain": "maze", "source": "vmevalkit demo", "maze": _MAZE, "solution": _MAZE_PATH})


def _shapes_frame(solved: bool) -> Image.Image:
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    circle_target, square_target = (176, 96, 224, 144), (176, 16, 224, 64)  # crossed: circle target is low
    draw.ellipse(circle_target, outline=RED, width=3)
    draw.rectangle(square_target, outline=BLUE, width=3)
    circle, square = (circle_target, square_target) if solved else ((32, 16, 80, 64), (32, 96, 80, 144))
    draw.ellipse(circle, fill=RED)
    draw.rectangle(square, fill=BLUE)
    return image


def _shapes() -> Question:
    return Question(
        id="demo_shapes_0", domain="shape_match",
        prompt="Move each filled shape on the left into the outline of the same shape and colour on the right: "
               "the red circle into the red circle outline, the blue square into the blue square outline.",
        first_frame=_shapes_frame(False), final_frame=_shapes_frame(True),
        metadata={"domain": "shape_match", "source": "vmevalkit demo",
                  "solution": {"red circle": [176, 96, 224, 144], "blue square": [176, 16, 224, 64]}})


def _grid_frame(solved: bool) -> Image.Image:
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    tile, left, top = 44, (SIZE[0] - 3 * 44) // 2, (SIZE[1] - 3 * 44) // 2
    for r, row in enumerate(_GRID):
        for c, colour in enumerate(row):
            box = (left + c * tile + 2, top + r * tile + 2, left + (c + 1) * tile - 3, top + (r + 1) * tile - 3)
            empty = (r, c) == _GRID_EMPTY and not solved
            draw.rectangle(box, fill=GREY if empty else colour, outline=BLACK, width=2)
    return image


def _grid() -> Question:
    r, c = _GRID_EMPTY
    return Question(
        id="demo_grid_0", domain="grid_fill",
        prompt="Every row and every column of the 3x3 grid holds one red, one green and one blue tile. "
               "Colour the grey tile with the one colour that is missing from its row and column.",
        first_frame=_grid_frame(False), final_frame=_grid_frame(True),
        metadata={"domain": "grid_fill", "source": "vmevalkit demo",
                  "solution": {"row": r, "column": c, "colour": _GRID_NAMES[_GRID[r][c]]}})


def demo_questions() -> list[Question]:
    """The built-in demo questions, in a fixed order."""
    return [_grid(), _maze(), _shapes()]
