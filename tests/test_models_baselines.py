import numpy as np
import pytest
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.baselines import OracleBaseline, StaticBaseline
from vmevalkit.questions import read_question
from vmevalkit.video import Video, motion_stats, read_mp4, write_mp4


def _question(tmp_path, first, final=None, gt: Video | None = None):
    from vmevalkit.questions import Question, write_question

    q = Question(id="q1", domain="toy", prompt="move", first_frame=first, final_frame=final)
    folder = write_question(q, tmp_path)
    if gt is not None:
        write_mp4(gt, folder / "ground_truth.mp4")
    return read_question(folder)


def test_static_holds_the_first_frame_and_is_flagged_static(tmp_path):
    first = Image.fromarray(np.random.default_rng(0).integers(0, 255, (10, 14, 3), dtype=np.uint8))
    q = _question(tmp_path, first)
    video = StaticBaseline(frames=5, fps=4).generate(q, first, seed=1)
    assert video.num_frames == 5 and video.fps == 4
    assert all(np.array_equal(f, np.asarray(first)) for f in video.frames)
    stats = motion_stats(video)
    assert stats["static"] and stats["identical_pair_share"] == 1.0


def test_oracle_cross_fades_from_first_to_final_frame(tmp_path):
    first = Image.new("RGB", (12, 8), (0, 0, 0))
    final = Image.new("RGB", (24, 16), (200, 100, 50))  # another size: brought to the first frame's
    q = _question(tmp_path, first, final)
    video = OracleBaseline(frames=5, fps=8).generate(q, first, seed=0)
    assert video.size == (12, 8) and video.num_frames == 5
    assert np.array_equal(video.frames[0], np.asarray(first))
    assert np.array_equal(video.frames[-1][0, 0], [200, 100, 50])
    reds = video.frames[:, 0, 0, 0].astype(int)
    assert list(reds) == sorted(reds) and reds[2] == 100  # linear: halfway at the middle frame
    assert not motion_stats(video)["static"]


def test_oracle_shows_the_ground_truth_video_at_the_question_size(tmp_path):
    frames = np.stack([np.full((9, 13, 3), v, np.uint8) for v in (10, 120, 240)])  # odd size: mp4 pads it
    first = Image.fromarray(frames[0])
    q = _question(tmp_path, first, Image.fromarray(frames[-1]), gt=Video(frames, 6))
    assert read_mp4(q.ground_truth).size == (14, 10)
    video = OracleBaseline().generate(q, first, seed=0)
    assert video.size == (13, 9) and video.num_frames == 3 and video.fps == 6
    assert np.abs(video.frames.astype(int) - frames.astype(int)).max() <= 3  # codec rounding only


def test_oracle_without_a_solution_says_so(tmp_path):
    q = _question(tmp_path, Image.new("RGB", (4, 4)))
    with pytest.raises(UserError, match="neither ground_truth.mp4 nor final_frame.png"):
        OracleBaseline().generate(q, q.first_frame, seed=0)


def test_bad_control_settings_are_user_errors():
    with pytest.raises(UserError, match="frames must be >= 1"):
        StaticBaseline(frames=0)
    with pytest.raises(UserError, match="frames must be >= 2"):
        OracleBaseline(frames=1)
