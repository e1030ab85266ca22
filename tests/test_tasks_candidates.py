"""Reading answers as the closest candidate: colour fitting, flat-pixel masks, box states."""

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vmevalkit.tasks.candidates import (
    _unique_rows,
    aligned_distances,
    box_states,
    closest,
    context_mask,
    flat_pixels,
    match_colours,
    register,
    standardised,
    thumbnail,
    zoomed,
)


def _picture() -> Image.Image:
    im = Image.new("RGB", (60, 40), (250, 250, 250))
    d = ImageDraw.Draw(im)
    d.rectangle((5, 5, 25, 30), fill=(30, 30, 30))
    d.rectangle((35, 10, 55, 35), fill=(200, 60, 60))
    return im


def test_match_colours_undoes_a_gain_and_offset_per_channel():
    ref = np.asarray(_picture(), float)
    shifted = ref * np.array([0.9, 1.1, 0.8]) + np.array([12, -20, 30])
    fixed = match_colours(shifted, ref, np.ones(ref.shape[:2], bool))
    assert np.abs(fixed - ref).max() < 1e-6
    assert np.abs(shifted - ref).mean() > 10


def test_match_colours_is_not_flattened_by_noise_on_a_mostly_white_context():
    ref = np.full((200, 200, 3), 255.0)
    ref[:12, :12] = (200, 30, 30)  # a small red patch: little variance in the context
    ref[100:, 100:] = (20, 20, 20)  # the answer region, outside the mask
    mask = np.ones((200, 200), bool)
    mask[100:, 100:] = False
    noisy = np.clip(ref + np.random.default_rng(0).normal(0, 12, ref.shape), 0, 255)
    fixed = match_colours(noisy, ref, mask)
    assert fixed[100:, 100:].mean() < 40  # the dark answer stays dark (a pixel-pair fit washes it out)


def test_unique_rows_is_numpys_unique_over_rows():
    rows = np.random.default_rng(0).integers(0, 4, (500, 3)).astype(np.float64) / 2  # many repeats, fractions
    for got, want in zip(_unique_rows(rows), np.unique(rows, axis=0, return_inverse=True, return_counts=True)):
        assert np.array_equal(got, want.ravel() if got.ndim == 1 else want)
    assert [a.shape for a in _unique_rows(np.empty((0, 3)))] == [(0, 3), (0,), (0,)]


def test_flat_pixels_exclude_edges_and_context_mask_excludes_answer_boxes():
    flat = flat_pixels(_picture(), radius=2)
    assert flat[20, 15] and flat[2, 45]  # inside the dark block, in the background
    assert not flat[5, 15] and not flat[20, 5]  # on the block's edges
    mask = context_mask(_picture(), [(30, 0, 60, 40)])
    assert mask[20, 15] and not mask[2, 45]


def test_box_states_read_filled_and_empty_boxes_through_blur_and_colour_change():
    boxes = [(5 + 20 * i, 5, 21 + 20 * i, 21) for i in range(4)]

    def frame(filled):
        im = Image.new("RGB", (90, 30), "white")
        d = ImageDraw.Draw(im)
        for i, b in enumerate(boxes):
            d.rectangle(b, fill=(20, 20, 20) if i in filled else "white", outline="black", width=2)
        return im

    seen = frame({0, 2}).filter(ImageFilter.GaussianBlur(1))
    seen = np.asarray(seen, float) * 0.9 + 15
    states = box_states(seen, np.asarray(frame(set()), float), np.asarray(frame({0, 1, 2, 3}), float), boxes)
    assert [s["filled"] for s in states] == [True, False, True, False]


def test_closest_reports_the_margin_and_breaks_ties_by_name():
    assert closest({"b": 1.0, "a": 3.0, "c": 1.5}) == ("b", 0.5)
    assert closest({"y": 2.0, "x": 2.0})[0] == "x"


def test_standardised_thumbnails_ignore_brightness_and_contrast():
    a = thumbnail(_picture(), (30, 20))
    dimmer = np.clip(np.asarray(_picture(), float) * 0.7 + 40, 0, 255).astype(np.uint8)
    b = thumbnail(Image.fromarray(dimmer), (30, 20))
    assert np.abs(standardised(a) - standardised(b)).mean() < 0.02
    assert thumbnail(np.asarray(_picture(), float), (30, 20)).shape == (20, 30, 3)


def test_register_undoes_a_drift_despite_a_colour_change():
    ref = np.asarray(_picture().resize((120, 80)), float)
    drifted = np.roll(ref, (5, -3), axis=(0, 1)) * 0.8 + 30
    back = register(drifted, ref)
    inner = (slice(10, -10), slice(10, -10))
    assert np.abs((back[inner] - 30) / 0.8 - ref[inner]).max() < 1e-6
    assert register(ref, ref) is ref


def test_aligned_distances_forgive_small_shifts_and_zoomed_scales_about_the_centre():
    a = thumbnail(_picture(), (30, 20))
    moved = np.roll(a, 2, axis=1)
    d = aligned_distances(moved, {"same": a[None], "other": (255 - a)[None]}, max_shift=2)
    assert d["same"] == 0.0 and d["other"] > 50
    assert aligned_distances(moved, {"same": a[None]}, max_shift=0)["same"] > 5
    big = zoomed(_picture(), 1.2, (250, 250, 250))
    assert big.size == _picture().size
    assert np.asarray(big)[32, 10].max() < 60 and np.asarray(_picture())[32, 10].min() > 200  # the block grew
