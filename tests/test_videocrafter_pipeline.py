"""Behaviour of the real pipeline on the untrained tiny model (videocrafter-tiny)."""

import numpy as np
import pytest
import torch
from conftest import fixture_dir
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.videocrafter import latent_diffusion
from vmevalkit.models.videocrafter.tiny import tiny_pipeline
from vmevalkit.video import motion_stats

ARGS = dict(num_inference_steps=4, height=64, width=64, num_frames=8, progress=False)


@pytest.fixture(scope="module")
def pipe():
    torch.set_num_threads(2)
    return tiny_pipeline(device="cpu")


@pytest.fixture(scope="module")
def image():
    return Image.open(fixture_dir("i2v") / "input.png").convert("RGB")


@pytest.fixture(scope="module")
def base(pipe, image):
    return pipe(image, "a red ball bouncing on a white table", seed=7, **ARGS)


def _diff(a, b) -> float:
    return float(np.abs(a.frames.astype(int) - b.frames.astype(int)).mean())


def test_video_value_and_real_motion(base):
    assert base.frames.shape == (8, 64, 64, 3) and base.frames.dtype == np.uint8 and base.fps == 8
    stats = motion_stats(base)
    assert stats["identical_pair_share"] == 0.0 and not stats["static"]  # no copied frames


def test_same_seed_same_video_and_one_pipeline_serves_many_calls(pipe, image, base, monkeypatch):
    built = []
    monkeypatch.setattr(latent_diffusion.LatentVideoDiffusion, "__init__",
                        lambda *a, **k: built.append(1) or pytest.fail("model rebuilt"))
    weights = pipe.unet.out[2].weight.data_ptr()
    again = pipe(image, "a red ball bouncing on a white table", seed=7, **ARGS)
    assert np.array_equal(again.frames, base.frames)
    other = pipe(image, "a red ball bouncing on a white table", seed=8, **ARGS)
    assert _diff(other, base) > 1.0
    assert not built and pipe.unet.out[2].weight.data_ptr() == weights


def test_prompt_changes_the_video(pipe, image, base):
    assert _diff(pipe(image, "a blue cube sliding to the left", seed=7, **ARGS), base) > 1.0


def test_image_changes_the_video(pipe, image, base):
    flipped = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert _diff(pipe(flipped, "a red ball bouncing on a white table", seed=7, **ARGS), base) > 1.0


def _batch_sizes(pipe, run):
    """(latent batch, context batch) of every UNet call."""
    sizes = []
    hook = pipe.unet.register_forward_pre_hook(lambda m, args: sizes.append((args[0].shape[0], args[2].shape[0])))
    try:
        run()
    finally:
        hook.remove()
    return sizes


def test_guidance_runs_both_branches_in_one_batched_call(pipe, image):
    sizes = _batch_sizes(pipe, lambda: pipe(image, "x", seed=1, guidance_scale=7.5, **ARGS))
    assert sizes == [(1, 2)] * 4  # one call per step: the shared latents with [cond; uncond] contexts


def test_guidance_scale_one_runs_no_unconditional_branch(pipe, image):
    sizes = _batch_sizes(pipe, lambda: pipe(image, "x", seed=1, guidance_scale=1.0, **ARGS))
    assert sizes == [(1, 1)] * 4


def test_output_types(pipe, image):
    latents = pipe(image, "x", seed=3, output_type="latent", **ARGS)
    assert latents.shape == (1, 4, 8, 32, 32)
    video = pipe(image, "x", seed=3, output_type="pt", **ARGS)
    assert video.shape == (1, 3, 8, 64, 64) and video.dtype == torch.float32
    with pytest.raises(UserError, match="output_type"):
        pipe(image, "x", output_type="gif", **ARGS)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_any_image_mode_is_converted(pipe, image, mode):
    if mode == "I;16":
        converted = Image.fromarray((np.asarray(image.convert("L"), dtype=np.uint16) * 257))
    else:
        converted = image.convert(mode)
    x = pipe.prepare_image(converted, 64, 64)
    assert x.shape == (1, 3, 64, 64) and -1.0 <= x.min() and x.max() <= 1.0
    grey = pipe.prepare_image(image.convert("L").convert("RGB"), 64, 64)
    if mode in ("L", "I;16"):
        assert torch.allclose(x, grey, atol=1e-2)


def test_size_that_the_model_cannot_take_is_a_clear_error(pipe, image):
    with pytest.raises(UserError, match="multiples of 4"):
        pipe(image, "x", **{**ARGS, "height": 66})


def test_i2v_needs_an_image(pipe):
    with pytest.raises(UserError, match="first frame"):
        pipe(None, "x", **ARGS)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 0.05), (torch.bfloat16, 0.15)])
def test_half_precision_weights_run_and_stay_near_float32(pipe, image, dtype, tolerance):
    """The GPU precisions, exercised on the CPU: weights in half precision, schedule and DDIM update in float32."""
    low = tiny_pipeline(device="cpu", dtype=dtype)
    assert low.unet.out[2].weight.dtype == dtype and low.model.alphas_cumprod.dtype == torch.float32
    ref = pipe(image, "a ball", seed=1, output_type="pt", **ARGS)
    out = low(image, "a ball", seed=1, output_type="pt", **ARGS)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert ((out - ref).abs().mean() / ref.abs().mean()).item() < tolerance
