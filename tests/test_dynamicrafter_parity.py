"""Numerical parity with golden tensors made by the official DynamiCrafter code on tiny random models: the
256 variant (eps, frame stride, learnable image-attention scales, 'uniform' timesteps, batched VAE) and the
512 variant (v-prediction, zero-SNR, dynamic rescale, guidance rescale, 'uniform_trailing', per-frame VAE).

Tolerances (relative max error, max|a-b| / max|b|): 1e-5 for single calls, 1e-4 for sampled latents and
decoded videos, in float32 on the CPU."""

import pytest
import torch
from conftest import SHARED
from dynamicrafter_fixtures import (  # noqa: F401 (one_thread: an autouse fixture)
    VARIANTS, fixture_dir, golden, one_thread, rebuilt_model, sampling_args, save_checkpoint)
from PIL import Image

from vmevalkit.models.lvdm.dynamicrafter import DynamiCrafterPipeline
from vmevalkit.models.lvdm.encoders import clip_preprocess
from vmevalkit.models.lvdm.latent_diffusion import DERIVED_BUFFERS
from vmevalkit.models.lvdm.sampling import guided, sample_ddim

SINGLE, SAMPLED = 1e-5, 1e-4


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


@pytest.fixture(scope="module", params=VARIANTS)
def case(request, tmp_path_factory):
    """The pipeline loaded strictly from the fixture's model.ckpt (../shared's, else the rebuilt one) and YAML."""
    variant = request.param
    ckpt = SHARED / "fixtures" / f"dynamicrafter-{variant}-tiny" / "model.ckpt"
    if not ckpt.is_file():
        ckpt = save_checkpoint(rebuilt_model(variant), tmp_path_factory.mktemp(variant) / "model.ckpt")
    pipe = DynamiCrafterPipeline.from_pretrained(ckpt, config=fixture_dir(variant) / "config.yaml", device="cpu")
    args = sampling_args(variant)
    g = golden(variant)
    g["c_crossattn"] = torch.cat([g["text_emb"], g["image_emb"]], dim=1)  # the official cond and uncond contexts
    g["uc_crossattn"] = torch.cat([g["text_emb_uncond"], g["image_emb_uncond"]], dim=1)
    return variant, pipe, g, args


@pytest.mark.parametrize("variant", VARIANTS)
def test_rebuilt_weights_equal_the_official_checkpoint(variant):
    ckpt = SHARED / "fixtures" / f"dynamicrafter-{variant}-tiny" / "model.ckpt"
    if not ckpt.is_file():
        pytest.skip("../shared/fixtures is not present")
    official = torch.load(ckpt, weights_only=True)["state_dict"]
    rebuilt = rebuilt_model(variant).state_dict()
    assert set(official) - set(rebuilt) <= DERIVED_BUFFERS
    assert all(torch.equal(rebuilt[k], official[k]) for k in rebuilt)


def test_schedule_buffers(case):
    variant, pipe, g, _ = case
    assert torch.equal(pipe.model.alphas_cumprod, g["alphas_cumprod"])
    if variant == "512":  # zero terminal SNR and the dynamic rescale array
        assert pipe.model.alphas_cumprod[-1] == 0 and torch.equal(pipe.model.scale_arr, g["scale_arr"])
    else:
        assert not hasattr(pipe.model, "scale_arr")


def test_image_loading_matches_the_official_loader(case):
    """Resize(min(H, W)) + CenterCrop: the video-size png, a 420x300 one (crop), and it at the real size."""
    variant, pipe, g, args = case
    d, h, w = fixture_dir(variant), args["video"]["height"], args["video"]["width"]
    assert torch.equal(pipe.prepare_image(Image.open(d / "input.png"), h, w), g["cond_image"])
    assert torch.equal(pipe.prepare_image(Image.open(d / "input_large.png"), h, w), g["resize_test_frame"][None])
    u8 = g["clip_downscale_input_u8"]
    big = pipe.prepare_image(Image.open(d / "input_large.png"), *u8.shape[-2:])
    assert torch.equal(big, (u8.float() / 255 - 0.5) / 0.5)
    assert rel(clip_preprocess(big), g["clip_downscale_pixels"]) <= SINGLE


