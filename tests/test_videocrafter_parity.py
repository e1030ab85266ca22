"""Numerical parity with golden tensors made by the official VideoCrafter code on tiny random models.

Tolerances (relative max error, max|a-b| / max|b|): 1e-5 for single calls, 1e-4 for sampled latents
and decoded videos, in float32 on the CPU."""

import json

import pytest
import torch
from conftest import SHARED, fixture_dir
from PIL import Image
from safetensors.torch import load_file

from vmevalkit.models.lvdm import attention
from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.encoders import clip_preprocess
from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline
from vmevalkit.models.lvdm.random_weights import random_model
from vmevalkit.models.lvdm.sampling import guided, sample_ddim

SINGLE, SAMPLED = 1e-5, 1e-4
KINDS = ["i2v", "t2v"]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


@pytest.fixture(scope="module", params=KINDS)
def case(request, fixture_checkpoint):
    kind = request.param
    d = fixture_dir(kind)
    torch.set_num_threads(2)
    pipe = VideoCrafterPipeline.from_pretrained(fixture_checkpoint(kind), config=d / "config.yaml", device="cpu")
    args = json.loads((d / "sampling_args.json").read_text())
    return kind, pipe, load_file(str(d / "golden.safetensors")), args, d


def test_rebuilt_weights_equal_the_official_checkpoint():
    for kind in KINDS:
        ckpt = SHARED / "fixtures" / f"videocrafter-{kind}-tiny" / "model.ckpt"
        if not ckpt.is_file():
            pytest.skip("../shared/fixtures is not present")
        official = torch.load(ckpt, weights_only=True)["state_dict"]
        seed = json.loads((fixture_dir(kind) / "sampling_args.json").read_text())["seed"]
        rebuilt = random_model(load_config(fixture_dir(kind) / "config.yaml"), seed).state_dict()
        assert set(rebuilt) <= set(official)
        assert all(torch.equal(rebuilt[k], official[k]) for k in rebuilt)


def test_text_embeddings(case):
    kind, pipe, g, args, _ = case
    assert torch.equal(pipe.model.cond_stage_model.tokenize([args["prompt"]]), g["text_tokens"])
    assert rel(pipe.encode_prompt([args["prompt"]]), g["text_emb"]) <= SINGLE
    assert rel(pipe.encode_prompt([""]), g["text_emb_uncond"]) <= SINGLE


def test_image_loading_matches_the_official_loader(case):
    kind, pipe, g, args, d = case
    h, w = args["video"]["height"], args["video"]["width"]
    assert rel(pipe.prepare_image(Image.open(d / "input.png"), h, w), g["cond_image"]) <= SINGLE
    assert rel(pipe.prepare_image(Image.open(d / "input_large.png"), h, w), g["resize_test_image"]) <= SINGLE


def test_image_embeddings(case):
    kind, pipe, g, args, d = case
    if kind != "i2v":
        pytest.skip("text-to-video has no image encoder")
    large = pipe.prepare_image(Image.open(d / "input_large.png"), 320, 512)  # the real i2v size: blur path
    assert rel(clip_preprocess(large), g["clip_downscale_pixels"]) <= SINGLE
    with torch.inference_mode():
        assert rel(pipe.model.embedder(clip_preprocess(g["cond_image"])), g["image_tokens"]) <= SINGLE
    assert rel(pipe.encode_image(g["cond_image"]), g["image_emb"]) <= SINGLE
    assert rel(pipe._unconditional(1)[:, 77:], g["image_emb_uncond"]) <= SINGLE  # the zero (mid-grey) image
    assert rel(pipe._unconditional(1)[:, :77], g["text_emb_uncond"]) <= SINGLE


@pytest.mark.parametrize("t", [999, 500, 1])
def test_unet_calls(case, t):
    kind, pipe, g, args, _ = case
    with torch.inference_mode():
        for branch, ctx in (("cond", "c_crossattn"), ("uncond", "uc_crossattn")):
            eps = pipe.unet(g["unet_x"], torch.tensor([t]), g[ctx], g["fps"])
            assert rel(eps, g[f"eps_{branch}_t{t}"]) <= SINGLE


def test_unet_with_the_cpu_feed_forward_in_row_blocks(case, monkeypatch):
    """The fixtures are too small for the CPU row blocks: force small ones, compare with the official UNet."""
    kind, pipe, g, args, _ = case
    monkeypatch.setattr(attention, "CPU_BLOCK_BYTES", 4096)
    blocks = []
    feed_forwards = [m for m in pipe.unet.modules() if isinstance(m, attention.FeedForward)]
    for ff in feed_forwards:
        geglu = ff.net[0]
        monkeypatch.setattr(geglu, "forward", lambda x, module=geglu: blocks.append(1) or type(module).forward(module, x))
    with torch.inference_mode():
        eps = pipe.unet(g["unet_x"], torch.tensor([500]), g["c_crossattn"], g["fps"])
    assert rel(eps, g["eps_cond_t500"]) <= SINGLE
    assert len(blocks) > 2 * len(feed_forwards)  # the blocks did run


