"""Drawing helpers shared by the tasks: square canvases, grid layouts, text in Pillow's bundled font."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

CANVAS = 384  # px; square frames are 320 px tall once letterboxed into a 512x320 model frame
WHITE = (255, 255, 255)
BLACK = (20, 20, 20)
Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1/y1 exclusive


@dataclass(frozen=True)
class Grid:
    """A rows x cols grid of square cells of `cell` px whose top-left corner is at (left, top)."""

    rows: int
    cols: int
    cell: int
    left: int
    top: int

    @classmethod
    def centred(cls, rows: int, cols: int, canvas: int = CANVAS, margin: int = 16) -> Grid:
        cell = min((canvas - 2 * margin) // cols, (canvas - 2 * margin) // rows)
        return cls(rows, cols, cell, (canvas - cell * cols) // 2, (canvas - cell * rows) // 2)

    @property
    def bounds(self) -> Box:
        return self.left, self.top, self.left + self.cols * self.cell, self.top + self.rows * self.cell

    def box(self, row: int, col: int, inset: int = 0) -> Box:
        x0, y0 = self.left + col * self.cell, self.top + row * self.cell
        return x0 + inset, y0 + inset, x0 + self.cell - inset, y0 + self.cell - inset

    def centre(self, row: float, col: float) -> tuple[float, float]:
        """Pixel centre of a cell; fractional rows/cols give points between cells (for animation)."""
        return self.left + (col + 0.5) * self.cell, self.top + (row + 0.5) * self.cell

    def pixel_centre(self, row: int, col: int) -> tuple[int, int]:
        """The integer pixel at a cell's centre: glyphs drawn there land on the same pixels in every cell."""
        return self.left + col * self.cell + self.cell // 2, self.top + row * self.cell + self.cell // 2

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The cell containing pixel (x, y), or None outside the grid."""
        col, row = int((x - self.left) // self.cell), int((y - self.top) // self.cell)
        return (row, col) if 0 <= row < self.rows and 0 <= col < self.cols else None

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.rows) for c in range(self.cols)]

    def draw_lines(self, draw: ImageDraw.ImageDraw, fill: tuple[int, int, int], width: int,
                   thick_every: int = 0, thick_width: int = 0) -> None:
        """Every grid line; with `thick_every` = k, every k-th line is `thick_width` wide (Sudoku boxes)."""
        x0, y0, x1, y1 = self.bounds
        for i in range(self.cols + 1):
            w = thick_width if thick_every and i % thick_every == 0 else width
            x = self.left + i * self.cell
            draw.rectangle((x - w // 2, y0 - w // 2, x - w // 2 + w - 1, y1 + w - w // 2 - 1), fill=fill)
        for i in range(self.rows + 1):
            w = thick_width if thick_every and i % thick_every == 0 else width
            y = self.top + i * self.cell
            draw.rectangle((x0 - w // 2, y - w // 2, x1 + w - w // 2 - 1, y - w // 2 + w - 1), fill=fill)


def canvas(colour: tuple[int, int, int] = WHITE, size: int = CANVAS) -> Image.Image:
    return Image.new("RGB", (size, size), colour)


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font at `size` px, so glyphs look the same wherever Pillow is installed."""
    return ImageFont.load_default(size=size)


def draw_text(draw: ImageDraw.ImageDraw, centre: tuple[float, float], text: str, size: int,
              fill: tuple[int, int, int]) -> None:
    """Draw `text` centred on an integer pixel, so the same glyph always lands on the same pixels."""
    draw.text((round(centre[0]), round(centre[1])), text, font=font(size), fill=fill, anchor="mm")


def draw_disc(draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float,
              fill: tuple[int, int, int], outline: tuple[int, int, int] | None = None, width: int = 1) -> None:
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill, outline=outline, width=width)


def text_box(centre: tuple[float, float], text: str, size: int, pad: int = 0) -> Box:
    """The box `draw_text` covers with `text` centred on `centre`, widened by `pad` px on every side."""
    x, y = round(centre[0]), round(centre[1])
    x0, y0, x1, y1 = font(size).getbbox(text, anchor="mm")
    return x + x0 - pad, y + y0 - pad, x + x1 + pad, y + y1 + pad
