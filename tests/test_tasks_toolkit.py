"""The shared task toolkit: deterministic RNG, grid geometry, glyph reading, last-frames reading, videos."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vmevalkit.tasks._draw import Grid, draw_text
from vmevalkit.tasks._question import task_numpy_rng, task_rng
from vmevalkit.tasks._read import GlyphReader, crop, final_state, ncc_scores, red_mask
from vmevalkit.tasks._video import HOLD_END, HOLD_START, cut_video, held_video, solution_video
from vmevalkit.video import Video

REPO = Path(__file__).resolve().parents[1]


def test_task_rng_is_deterministic_across_processes_and_keyed_by_every_input():
    here = [task_rng("maze", 3, "easy").random(), float(task_numpy_rng("maze", 3, "easy").random())]
    code = ("from vmevalkit.tasks._question import task_rng, task_numpy_rng;"
            "print(repr(task_rng('maze', 3, 'easy').random()), repr(float(task_numpy_rng('maze', 3, 'easy').random())))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout.split()
    assert [float(v) for v in out] == here
    draws = {task_rng(*key).random() for key in [("maze", 3, "easy"), ("maze", 4, "easy"), ("maze", 3, "hard"),
                                                 ("sudoku", 3, "easy")]}
    assert len(draws) == 4


def test_grid_cells_round_trip_through_pixels():
    g = Grid.centred(7, 7)
    assert g.bounds[2] - g.bounds[0] == 7 * g.cell and g.left >= 16
    for r, c in g.cells():
        assert g.cell_at(*g.centre(r, c)) == (r, c)
        assert g.cell_at(*g.pixel_centre(r, c)) == (r, c)
        x0, y0, x1, y1 = g.box(r, c, inset=3)
        assert (x1 - x0, y1 - y0) == (g.cell - 6, g.cell - 6)
    assert g.cell_at(g.left - 1, g.top) is None and g.cell_at(g.bounds[2], g.top) is None


def _digit(d: str, size=40, colour=(0, 0, 0)) -> np.ndarray:
    im = Image.new("RGB", (size, size), (255, 255, 255))
    draw_text(ImageDraw.Draw(im), (size // 2, size // 2), d, 28, colour)
    return np.asarray(im, dtype=np.float32)


def test_glyph_reader_reads_every_digit_despite_blur_shift_colour_and_contrast():
    reader = GlyphReader([str(d) for d in range(1, 10)], _digit)
    for d in range(1, 10):
        im = Image.fromarray(_digit(str(d), colour=(40, 80, 210)).astype(np.uint8))  # blue ink, not black
        im = im.filter(ImageFilter.GaussianBlur(1.2)).transform(im.size, Image.Transform.AFFINE, (1, 0, 1, 0, 1, -1))
        match = reader.read(np.asarray(im, dtype=np.float32) * 0.8 + 20)
        assert match.label == str(d), (d, match)
        assert match.margin > 0


def test_ncc_scores_prefer_the_matching_template_and_are_shift_tolerant():
    rng = np.random.default_rng(0)
    templates = rng.random((3, 20, 20)).astype(np.float32)
    patch = np.roll(templates[1], (1, -2), axis=(0, 1))
    scores = ncc_scores(patch, templates, max_shift=2)
    assert scores.argmax() == 1 and scores[1] > 0.9 and scores[0] < 0.5


def test_final_state_is_the_median_of_the_last_frames_and_ignores_one_glitch():
    frames = np.zeros((6, 8, 10, 3), np.uint8)
    frames[3:] = 100
    frames[-1, 2, 2] = 255  # one glitched pixel in the very last frame
    state = final_state(Video(frames, 8), (10, 8))
    assert state.shape == (8, 10, 3) and np.all(state == 100)
    assert final_state(Video(frames, 8), (20, 16)).shape == (16, 20, 3)  # resized to the question's size


def test_red_mask_finds_red_but_not_green_black_or_white():
    rgb = np.array([[[220, 30, 30], [30, 160, 60], [20, 20, 20], [255, 255, 255], [240, 200, 200]]], np.float32)
    assert red_mask(rgb).tolist() == [[True, False, False, False, False]]


def test_videos_hold_their_ends():
    a, b = Image.new("RGB", (8, 8), (0, 0, 0)), Image.new("RGB", (8, 8), (255, 255, 255))
    v = solution_video([a, b])
    assert v.num_frames == HOLD_START + 2 + HOLD_END
    assert (v.frames[:HOLD_START + 1] == 0).all() and (v.frames[HOLD_START + 1:] == 255).all()
    assert held_video(a, 5).num_frames == 5 and not held_video(a, 5).frames.any()
    cut = cut_video(a, b, 4)
    assert cut.num_frames == 8 and not cut.frames[:4].any() and (cut.frames[4:] == 255).all()
    assert crop(np.zeros((10, 10)), (2, 3, 5, 9)).shape == (6, 3)


def test_final_state_of_a_two_frame_video_is_its_last_frame_not_a_blend():
    frames = np.zeros((2, 8, 10, 3), np.uint8)
    frames[1] = 200
    assert np.all(final_state(Video(frames, 8), (10, 8)) == 200)
    assert np.all(final_state(Video(frames[1:], 8), (10, 8)) == 200)
