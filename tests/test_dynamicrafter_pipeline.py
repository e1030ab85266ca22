"""Behaviour of the real DynamiCrafter pipeline on the untrained tiny 512-style fixture model (v-prediction,
zero-SNR, trailing timesteps, guidance rescale, per-frame image tokens), and the arguments it refuses."""

import numpy as np
import pytest
import torch
from conftest import fixture_dir as videocrafter_dir
from dynamicrafter_fixtures import (  # noqa: F401 (one_thread: an autouse fixture)
    fixture_dir, one_thread, rebuilt_model, sampling_args, save_checkpoint)
from PIL import Image

from vmevalkit.errors import CheckpointError, UserError
from vmevalkit.models.lvdm import dynamicrafter, pipeline as pipeline_module
from vmevalkit.models.lvdm.config import BUILTIN, load_config
from vmevalkit.models.lvdm.dynamicrafter import DynamiCrafterPipeline, run_defaults
from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline
from vmevalkit.models.lvdm.random_weights import random_model
from vmevalkit.video import motion_stats

PROMPT = "a red ball rolling across a white table"
ARGS = dict(num_inference_steps=1, height=40, width=64, num_frames=8, progress=False)


@pytest.fixture(scope="module")
def pipe():
    return DynamiCrafterPipeline(rebuilt_model("512"), device="cpu")


@pytest.fixture(scope="module")
def image():
    return Image.open(fixture_dir("512") / "input.png").convert("RGB")


@pytest.fixture(scope="module")
def base(pipe, image):
    return pipe(image, PROMPT, seed=7, **ARGS)


def _diff(a, b) -> float:
    return float(np.abs(a.frames.astype(int) - b.frames.astype(int)).mean())


def test_video_value_frames_differ_and_same_seed_same_video(pipe, image, base):
    assert base.frames.shape == (8, 40, 64, 3) and base.frames.dtype == np.uint8
    assert base.fps == dynamicrafter.SAVED_FPS == 8  # the official script writes 8 fps whatever the conditioning
    stats = motion_stats(base)
    assert stats["identical_pair_share"] == 0.0 and not stats["static"]
    assert np.array_equal(pipe(image, PROMPT, seed=7, **ARGS).frames, base.frames)
    assert _diff(pipe(image, PROMPT, seed=8, **ARGS), base) > 1.0


@pytest.mark.parametrize("change", [
    {"prompt": "a blue cube sliding to the left"},
    {"image": "flipped"},
    {"frame_stride": 12},  # the variant's fps 24 -> 12
])
def test_prompt_image_and_frame_stride_change_the_video(pipe, image, base, change):
    change = dict(change)
    prompt = change.pop("prompt", PROMPT)
    picture = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if change.pop("image", None) else image
    assert _diff(pipe(picture, prompt, seed=7, **ARGS, **change), base) > 1.0


def test_run_sh_defaults_per_variant():
    assert run_defaults(load_config("dynamicrafter_256_v1.0")) == {
        "frame_stride": 3, "timestep_spacing": "uniform", "guidance_rescale": 0.0}
    for name, fps in (("dynamicrafter_512_v1.0", 24), ("dynamicrafter_1024_v1.0", 10)):
        assert run_defaults(load_config(name)) == {
            "frame_stride": fps, "timestep_spacing": "uniform_trailing", "guidance_rescale": 0.7}
    sizes = {name: load_config(name).default_size for name in BUILTIN if name.startswith("dynamicrafter")}
    assert sizes == {"dynamicrafter_256_v1.0": (256, 256), "dynamicrafter_512_v1.0": (320, 512),
                     "dynamicrafter_1024_v1.0": (576, 1024)}


def test_none_means_the_official_values_and_one_batched_unet_call_per_step(pipe, image, base):
    """Each step: one UNet call on [noisy latent | first-frame latent] (8 channels) with [cond; uncond] contexts,
    conditioned on the config's fps 24 (default_fs); the defaults equal passing the run.sh values."""
    calls = []
    hook = pipe.unet.register_forward_pre_hook(
        lambda m, args: calls.append((tuple(args[0].shape[:2]), args[2].shape[:2], int(args[3]))))
    try:
        explicit = pipe(image, PROMPT, seed=7, frame_stride=24, timestep_spacing="uniform_trailing",
                        guidance_rescale=0.7, **ARGS)
    finally:
        hook.remove()
    assert np.array_equal(explicit.frames, base.frames)
    assert calls == [((1, 8), (2, 77 + 16 * 8), 24)]


def test_output_types_and_guidance_scale_one(pipe, image):
    latents = pipe(image, PROMPT, seed=1, output_type="latent", guidance_scale=1.0, **ARGS)
    assert latents.shape == (1, 4, 8, 20, 32)
    video = pipe(image, PROMPT, seed=1, output_type="pt", guidance_scale=1.0, **ARGS)
    assert video.shape == (1, 3, 8, 40, 64) and video.dtype == torch.float32


