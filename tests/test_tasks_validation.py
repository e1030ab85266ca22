"""The validation harness: distortions do what they say, every registered task passes its checks,
and generation is byte-identical across processes."""

import numpy as np
import pytest

from vmevalkit.tasks import all_tasks
from vmevalkit.tasks.validation import (
    DISTORTIONS,
    NOISE_SIGMA,
    all_distortions,
    blur,
    colour_shift,
    deterministic_across_processes,
    fit_roundtrip,
    jpeg,
    noise,
    tree_digest,
    validate_task,
)
from vmevalkit.video import Video


def _video() -> Video:
    frames = np.full((2, 96, 120, 3), 255, np.uint8)
    frames[:, 30:60, 40:80] = (200, 30, 30)
    return Video(frames, 8)


def test_distortions_keep_the_size_and_change_the_pixels_as_described():
    v, rng = _video(), np.random.default_rng(0)
    for name, distort in DISTORTIONS.items():
        out = distort(v, rng)
        assert out.frames.shape == v.frames.shape and out.frames.dtype == np.uint8, name
        assert not np.array_equal(out.frames, v.frames), name
    flat = Video(np.full((1, 64, 64, 3), 128, np.uint8), 8)
    assert abs(noise(flat, rng).frames.astype(float).std() - NOISE_SIGMA) < 0.3
    shifted = colour_shift(flat, rng).frames[0, 0, 0].astype(int) - 128
    assert shifted.tolist() != [0, 0, 0] and np.abs(shifted).max() <= 15
    edge = blur(v, rng).frames[0, 45, 38:42, 1]  # green at the red block's left edge, blurred
    assert edge[0] > edge[-1] and 30 < edge[1] < 255
    assert np.abs(fit_roundtrip(v, rng).frames.astype(int) - v.frames).mean() < 6
    assert np.abs(jpeg(v, rng).frames.astype(int) - v.frames).max() > 0
    assert np.abs(all_distortions(v, rng).frames.astype(int) - v.frames).mean() > 2


@pytest.mark.parametrize("name", sorted(all_tasks()))
def test_every_task_passes_its_checks_on_a_few_questions(name, tmp_path):
    result = validate_task(name, 3, 11, tmp_path, distortions={"all": all_distortions})
    assert len(result.checks) == 3
    for video in ("oracle", "static", "wrong", "distorted:all"):
        assert result.rate(video) == 1, (video, [(c.key, c.scores[video]) for c in result.failures(video)])
    if result.consistency_rate("oracle") is not None:  # the task checks consistency (tasks without it read n/a)
        for video in ("oracle", "static", "inconsistent", "distorted:all"):
            assert result.consistency_rate(video) == 1, (video, [(c.key, c.scores[video].details.get("consistency"))
                                                                 for c in result.consistency_failures(video)])


def test_generation_is_byte_identical_across_processes(tmp_path):
    names = sorted(all_tasks())
    same = deterministic_across_processes(names, 3, 21, tmp_path / "a", tmp_path / "b")
    assert same == {name: True for name in names}
    digest = tree_digest(tmp_path / "a")
    assert len([k for k in digest if k.endswith("first_frame.png")]) == 3 * len(names)
    (tmp_path / "b" / next(iter(digest))).write_bytes(b"changed")
    assert tree_digest(tmp_path / "b") != digest  # the comparison would notice a difference


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(all_tasks()))
def test_every_task_passes_on_fifty_questions_under_every_distortion(name, tmp_path):
    result = validate_task(name, 50, 0, tmp_path)
    assert result.rate("oracle") == 1 and result.rate("static") == 1 and result.rate("wrong") >= 0.95
    for distortion in DISTORTIONS:
        assert result.rate(f"distorted:{distortion}") >= 0.95, distortion
    assert result.consistency_ok(), [(v, result.consistency_rate(v)) for v in ("oracle", "static", "inconsistent")]