def test_text_and_image_embeddings(case):
    variant, pipe, g, args = case
    assert torch.equal(pipe.model.cond_stage_model.tokenize([args["prompt"]]), g["text_tokens"])
    assert rel(pipe.encode_prompt(args["prompt"]), g["text_emb"]) <= SINGLE
    assert rel(pipe.encode_prompt(""), g["text_emb_uncond"]) <= SINGLE
    with torch.inference_mode():
        assert rel(pipe.model.embedder(clip_preprocess(g["cond_image"])), g["image_tokens"]) <= SINGLE
    emb = pipe.encode_image(g["cond_image"])
    assert emb.shape == (1, 16 * args["video"]["frames"], 16) and rel(emb, g["image_emb"]) <= SINGLE
    assert rel(pipe._unconditional(1), g["uc_crossattn"]) <= SINGLE  # "" and the zero (mid-grey) image


def test_the_conditioning_latent_is_the_official_posterior_draw(case):
    """VAE posterior, the posterior noise drawn as the official code draws it (per frame for 512, one batch
    for 256) from the seeded CPU generator, and the latent repeated over the frames."""
    variant, pipe, g, args = case
    h, w, frames = args["video"]["height"], args["video"]["width"], args["video"]["frames"]
    with torch.inference_mode():
        mean, logvar = pipe.vae.encode(g["cond_image"])
        assert rel(mean, g["vae_posterior_mean"]) <= SINGLE and rel(logvar, g["vae_posterior_logvar"]) <= SINGLE
        seed = args["seeds"]["run_global_seed"]
        noise = pipe.posterior_noise(1, frames, h, w, torch.Generator().manual_seed(seed))
        assert torch.equal(noise, g["concat_encode_noise"][:1])
        concat = pipe.encode_first_frame(g["cond_image"], frames, generator=torch.Generator().manual_seed(seed),
                                         height=h, width=w)
        assert concat.shape == g["img_cat_cond"].shape and rel(concat, g["img_cat_cond"]) <= SINGLE
        assert rel(pipe.model.decode(concat[:, :, :1]), g["latent_z_frame0_decoded"][:, :, None]) <= SINGLE


@pytest.mark.parametrize("t", [999, 500, 1])
def test_unet_calls_with_the_concatenated_latent(case, t):
    variant, pipe, g, _ = case
    unet = pipe._unet_fn(g["img_cat_cond"])
    with torch.inference_mode():
        for branch, ctx in (("cond", "c_crossattn"), ("uncond", "uc_crossattn")):
            assert rel(unet(g["unet_x"], torch.tensor([t]), g[ctx], g["fs"]), g[f"unet_{branch}_t{t}"]) <= SINGLE


def test_unet_frame_stride_image_tokens_per_frame_and_batch(case):
    variant, pipe, g, _ = case
    unet, t = pipe._unet_fn(g["img_cat_cond"]), torch.tensor([500])
    with torch.inference_mode():
        assert rel(unet(g["unet_x"], t, g["c_crossattn"], g["unet_fs_alt"]), g["unet_cond_tmid_fs_alt"]) <= SINGLE
        x = torch.cat([g["unet_x"], g["img_cat_cond"]], dim=1)
        assert rel(pipe.unet(x, t, g["c_crossattn"]), g["unet_cond_tmid_fs_none"]) <= SINGLE  # default_fs
        mixed = torch.cat([g["text_emb"], g["image_emb_uncond"]], dim=1)
        assert rel(unet(g["unet_x"], t, mixed, g["fs"]), g["unet_cond_tmid_text_cond_image_uncond"]) <= SINGLE
        fewer = pipe._unet_fn(g["img_cat_cond"][:, :, :6])(g["unet_x"][:, :, :6], t, g["c_crossattn"], g["fs"])
        assert rel(fewer, g["unet_cond_tmid_fewer_frames"]) <= SINGLE  # every frame sees all image tokens
        x2 = torch.cat([g["unet_batch2_x"], g["unet_batch2_c_concat"]], dim=1)
        out = pipe.unet(x2, g["unet_batch2_t"], torch.cat([g["c_crossattn"], g["uc_crossattn"]]), g["unet_batch2_fs"])
        assert rel(out, g["unet_batch2_out"]) <= SINGLE


