"""The table of diffusers families: which pipeline, how the first frame and prompt are passed, the official
defaults, and the size and frame-count rules checked before anything is loaded.

A family is one row: a diffusers pipeline class (and, where one class serves several model generations, a test
on the folder's model_index.json). Settings keep the kit's names (`steps`, `guidance`, `frames`, `fps`,
`height`, `width`, `negative_prompt`); `arguments` maps each to the pipeline's own argument. Family knobs keep
the pipeline's names (`motion_bucket_id`, `guidance_scale_2`, `decode_timestep`, ...). Every family also has
the memory settings of `MEMORY_DEFAULTS`. Nothing here imports torch or diffusers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Memory and speed settings every family has (issue 10 item 5). dtype "auto": bfloat16 on CUDA, float32 on CPU.
MEMORY_DEFAULTS: dict[str, Any] = {"dtype": "auto", "offload": "none", "vae_tiling": False, "vae_slicing": False}
DTYPE_CHOICES = ("auto", "float32", "float16", "bfloat16")
OFFLOAD_CHOICES = ("none", "model", "sequential")

# The kit's setting names and the pipeline argument most families use for each.
COMMON_ARGUMENTS = {"steps": "num_inference_steps", "guidance": "guidance_scale", "frames": "num_frames",
                    "height": "height", "width": "width", "negative_prompt": "negative_prompt"}

# Official negative prompts, from the pipelines' documented examples (diffusers docs).
WAN_NEGATIVE = ("Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, "
                "static, overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra "
                "fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused "
                "fingers, still picture, messy background, three legs, many people in the background, walking "
                "backwards")
LTX_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"
SANA_NEGATIVE = ("A chaotic sequence with misshapen, deformed limbs in heavy motion blur, sudden disappearance, jump "
                 "cuts, jerky movements, rapid shot changes, frames out of sync, inconsistent character shapes, "
                 "temporal artifacts, jitter, and ghosting effects, creating a disorienting visual experience.")


ReadJson = Callable[[str], "dict[str, Any] | None"]  # a path inside the checkpoint -> its JSON object, or None


def _cogvideox_facts(read_json: ReadJson) -> dict[str, Any]:
    """CogVideoX 1.0's learned position embeddings fix the size: the transformer's sample size times the VAE's."""
    transformer, vae = read_json("transformer/config.json") or {}, read_json("vae/config.json") or {}
    if not transformer.get("use_learned_positional_embeddings"):
        return {}
    scale = 2 ** (len(vae.get("block_out_channels", (0, 0, 0, 0))) - 1)
    return {"fixed_size": [transformer.get("sample_height", 60) * scale, transformer.get("sample_width", 90) * scale]}


def _hunyuan15_facts(read_json: ReadJson) -> dict[str, Any]:
    """HunyuanVideo 1.5 picks its size among buckets around the transformer's target_size."""
    return {"bucket_size": (read_json("transformer/config.json") or {}).get("target_size", 640)}


@dataclass(frozen=True)
class Family:
    """One row of the table. `defaults` are the kit settings of the family's reference model (a built-in id may
    override some, e.g. a 720p variant); `size_multiple` and `frames_step` are the rules (height and width
    multiples of `size_multiple`; frames = `frames_step`·k + 1), checked by `rules.check_settings`."""

    name: str
    title: str
    pipeline: str  # the diffusers class that loads and runs it
    since: str  # the first diffusers release with everything this family uses
    defaults: Mapping[str, Any]
    size_multiple: int
    frames_step: int
    size_reason: str  # why the multiple: named in the error message
    sees: tuple[str, ...] = ("image", "prompt")
    arguments: Mapping[str, str] = field(default_factory=lambda: dict(COMMON_ARGUMENTS))
    pipelines: tuple[str, ...] = ()  # model_index `_class_name`s it accepts besides `pipeline`
    matches: Callable[[Mapping[str, Any]], bool] = lambda model_index: True  # tells rows of one class apart
    fp32_components: tuple[str, ...] = ()  # kept in float32 whatever the dtype, as the official example does
    call_extras: Mapping[str, Any] = field(default_factory=dict)  # arguments always passed, from the example
    config_knobs: tuple[str, ...] = ()  # knobs set on the pipeline's config at load, not passed per call
    scheduler_knobs: tuple[str, ...] = ()  # knobs that rebuild the scheduler from its config at load
    guider_guidance: bool = False  # guidance lives in the pipeline's guider, not in a call argument
    read_facts: Callable[[ReadJson], dict[str, Any]] = lambda read_json: {}  # what the checkpoint's configs fix
    note: str = ""  # for tables: what the model sees or drops

    @property
    def knobs(self) -> list[str]:
        """The family's own settings: every default that is neither a kit name nor a memory setting."""
        return [k for k in self.defaults if k not in COMMON_ARGUMENTS and k not in ("fps", *MEMORY_DEFAULTS)]


