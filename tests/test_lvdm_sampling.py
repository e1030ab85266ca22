"""Where the official DDIM samplers break, ours does the sensible thing (docs/lvdm.md lists each case); the
schedules come from the official configs' buffers, the arithmetic is checked with a stand-in model output."""

import pytest
import torch

from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.latent_diffusion import schedule_buffers
from vmevalkit.models.lvdm.sampling import ddim_timesteps, make_schedule, sample_ddim


@pytest.fixture(scope="module")
def zero_snr():
    cfg = load_config("dynamicrafter_512_v1.0").diffusion
    return schedule_buffers(cfg), cfg.rescale


def test_uniform_steps_match_the_official_ones_except_past_the_schedule():
    assert ddim_timesteps(50).tolist() == list(range(1, 1000, 20))
    assert len(ddim_timesteps(30)) == 31  # as the official sampler: 1000 // 30 = 33 -> 31 timesteps
    assert ddim_timesteps(3).tolist() == [1, 334, 667]  # official: [1, 334, 667, 1000] and an IndexError


def test_trailing_steps_start_at_999_and_drop_the_official_minus_one():
    assert ddim_timesteps(8, spacing="uniform_trailing").tolist() == [124, 249, 374, 499, 624, 749, 874, 999]
    steps = ddim_timesteps(61, spacing="uniform_trailing")  # official: 62 timesteps, the first -1 (NaN sigma)
    assert len(steps) == 61 and steps.min() >= 0 and steps.max() == 999
    for count in range(1, 101):
        assert len(ddim_timesteps(count, spacing="uniform_trailing")) == count


@pytest.mark.parametrize("steps", [7, 25])
def test_zero_snr_trailing_eta1_gives_a_finite_video(zero_snr, steps):
    """At the first step a_t = 0, so 1 - a_prev - sigma^2 is 0 up to float32 rounding; for these counts it is
    negative (the official video is NaN), and the direction term is taken as 0."""
    buffers, rescale = zero_snr
    schedule = make_schedule(buffers, steps, 1.0, spacing="uniform_trailing", rescale=rescale)
    assert schedule.alphas[0] == 0 and (1.0 - schedule.alphas_prev[0] - schedule.sigmas[0] ** 2) < 0
    x = torch.randn(1, 4, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    out = sample_ddim(lambda x, t: 0.5 * x, x, schedule, disable=True)  # any v estimate will do
    assert torch.isfinite(out).all()
