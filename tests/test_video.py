import numpy as np
import pytest

from vmevalkit.errors import UserError
from vmevalkit.video import Video, motion_stats, read_mp4, write_mp4


def test_mp4_round_trip(tmp_path):
    yy, xx = np.mgrid[0:64, 0:96]
    frames = np.stack([np.stack([(xx * 2 + 8 * i) % 256, yy * 3, np.full_like(xx, 128)], -1)
                       for i in range(6)]).astype(np.uint8)
    codec = write_mp4(Video(frames, 8), tmp_path / "v.mp4")
    assert codec in ("libx264", "h264", "mpeg4")
    back = read_mp4(tmp_path / "v.mp4")
    assert back.frames.shape == frames.shape and back.fps == 8
    assert np.abs(back.frames.astype(int) - frames).mean() < 4
    assert not list(tmp_path.glob(".*partial*"))  # the temporary file was renamed away


def test_motion_flags_static_video():
    still = Video(np.repeat(np.full((1, 8, 8, 3), 77, np.uint8), 5, axis=0), 8)
    stats = motion_stats(still)
    assert stats["static"] and stats["identical_pair_share"] == 1.0
    moving = Video(np.stack([np.full((8, 8, 3), 10 * i, np.uint8) for i in range(5)]), 8)
    stats = motion_stats(moving)
    assert not stats["static"] and stats["mean_abs_frame_diff"] == 10.0


def test_bad_video_values():
    with pytest.raises(ValueError):
        Video(np.zeros((2, 4, 4, 3), np.float32), 8)
    with pytest.raises(UserError):
        read_mp4("/nonexistent/x.mp4")