def _defaults(**values: Any) -> dict[str, Any]:
    return {**values, **MEMORY_DEFAULTS}


def _without(mapping: Mapping[str, str], *keys: str, **extra: str) -> dict[str, str]:
    return {**{k: v for k, v in mapping.items() if k not in keys}, **extra}


def _has(component: str) -> Callable[[Mapping[str, Any]], bool]:
    """True when model_index.json lists `component` with a class (not [null, null])."""
    return lambda index: bool(index.get(component)) and index[component][0] is not None


FAMILIES: tuple[Family, ...] = (
    # stabilityai/stable-video-diffusion-img2vid-xt model card and the pipeline's doc example: 25 frames at
    # 576x1024, 25 steps, guidance 1.0 -> 3.0 over the frames, fps 7, motion bucket 127, noise aug 0.02.
    Family(
        name="svd", title="Stable Video Diffusion", pipeline="StableVideoDiffusionPipeline", since="0.24.0",
        defaults=_defaults(steps=25, guidance=3.0, frames=25, fps=7, height=576, width=1024, min_guidance_scale=1.0,
                           motion_bucket_id=127, noise_aug_strength=0.02, decode_chunk_size=8),
        arguments=_without(COMMON_ARGUMENTS, "negative_prompt", guidance="max_guidance_scale", fps="fps"),
        size_multiple=8, frames_step=1, size_reason="the VAE downsamples by 8", sees=("image",),
        note="ignores the prompt: image only"),
    # Wan-AI/Wan2.1-I2V-14B-480P-Diffusers, WanImageToVideoPipeline doc example: 480x832 (max area 480*832),
    # 81 frames, guidance 5.0, 50 steps (the pipeline's default), exported at 16 fps; VAE and image encoder float32.
    Family(
        name="wan-2.1-i2v", title="Wan 2.1 image-to-video", pipeline="WanImageToVideoPipeline", since="0.33.0",
        defaults=_defaults(steps=50, guidance=5.0, frames=81, fps=16, height=480, width=832,
                           negative_prompt=WAN_NEGATIVE),
        size_multiple=16, frames_step=4, size_reason="the VAE's 8 times the transformer's patch of 2",
        matches=lambda index: not _has("transformer_2")(index) and not index.get("expand_timesteps"),
        fp32_components=("vae", "image_encoder")),
    # Wan-AI/Wan2.2-I2V-A14B-Diffusers model card: 480x832 (or 720p), 81 frames, 40 steps, guidance 3.5 for both
    # experts, 16 fps; boundary_ratio 0.9 is the repo's model_index.json value (the switch to the low-noise expert).
    Family(
        name="wan-2.2-i2v", title="Wan 2.2 image-to-video (two experts)", pipeline="WanImageToVideoPipeline",
        since="0.35.0",
        defaults=_defaults(steps=40, guidance=3.5, frames=81, fps=16, height=480, width=832,
                           negative_prompt=WAN_NEGATIVE, guidance_scale_2=3.5, boundary_ratio=0.9),
        size_multiple=16, frames_step=4, size_reason="the VAE's 8 times the transformer's patch of 2",
        matches=_has("transformer_2"), fp32_components=("vae",), config_knobs=("boundary_ratio",)),
    # Wan-AI/Wan2.2-TI2V-5B-Diffusers model card: 704x1280, 121 frames, 50 steps, guidance 5.0, 24 fps. Its
    # model_index names WanPipeline (one repo for text- and image-to-video); expand_timesteps marks it.
    Family(
        name="wan-2.2-ti2v", title="Wan 2.2 text-image-to-video 5B", pipeline="WanImageToVideoPipeline",
        since="0.35.0", pipelines=("WanPipeline",),
        defaults=_defaults(steps=50, guidance=5.0, frames=121, fps=24, height=704, width=1280,
                           negative_prompt=WAN_NEGATIVE),
        size_multiple=32, frames_step=4, size_reason="the VAE's 16 times the transformer's patch of 2",
        matches=lambda index: bool(index.get("expand_timesteps")), fp32_components=("vae",)),
    # Skywork/SkyReels-V2-I2V-14B-720P-Diffusers, SkyReelsV2ImageToVideoPipeline doc example: 544x960, 97 frames,
    # 50 steps, guidance 5.0, flow_shift 5.0 (I2V), exported at 24 fps; VAE float32.
    Family(
        name="skyreels-v2-i2v", title="SkyReels V2 image-to-video", pipeline="SkyReelsV2ImageToVideoPipeline",
        since="0.35.0",
        defaults=_defaults(steps=50, guidance=5.0, frames=97, fps=24, height=544, width=960, negative_prompt="",
                           flow_shift=5.0),
        size_multiple=16, frames_step=4, size_reason="the VAE's 8 times the transformer's patch of 2",
        fp32_components=("vae",), scheduler_knobs=("flow_shift",)),
    # THUDM/CogVideoX-5b-I2V, CogVideoXImageToVideoPipeline doc example and model card: 480x720 (its learned
    # position embeddings fix the size), 49 frames, 50 steps, guidance 6, use_dynamic_cfg, exported at 8 fps.
    Family(
        name="cogvideox-i2v", title="CogVideoX image-to-video", pipeline="CogVideoXImageToVideoPipeline",
        since="0.32.0",
        defaults=_defaults(steps=50, guidance=6.0, frames=49, fps=8, height=480, width=720, negative_prompt="",
                           use_dynamic_cfg=True),
        size_multiple=16, frames_step=4, size_reason="the VAE's 8 times the transformer's patch of 2",
        read_facts=_cogvideox_facts),
    # Lightricks/LTX-Video, LTXImageToVideoPipeline doc example: 480x704, 161 frames, 50 steps, guidance 3.0
    # (the pipeline's default), frame_rate 25 (the pipeline's default; the example exports at 24).
    Family(
        name="ltx-i2v", title="LTX-Video image-to-video", pipeline="LTXImageToVideoPipeline", since="0.32.0",
        pipelines=("LTXPipeline",),  # one checkpoint for text- and image-to-video
        defaults=_defaults(steps=50, guidance=3.0, frames=161, fps=25, height=480, width=704,
                           negative_prompt=LTX_NEGATIVE, decode_timestep=0.0, decode_noise_scale=0.0),
        arguments=_without(COMMON_ARGUMENTS, fps="frame_rate"),
        size_multiple=32, frames_step=8, size_reason="the VAE downsamples by 32"),
    # Lightricks/LTX-Video-0.9.8-13B-distilled, the LTX docs' 0.9.8 distilled example (its first stage, run at
    # the target size): the distilled timesteps, guidance 1.0, guidance_rescale 0.7, decode_timestep 0.05,
    # decode_noise_scale 0.025, image_cond_noise_scale 0.0, 480x832, 161 frames, frame_rate 25 (default).
    Family(
        name="ltx-condition", title="LTX-Video 0.9.5+ (condition pipeline)", pipeline="LTXConditionPipeline",
        since="0.34.0",
        defaults=_defaults(steps=8, guidance=1.0, frames=161, fps=25, height=480, width=832,
                           negative_prompt="bright colors, symbols, graffiti, watermarks, " + LTX_NEGATIVE,
                           timesteps="1000,993,987,981,975,909,725,0.03", guidance_rescale=0.7, decode_timestep=0.05,
                           decode_noise_scale=0.025, image_cond_noise_scale=0.0),
        arguments=_without(COMMON_ARGUMENTS, fps="frame_rate"),
        size_multiple=32, frames_step=8, size_reason="the VAE downsamples by 32"),
    # Lightricks/LTX-2, LTX2ImageToVideoPipeline doc example: 512x768, 121 frames, frame_rate 24, 30 steps,
    # guidance 3.0. The pipeline also makes an audio track, which the kit does not keep.
    Family(
        name="ltx-2-i2v", title="LTX-2 image-to-video", pipeline="LTX2ImageToVideoPipeline", since="0.37.0",
        pipelines=("LTX2Pipeline",),
        defaults=_defaults(steps=30, guidance=3.0, frames=121, fps=24, height=512, width=768,
                           negative_prompt=LTX_NEGATIVE),
        arguments=_without(COMMON_ARGUMENTS, fps="frame_rate"),
        size_multiple=32, frames_step=8, size_reason="the VAE downsamples by 32",
        note="the audio track it makes is dropped"),
    # hunyuanvideo-community/HunyuanVideo-I2V, HunyuanVideoImageToVideoPipeline doc example: guidance 6.0
    # (embedded guidance), true_cfg_scale 1.0 (no classifier-free guidance, so no negative prompt), 720x1280,
    # 129 frames, 50 steps (the pipeline's defaults), exported at 15 fps.
    Family(
        name="hunyuan-video-i2v", title="HunyuanVideo image-to-video", pipeline="HunyuanVideoImageToVideoPipeline",
        since="0.33.0",
        defaults=_defaults(steps=50, guidance=6.0, frames=129, fps=15, height=720, width=1280, negative_prompt="",
                           true_cfg_scale=1.0),
        size_multiple=16, frames_step=4, size_reason="the VAE downsamples by 8 and the transformer by 2"),
    # hunyuanvideo-community/HunyuanVideo-1.5-480p_i2v, HunyuanVideo15ImageToVideoPipeline doc example: 50 steps,
    # 121 frames (the pipeline's default), exported at 24 fps; guidance 6.0 is its guider's; the size is the
    # 480p bucket the pipeline picks for the first frame's shape (16:9 -> 480x848).
    Family(
        name="hunyuan-video-1.5-i2v", title="HunyuanVideo 1.5 image-to-video",
        pipeline="HunyuanVideo15ImageToVideoPipeline", since="0.36.0",
        defaults=_defaults(steps=50, guidance=6.0, frames=121, fps=24, height=480, width=848, negative_prompt=""),
        arguments=_without(COMMON_ARGUMENTS, "height", "width", "guidance"),
        size_multiple=16, frames_step=4, size_reason="the VAE downsamples by 16", guider_guidance=True,
        read_facts=_hunyuan15_facts),
    # Efficient-Large-Model/SANA-Video_2B_480p_diffusers, SanaImageToVideoPipeline doc example: 480x832, 81 frames,
    # guidance 6, 50 steps, motion score 30 appended to the prompt, exported at 16 fps; VAE float32. Resolution
    # binning (the pipeline's default) generates at the nearest trained size and resizes back.
    Family(
        name="sana-video-i2v", title="SANA-Video image-to-video", pipeline="SanaImageToVideoPipeline",
        since="0.36.0", pipelines=("SanaVideoPipeline",),
        defaults=_defaults(steps=50, guidance=6.0, frames=81, fps=16, height=480, width=832,
                           negative_prompt=SANA_NEGATIVE, motion_score=30, use_resolution_binning=True),
        arguments=_without(COMMON_ARGUMENTS, frames="frames"),
        size_multiple=32, frames_step=4, size_reason="the VAE's 8 times the transformer's patch of 2 (the "
        "pipeline asks 32)", fp32_components=("vae",), note="the prompt gets ' motion score: N.' appended"),
    # nvidia/Cosmos-Predict2-2B-Video2World, Cosmos2VideoToWorldPipeline doc example and defaults: 704x1280,
    # 93 frames, 35 steps, guidance 7.0, fps 16; an empty negative prompt means the pipeline's own default.
    Family(
        name="cosmos-2-video2world", title="Cosmos-Predict2 video-to-world", pipeline="Cosmos2VideoToWorldPipeline",
        since="0.34.0",
        defaults=_defaults(steps=35, guidance=7.0, frames=93, fps=16, height=704, width=1280, negative_prompt=""),
        arguments=_without(COMMON_ARGUMENTS, fps="fps"),
        size_multiple=16, frames_step=4, size_reason="the VAE downsamples by 8 and the transformer by 2",
        note="needs NVIDIA's cosmos_guardrail package (its licence's safety checker)"),
)

BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}


def pipeline_classes() -> list[str]:
    """Every model_index `_class_name` some family accepts."""
    return sorted({name for f in FAMILIES for name in (f.pipeline, *f.pipelines)})


def family_for(model_index: Mapping[str, Any]) -> Family | None:
    """The family of a diffusers folder, from its model_index.json, or None when no row accepts it."""
    name = model_index.get("_class_name")
    for family in FAMILIES:
        if name in (family.pipeline, *family.pipelines) and family.matches(model_index):
            return family
    return None