def _no_work(pipe, monkeypatch):
    """Make any encoding or sampling fail the test: argument errors must come before them."""
    for name in ("encode_prompt", "encode_image", "encode_latent"):
        monkeypatch.setattr(pipe.model, name, lambda *a, **k: pytest.fail("encoded before checking the arguments"))
    monkeypatch.setattr(pipeline_module, "sample_ddim", lambda *a, **k: pytest.fail("sampled before checking"))


@pytest.mark.parametrize("override, message", [
    ({"frame_stride": 0}, r"frame_stride must be a whole number >= 1 .*\(got 0\)"),
    ({"frame_stride": 2.5}, r"frame_stride must be a whole number"),
    ({"timestep_spacing": "leading"}, r"timestep_spacing must be one of uniform, uniform_trailing \(got 'leading'\)"),
    ({"guidance_rescale": 1.5}, r"guidance_rescale must be a number from 0 to 1 .*\(got 1.5\)"),
    ({"guidance_rescale": float("nan")}, r"guidance_rescale must be .*got nan"),
    ({"num_inference_steps": 1000}, r"num_inference_steps must be a whole number from 1 to 999 \(got 1000\)"),
    ({"num_frames": 0}, r"num_frames must be a whole number >= 1 \(got 0\)"),
    ({"num_frames": 10**6}, r"num_frames x height x width = 1000000 x 40 x 64 = 2560000000 pixels is beyond the "
                            r"limit of 37748736 .*VMEVALKIT_MAX_VIDEO_PIXELS"),
    ({"height": 42}, r"multiples of 4 .*got 42x64"),
    ({"decode_chunk": 0}, r"decode_chunk must be a whole number >= 1"),
    ({"output_type": "gif"}, r"output_type must be one of"),
])
def test_bad_arguments_are_refused_before_any_work(pipe, image, monkeypatch, override, message):
    _no_work(pipe, monkeypatch)
    with pytest.raises(UserError, match=message):
        pipe(image, PROMPT, seed=0, **{**ARGS, **override})


def test_the_first_frame_is_required_and_a_tensor_must_have_the_video_size(pipe, monkeypatch):
    _no_work(pipe, monkeypatch)
    with pytest.raises(UserError, match=r"needs a first frame \(image=...\)"):
        pipe(None, PROMPT, seed=0, **ARGS)
    with pytest.raises(UserError, match=r"an image tensor must have the video size 40x64 .*got 32x32"):
        pipe(torch.zeros(1, 3, 32, 32), PROMPT, seed=0, **ARGS)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, pipe):
    """The 512-style fixture and the VideoCrafter i2v fixture as official model.ckpt files."""
    folder = tmp_path_factory.mktemp("ckpts")
    videocrafter = random_model(load_config(videocrafter_dir("i2v") / "config.yaml"), 1234)
    return {"dc": save_checkpoint(rebuilt_model("512"), folder / "dc.ckpt"),
            "vc": save_checkpoint(videocrafter, folder / "vc.ckpt"), "vc_config": videocrafter_dir("i2v") / "config.yaml"}


def test_a_checkpoint_of_the_other_family_is_refused_naming_its_keys(checkpoints):
    conv = "model.diffusion_model.input_blocks.0.0.weight"
    with pytest.raises(CheckpointError, match=rf"a videocrafter checkpoint \({conv} takes 4 input channels: the "
                                              r"noisy latent only\): load it with VideoCrafterPipeline"):
        DynamiCrafterPipeline.from_pretrained(checkpoints["vc"], device="cpu")
    with pytest.raises(CheckpointError, match=rf"a dynamicrafter checkpoint \({conv} takes 8 input channels.*"
                                              r"load it with DynamiCrafterPipeline"):
        VideoCrafterPipeline.from_pretrained(checkpoints["dc"], device="cpu")
    with pytest.raises(CheckpointError, match=r"(?s)does not match the model built from config .*shape differences.*"
                                              r"image_proj_model\.latents: checkpoint \(1, 128, 24\) vs model "
                                              r"\(1, 16, 24\)") as refused:
        VideoCrafterPipeline.from_pretrained(checkpoints["dc"], config=checkpoints["vc_config"], device="cpu")
    assert "model.diffusion_model.* (1)" in str(refused.value)  # the input conv: 8 channels, not 4
    with pytest.raises(UserError, match="is a dynamicrafter config: run it with DynamiCrafterPipeline"):
        VideoCrafterPipeline.from_pretrained(checkpoints["dc"], config=fixture_dir("512") / "config.yaml",
                                             device="cpu")


def test_the_fixture_checkpoint_loads_with_its_config_chosen_by_hand(checkpoints):
    loaded = DynamiCrafterPipeline.from_pretrained(checkpoints["dc"], config=fixture_dir("512") / "config.yaml",
                                                   device="cpu")
    assert loaded.config.family == "dynamicrafter" and loaded.describe()["checkpoint"].endswith("dc.ckpt")
    assert sampling_args("512")["default_fs"] == loaded.config.unet.default_fs == 24
