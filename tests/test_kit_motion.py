"""The static flag judges a video by how far it ever gets from its first frame (change to vmevalkit.video)."""

import numpy as np

from vmevalkit.video import Video, motion_stats


def test_a_small_object_moving_slowly_is_not_static():
    frames = np.full((16, 160, 256, 3), 255, np.uint8)
    for t in range(16):  # a 16x16 dot creeping right one pixel a frame
        frames[t, 70:86, 10 + t:26 + t] = 0
    stats = motion_stats(Video(frames, 8))
    assert stats["mean_abs_frame_diff"] < 0.5  # consecutive differences alone would call it static
    assert stats["max_abs_diff_from_first"] > 1.0 and stats["static"] is False


def test_a_held_frame_is_static_and_a_fade_is_not():
    held = Video(np.repeat(np.full((1, 8, 8, 3), 40, np.uint8), 6, axis=0), 8)
    assert motion_stats(held)["static"] and motion_stats(held)["max_abs_diff_from_first"] == 0.0
    fade = Video(np.stack([np.full((8, 8, 3), 40 + 4 * t, np.uint8) for t in range(6)]), 8)
    assert motion_stats(fade)["max_abs_diff_from_first"] == 20.0 and not motion_stats(fade)["static"]