def test_guidance_in_one_call_with_guidance_rescale(case):
    """One UNet call on the shared latents gives both official branches; then cfg (+ rescale 0.7 for 512)."""
    variant, pipe, g, args = case
    t = torch.tensor([int(g["ddim_timesteps"][-1])])
    with torch.inference_mode():
        both = pipe._unet_fn(g["img_cat_cond"])(g["ddim_x_T"], t, torch.cat([g["c_crossattn"], g["uc_crossattn"]]),
                                                g["fs"])
        assert rel(both[:1], g["ddim_step0_unet_cond"]) <= SINGLE and rel(both[1:], g["ddim_step0_unet_uncond"]) <= SINGLE
        if variant == "512":
            model = guided(pipe._unet_fn(g["img_cat_cond"]), g["c_crossattn"], g["uc_crossattn"], 7.5, 0.7, fps=g["fs"])
            assert rel(model(g["ddim_x_T"], t), g["ddim_step0_guided_rescaled"]) <= SAMPLED  # 7.5 x two calls


def test_schedules_for_every_recorded_step_count(case):
    """Timesteps and alphas exactly; sigmas to 1e-5 (the official code computes them in float64 from the float32
    alphas, except for 1 step, where its alphas_prev array is float32 and so is the arithmetic)."""
    variant, pipe, g, args = case
    spacing = args["ddim"]["timestep_spacing"]
    counts = sorted({int(k.split("_")[1][1:]) for k in g if k.startswith("schedule_S")})
    for steps in counts:
        ts, sigmas = g[f"schedule_S{steps}_timesteps"], g[f"schedule_S{steps}_sigmas_eta1"]
        if spacing == "uniform_trailing" and ts[0] < 0:  # the official -1 step (S = 61) is dropped here
            ts, sigmas = ts[1:], sigmas[2:]  # and the step after it, whose a_prev was alphas_cumprod[-1]
            schedule = pipe.schedule(steps, 1.0, spacing)
            assert len(schedule) == steps and torch.isfinite(schedule.sigmas).all()
            assert torch.equal(schedule.timesteps.flip(0), ts)
            assert torch.allclose(schedule.sigmas.flip(0)[1:].double(), sigmas.double(), rtol=1e-5, atol=0)
            continue
        schedule = pipe.schedule(steps, 1.0, spacing)
        assert torch.equal(schedule.timesteps.flip(0), ts)
        assert torch.equal(schedule.alphas.flip(0), g[f"schedule_S{steps}_alphas"].float())
        assert torch.equal(schedule.alphas_prev.flip(0), g[f"schedule_S{steps}_alphas_prev"].float())
        assert torch.allclose(schedule.sigmas.flip(0).double(), sigmas.double(), rtol=1e-5, atol=0)


