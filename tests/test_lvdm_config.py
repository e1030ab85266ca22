"""Reading LVDM configs: the built-in copies of the official YAMLs, the official class defaults for what a
YAML leaves out, refusals of what the engine does not implement, and the config a checkpoint points to."""

import pytest
import torch
import yaml
from conftest import fixture_dir as videocrafter_dir
from dynamicrafter_fixtures import fixture_dir

from vmevalkit.errors import UserError
from vmevalkit.models.lvdm.config import BUILTIN, INPUT_CONV, builtin_for_checkpoint, load_config


def _write(tmp_path, source, edit):
    """A copy of the YAML at `source` with `edit(model_params)` applied."""
    raw = yaml.safe_load(source.read_text())
    edit(raw["model"]["params"])
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_official_dynamicrafter_configs():
    c256, c512, c1024 = (load_config(f"dynamicrafter_{v}_v1.0") for v in (256, 512, 1024))
    assert {c.family for c in (c256, c512, c1024)} == {"dynamicrafter"} and all(c.hybrid for c in (c256, c512, c1024))
    assert (c256.diffusion.parameterization, c256.diffusion.zero_snr, c256.diffusion.rescale) == ("eps", False, None)
    assert c256.unet.image_attention_scale_learnable and not c512.unet.image_attention_scale_learnable
    assert (c256.unet.default_fs, c512.unet.default_fs, c1024.unet.default_fs) == (3, 24, 10)
    assert (c512.diffusion.parameterization, c512.diffusion.zero_snr, c512.diffusion.rescale) == ("v", True, "dynamic")
    assert (c512.diffusion.scale_b, c1024.diffusion.scale_b) == (0.7, 0.3)
    assert (c256.perframe_ae, c512.perframe_ae, c1024.perframe_ae) == (False, True, True)
    assert c512.unet.in_channels == 8 and c512.resampler.tokens == 16 * 16 and c512.resampler.dim == 1280
    assert c512.text_clip["text_cfg"]["width"] == 1024 and c512.unet.fps_cond
    assert load_config("i2v_512_v1.0").family == load_config("t2v_512_v2.0").family == "videocrafter"


def test_keys_a_yaml_leaves_out_take_the_official_class_defaults(tmp_path):
    """VideoCrafter's LatentDiffusion: use_scale False, scale_b 0.3, scale_factor 1.0, betas 1e-4 .. 2e-2."""
    def strip(params):
        for key in ("use_scale", "scale_b", "scale_factor", "linear_start", "linear_end"):
            del params[key]

    cfg = load_config(_write(tmp_path, videocrafter_dir("i2v") / "config.yaml", strip))
    d = cfg.diffusion
    assert (d.rescale, d.scale_b, d.scale_factor, d.linear_start, d.linear_end) == (None, 0.3, 1.0, 1e-4, 2e-2)
    dc = load_config(_write(tmp_path, fixture_dir("512") / "config.yaml",
                            lambda p: [p.pop(k) for k in ("base_scale", "perframe_ae", "parameterization")]))
    assert (dc.diffusion.scale_b, dc.perframe_ae, dc.diffusion.parameterization) == (0.7, False, "eps")
    dc = load_config(_write(tmp_path, fixture_dir("256") / "config.yaml",
                            lambda p: p["unet_config"]["params"].pop("default_fs")))
    assert dc.unet.default_fs == 4  # DynamiCrafter's UNetModel(default_fs=4)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["unet_config"]["params"].pop("use_relative_position"),
     r"use_relative_position=True \(the official default when the key is absent\) is not implemented"),
    (lambda p: p["unet_config"]["params"].pop("use_linear"), r"use_linear=False \(the official default"),
    (lambda p: p.update(parameterization="x0"), r"parameterization='x0' is not implemented.*'eps' or 'v'"),
    (lambda p: p.update(uncond_type="zero_embed"), r"uncond_type='zero_embed' is not implemented"),
    (lambda p: p.update(use_scale=True), r"model.params.use_scale: not an option of the official class; remove it"),
    (lambda p: p["unet_config"]["params"].update(fps_cond=True), r"unet_config.params.fps_cond: not an option"),
    (lambda p: p["unet_config"]["params"].pop("model_channels"), r"missing model_channels"),
    (lambda p: p["unet_config"]["params"].update(in_channels=4), r"in_channels=4 does not fit conditioning_key "
                                                                 r"'hybrid' \(expected 8"),
    (lambda p: p["image_proj_stage_config"].update(target="x.Resampler"), r"target 'x.Resampler' is not supported"),
    (lambda p: p["first_stage_config"]["params"]["ddconfig"].update(attn_resolutions=[16]),
     r"attn_resolutions=\[16\] is not implemented"),
])
def test_what_the_engine_does_not_implement_is_refused(tmp_path, edit, message):
    with pytest.raises(UserError, match=message):
        load_config(_write(tmp_path, fixture_dir("512") / "config.yaml", edit))


def test_the_videocrafter_family_has_its_own_options(tmp_path):
    with pytest.raises(UserError, match=r"rescale_betas_zero_snr: not an option of the official class"):
        load_config(_write(tmp_path, videocrafter_dir("i2v") / "config.yaml",
                           lambda p: p.update(rescale_betas_zero_snr=True)))


def _state(channels=8, alpha=False, scale_end=None, image=True):
    state = {INPUT_CONV: torch.empty(320, channels, 3, 3, device="meta")}
    if image:
        state["image_proj_model.latents"] = torch.empty(1, 16, 1024, device="meta")
    if alpha:
        state["model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.alpha"] = torch.zeros(())
    if scale_end is not None:
        state["scale_arr"] = torch.tensor([1.0, scale_end])
    return state


@pytest.mark.parametrize("state, name", [
    (_state(image=False), "t2v_512_v2.0"), (_state(channels=4), "i2v_512_v1.0"),
    (_state(alpha=True), "dynamicrafter_256_v1.0"), (_state(scale_end=0.7), "dynamicrafter_512_v1.0"),
    (_state(scale_end=0.3), "dynamicrafter_1024_v1.0"),
])
def test_the_built_in_config_a_checkpoint_points_to(state, name):
    chosen, evidence = builtin_for_checkpoint(state)
    assert chosen == name and chosen in BUILTIN and evidence
