"""Behaviour of the real pipeline on the untrained tiny model (videocrafter-tiny)."""

import numpy as np
import pytest
import torch
from conftest import fixture_dir
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models.lvdm import latent_diffusion
from vmevalkit.models.lvdm import pipeline as pipeline_module
from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline
from vmevalkit.models.lvdm.tiny import tiny_pipeline
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


@pytest.mark.slow  # about a minute on 2 cores: the CPU emulates the GPU precisions slowly
@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 0.05), (torch.bfloat16, 0.15)])
def test_half_precision_weights_run_and_stay_near_float32(pipe, image, dtype, tolerance):
    """The GPU precisions, exercised on the CPU: weights in half precision, schedule and DDIM update in float32."""
    low = tiny_pipeline(device="cpu", dtype=dtype)
    assert low.unet.out[2].weight.dtype == dtype and low.model.alphas_cumprod.dtype == torch.float32
    ref = pipe(image, "a ball", seed=1, output_type="pt", **ARGS)
    out = low(image, "a ball", seed=1, output_type="pt", **ARGS)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert ((out - ref).abs().mean() / ref.abs().mean()).item() < tolerance


def _no_work(pipe, monkeypatch):
    """Make any encoding or sampling fail the test: argument errors must come before them."""
    for name in ("encode_prompt", "encode_image"):
        monkeypatch.setattr(pipe.model, name, lambda *a, **k: pytest.fail("encoded before checking the arguments"))
    monkeypatch.setattr(pipeline_module, "sample_ddim", lambda *a, **k: pytest.fail("sampled before checking"))


@pytest.mark.parametrize("override, message", [
    ({"num_inference_steps": 0}, r"num_inference_steps must be a whole number from 1 to 999 \(got 0\)"),
    ({"num_inference_steps": 1000}, r"num_inference_steps .* from 1 to 999 \(got 1000\)"),
    ({"num_inference_steps": 2.5}, r"num_inference_steps must be a whole number"),
    ({"guidance_scale": 0.5}, r"guidance_scale must be a finite number >= 1 .*got 0.5"),
    ({"guidance_scale": float("nan")}, r"guidance_scale must be a finite number >= 1 .*got nan"),
    ({"guidance_scale": float("inf")}, r"guidance_scale .*got inf"),
    ({"eta": -0.1}, r"eta must be a finite number >= 0 .*got -0.1"),
    ({"eta": float("nan")}, r"eta must be .*got nan"),
    ({"fps": 0}, r"fps must be a whole number > 0 .*got 0"),
    ({"fps": -8}, r"fps must be .*got -8"),
    ({"fps": 7.5}, r"fps must be a whole number .*got 7.5"),
    ({"num_frames": 0}, r"num_frames must be a whole number >= 1 \(got 0\)"),
    ({"num_frames": -2}, r"num_frames must be .*got -2"),
    ({"decode_chunk": 0}, r"decode_chunk must be a whole number >= 1 \(got 0\)"),
    ({"height": 64.0}, r"height and width must be whole numbers"),
    ({"output_type": "gif"}, r"output_type must be one of \('video', 'pt', 'latent'\), got 'gif'"),
])
def test_bad_settings_are_refused_before_any_work(pipe, image, monkeypatch, override, message):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=message) as caught:
        pipe(image, "x", seed=0, **{**ARGS, **override})
    assert isinstance(caught.value, UserError)  # the CLI prints it without a traceback


def test_every_bad_setting_is_named_at_once(pipe, image, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=r"num_inference_steps .*; guidance_scale .*; eta .*; fps "):
        pipe(image, "x", **{**ARGS, "num_inference_steps": 0, "guidance_scale": 0, "eta": -1, "fps": 0})


def test_edge_settings_are_accepted(pipe, image):
    video = pipe(image, "x", seed=0, **{**ARGS, "num_inference_steps": 1, "guidance_scale": 1, "eta": 0,
                                        "fps": 8.0, "num_frames": 1, "decode_chunk": 1})
    assert video.frames.shape == (1, 64, 64, 3) and video.fps == 8


def test_video_output_of_a_batch_is_refused_before_sampling(pipe, image, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=r"output_type='video' returns one Video; got 2 prompts.*'pt'"):
        pipe(image, ["a", "b"], seed=0, **ARGS)


def test_a_batch_of_prompts_as_tensors(pipe, image):
    one = pipe.prepare_image(image, 64, 64)
    two = pipe(torch.cat([one, one.flip(-1)]), ["a", "b"], seed=0, output_type="pt", **ARGS)
    shared = pipe(one, ["a", "b"], seed=0, output_type="pt", **ARGS)  # one image for every prompt
    assert two.shape == shared.shape == (2, 3, 8, 64, 64)
    assert torch.equal(two[0], shared[0]) and not torch.equal(two[1], shared[1])