def test_unet_fps_batch_and_image_attention(case):
    kind, pipe, g, args, _ = case
    fps = args["fps"]
    with torch.inference_mode():
        assert rel(pipe.unet(g["unet_x"], torch.tensor([500]), g["c_crossattn"], fps), g["eps_cond_t500_fps_int"]) <= SINGLE
        fps2 = "eps_cond_t500_fps16" if kind == "i2v" else "eps_cond_t500_fps56"
        eps = pipe.unet(g["unet_x"], torch.tensor([500]), g["c_crossattn"], torch.tensor([2 * fps]))
        assert rel(eps, g[fps2]) <= SINGLE
        ctx = torch.cat([g["c_crossattn"], g["uc_crossattn"]])
        eps = pipe.unet(g["unet_batch2_x"], g["unet_batch2_t"], ctx, g["unet_batch2_fps"])
        assert rel(eps, g["unet_batch2_eps"]) <= SINGLE
        if kind == "i2v":
            mixed = torch.cat([g["text_emb"], g["image_emb_uncond"]], dim=1)
            eps = pipe.unet(g["unet_x"], torch.tensor([500]), mixed, g["fps"])
            assert rel(eps, g["eps_t500_text_cond_image_uncond"]) <= SINGLE


def test_every_ddim_step_from_the_given_x_T(case):
    kind, pipe, g, args, _ = case
    assert torch.equal(pipe.schedule(5, 0.0).timesteps.flip(0), g["ddim_timesteps"])
    steps = []
    eps = guided(pipe._unet_fn(), g["c_crossattn"], g["uc_crossattn"], 12.0, fps=g["fps"])
    with torch.inference_mode():
        out = sample_ddim(eps, g["ddim_x_T"], pipe.schedule(5, 0.0), callback=steps.append, disable=True)
        video = pipe.model.decode(out)
    assert len(steps) == 5
    for s in steps:
        assert rel(s["pred_x0"], g[f"ddim_step{s['i']}_pred_x0"]) <= SAMPLED
        assert rel(s["x"], g[f"ddim_step{s['i']}_x_prev"]) <= SAMPLED
    assert rel(out, g["ddim_samples"]) <= SAMPLED
    assert rel(video, g["video"]) <= SAMPLED


def test_eta1_run_replayed_with_the_recorded_noise(case):
    kind, pipe, g, args, _ = case
    noises = iter(g[f"eta1_step{i}_noise"] for i in range(5))
    eps = guided(pipe._unet_fn(), g["c_crossattn"], g["uc_crossattn"], 12.0, fps=g["fps"])
    with torch.inference_mode():
        out = sample_ddim(eps, g["eta1_x_T"], pipe.schedule(5, 1.0), noise=lambda x: next(noises), disable=True)
        assert rel(out, g["eta1_samples"]) <= SAMPLED
        assert rel(pipe.model.decode(out), g["eta1_video"]) <= SAMPLED


def test_pipeline_call_matches_the_official_run(case):
    """The whole pipeline: from the image file and prompt, with x_T given (eta 0), and from a seed (eta 1):
    our seeded generator draws x_T and the per-step noise in the same order as the official global RNG."""
    kind, pipe, g, args, d = case
    h, w = args["video"]["height"], args["video"]["width"]
    image = Image.open(d / "input.png") if kind == "i2v" else None
    common = dict(num_inference_steps=5, guidance_scale=12.0, fps=args["fps"], height=h, width=w,
                  output_type="pt", progress=False)
    video = pipe(image, args["prompt"], eta=0.0, latents=g["ddim_x_T"], **common)
    assert video.shape == g["video"].shape and rel(video, g["video"]) <= SAMPLED
    video = pipe(image, args["prompt"], eta=1.0, seed=args["seeds"]["eta1_global_seed"], **common)
    assert rel(video, g["eta1_video"]) <= SAMPLED


def test_vae_encode_decode(case):
    kind, pipe, g, args, _ = case
    with torch.inference_mode():
        mean, logvar = pipe.vae.encode(g["cond_image"])
        assert rel(mean, g["vae_posterior_mean"]) <= SINGLE
        assert rel(logvar, g["vae_posterior_logvar"]) <= SINGLE
        assert rel(pipe.vae.decode(g["image_latent"] / 0.18215), g["image_latent_decoded"]) <= SINGLE
        assert rel(pipe.model.decode(g["ddim_samples"]), g["video"]) <= SINGLE


def test_guidance_call_on_shared_latents_matches_two_official_calls(case):
    """One UNet call with the latents once and the contexts [cond; uncond] gives both official outputs."""
    kind, pipe, g, args, _ = case
    with torch.inference_mode():
        both = pipe.unet(g["unet_x"], torch.tensor([500]), torch.cat([g["c_crossattn"], g["uc_crossattn"]]), g["fps"])
    assert both.shape[0] == 2
    assert rel(both[:1], g["eps_cond_t500"]) <= SINGLE and rel(both[1:], g["eps_uncond_t500"]) <= SINGLE