def test_every_ddim_step_from_the_given_x_T(case):
    variant, pipe, g, args = case
    steps, spacing, rescale = (args["ddim"][k] for k in ("steps", "timestep_spacing", "guidance_rescale"))
    schedule = pipe.schedule(steps, 0.0, spacing)
    assert torch.equal(schedule.timesteps.flip(0), g["ddim_timesteps"])
    assert torch.equal(schedule.alphas.flip(0), g["ddim_alphas"])
    model = guided(pipe._unet_fn(g["img_cat_cond"]), g["c_crossattn"], g["uc_crossattn"], 7.5, rescale, fps=g["fs"])
    recorded = []
    with torch.inference_mode():
        out = sample_ddim(model, g["ddim_x_T"], schedule, callback=recorded.append, disable=True)
        video = pipe.model.decode(out, chunk=1 if variant == "512" else 8)
    assert len(recorded) == len(g["ddim_timesteps"])
    for s in recorded:
        assert rel(s["pred_x0"], g[f"ddim_step{s['i']}_pred_x0"]) <= SAMPLED
        assert rel(s["x"], g[f"ddim_step{s['i']}_x_prev"]) <= SAMPLED
        if f"ddim_step{s['i']}_e_t" in g:  # v-prediction's eps
            assert rel(s["eps"], g[f"ddim_step{s['i']}_e_t"]) <= SAMPLED
    assert rel(out, g["ddim_samples"]) <= SAMPLED and rel(video, g["video"]) <= SAMPLED


@pytest.mark.slow
def test_eta1_run_replayed_with_the_recorded_noise(case):
    """The sampler alone with the official step noise (the seeded pipeline run below covers it by default)."""
    variant, pipe, g, args = case
    steps, spacing, rescale = (args["ddim"][k] for k in ("steps", "timestep_spacing", "guidance_rescale"))
    schedule = pipe.schedule(steps, 1.0, spacing)
    noises = iter(g[f"eta_run_step{i}_noise"] for i in range(len(schedule)))
    model = guided(pipe._unet_fn(g["img_cat_cond"]), g["c_crossattn"], g["uc_crossattn"], 7.5, rescale, fps=g["fs"])
    with torch.inference_mode():
        out = sample_ddim(model, g["ddim_x_T"], schedule, noise=lambda x: next(noises), disable=True)
        assert rel(out, g["eta_run_samples"]) <= SAMPLED
        assert rel(pipe.model.decode(out), g["eta_run_video"]) <= SAMPLED


def test_the_seeded_random_stream_is_the_official_one(case):
    """seed=N: the posterior draws of the conditioning latent, then x_T, then one draw per step, as the official
    script draws them after torch.manual_seed(N); the eta = 1 sigmas."""
    variant, pipe, g, args = case
    steps, spacing = args["ddim"]["steps"], args["ddim"]["timestep_spacing"]
    video = args["video"]
    schedule = pipe.schedule(steps, 1.0, spacing)
    assert torch.allclose(schedule.sigmas.flip(0).double(), g["eta_run_ddim_sigmas"], rtol=1e-6, atol=0)
    on_cpu, on_device = pipe._generators(args["seeds"]["run_global_seed"], None)
    noise = pipe.posterior_noise(1, video["frames"], video["height"], video["width"], on_cpu)
    assert torch.equal(noise, g["concat_encode_noise"][:1])
    assert torch.equal(pipe._initial_latents(None, tuple(g["ddim_x_T"].shape), on_device), g["ddim_x_T"])
    for i in range(len(schedule)):
        assert torch.equal(torch.randn(g["ddim_x_T"].shape, generator=on_device), g[f"eta_run_step{i}_noise"])


def test_pipeline_call_from_the_seed_matches_the_official_run(case):
    """From the image file, the prompt and the official seed, with the variant's run.sh defaults for the
    frame stride, spacing and guidance rescale: the official eta = 1 run's latents and video."""
    variant, pipe, g, args = case
    video, last = args["video"], []
    out = pipe(Image.open(fixture_dir(variant) / "input.png"), args["prompt"], eta=1.0,
               num_inference_steps=args["ddim"]["steps"], guidance_scale=7.5, height=video["height"],
               width=video["width"], num_frames=video["frames"], seed=args["seeds"]["run_global_seed"],
               output_type="pt", progress=False, callback=last.append)
    assert rel(last[-1]["x"], g["eta_run_samples"]) <= SAMPLED
    assert out.shape == g["eta_run_video"].shape and rel(out, g["eta_run_video"]) <= SAMPLED