@pytest.mark.parametrize("prompt, images, message", [
    (["a", "b", "c"], 2, r"2 images for 3 prompts; give one image for all prompts or one per prompt"),
    ("a", 2, r"2 images for 1 prompts"),
])
def test_image_batch_must_match_the_prompts(pipe, image, monkeypatch, prompt, images, message):
    batch = pipe.prepare_image(image, 64, 64).expand(images, -1, -1, -1)
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=message):
        pipe(batch, prompt, seed=0, output_type="pt", **ARGS)


@pytest.mark.parametrize("prompt, error, message", [
    ([], ValueError, r"prompt is an empty list; give at least one prompt"),
    (None, TypeError, r"prompt must be a string or a list of strings, got None"),
    (["a", 3], TypeError, r"prompt must be a string or a list of strings, got \['a', 3\]"),
])
def test_bad_prompts(pipe, image, monkeypatch, prompt, error, message):
    _no_work(pipe, monkeypatch)
    with pytest.raises(error, match=message):
        pipe(image, prompt, seed=0, output_type="pt", **ARGS)


def test_encode_prompt_takes_one_string_as_one_prompt(pipe):
    assert torch.equal(pipe.encode_prompt("a red ball"), pipe.encode_prompt(["a red ball"]))


@pytest.mark.parametrize("bad, message", [
    (torch.zeros(64, 64), r"image tensor must be .*\(3, H, W\) or \(B, 3, H, W\); got \(64, 64\) torch.float32"),
    (torch.zeros(1, 4, 64, 64), r"got \(1, 4, 64, 64\) torch.float32"),
    (torch.zeros(1, 3, 64, 64, dtype=torch.uint8), r"image tensor must be float.*got \(1, 3, 64, 64\) torch.uint8"),
])
def test_bad_image_tensors(pipe, monkeypatch, bad, message):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=message):
        pipe(bad, "x", seed=0, **ARGS)
    with pytest.raises(ValueError, match=message):
        pipe.encode_image(bad)


def test_an_image_of_another_type_is_a_type_error(pipe, image, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(TypeError, match=r"image must be a PIL image or a tensor, got ndarray"):
        pipe(np.asarray(image), "x", seed=0, **ARGS)


@pytest.mark.parametrize("bad, message", [
    (torch.zeros(1, 4, 4, 32, 32), (r"latents must be a floating-point tensor of shape \(1, 4, 8, 32, 32\).*"
                                    r"got \(1, 4, 4, 32, 32\) torch.float32")),
    (torch.zeros(1, 4, 8, 32, 32, dtype=torch.int64), r"got \(1, 4, 8, 32, 32\) torch.int64"),
    (np.zeros((1, 4, 8, 32, 32), np.float32), r"got a ndarray"),
])
def test_bad_latents(pipe, image, monkeypatch, bad, message):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=message):
        pipe(image, "x", latents=bad, **ARGS)


def test_latents_in_another_precision_are_taken_as_x_T(pipe, image):
    x_T = torch.randn(1, 4, 8, 32, 32, generator=torch.Generator().manual_seed(5))
    ref = pipe(image, "x", seed=0, latents=x_T, output_type="latent", **ARGS)
    wide = pipe(image, "x", seed=0, latents=x_T.double(), output_type="latent", **ARGS)
    assert torch.equal(ref, wide)


def test_seed_and_generator_together_are_refused(pipe, image, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match="pass seed or generator, not both"):
        pipe(image, "x", seed=0, generator=torch.Generator().manual_seed(0), **ARGS)


def test_i2v_without_an_image_is_refused_before_any_work(pipe, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(ValueError, match=r"this image-to-video model needs a first frame \(image=...\)"):
        pipe(None, "x", seed=0, **ARGS)


@pytest.fixture(scope="module")
def t2v(fixture_checkpoint):
    return VideoCrafterPipeline.from_pretrained(fixture_checkpoint("t2v"), config=fixture_dir("t2v") / "config.yaml",
                                                device="cpu")


def test_t2v_given_an_image_is_refused(t2v, image, monkeypatch):
    _no_work(t2v, monkeypatch)
    with pytest.raises(ValueError, match=r"text-to-video checkpoint: it sees the prompt only; pass image=None"):
        t2v(image, "x", seed=0, **{**ARGS, "height": 32, "width": 48})
    with pytest.raises(ValueError, match="text-to-video checkpoint: it has no image encoder"):
        t2v.encode_image(image)


@pytest.mark.parametrize("dtype", ["float16", torch.int8])
def test_a_dtype_that_is_not_a_float_torch_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match=r"dtype must be a floating-point torch.dtype such as torch.float16, got "):
        tiny_pipeline(device="cpu", dtype=dtype)
