"""Test-only: tiny random diffusers pipelines, one per family of vmevalkit.models.diffusers_models.

Each builder makes every component in code from a small config (in the spirit of diffusers' own pipeline
tests) with random weights from a fixed seed. Their tokenizers come from the Hub there; here they are built in
code: a word-level `tokenizers` model wrapped in `PreTrainedTokenizerFast`, whose vocabulary holds the words
of the test prompts (other words map to <unk>), so two test prompts give two different token sequences.
`save_tiny(family, folder)` writes one with `save_pretrained`, as a folder `--models diffusers:<folder>` reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import ConfigMixin, ModelMixin

WORDS = ("walk the red dot to green flag fill every empty box with missing digit a of in on and move "
         "system user assistant describe video image").split()
SPECIAL = ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<image>", "\n\n",
           "<start_of_image>", "<end_of_image>", "<|im_start|>", "<|im_end|>")


def word_tokenizer(max_length: int = 512, bos: bool = False, padding_side: str = "right"):
    """A word-level fast tokenizer: ids 0-3 are <pad>, </s>, <unk>, <s>; then SPECIAL; then WORDS."""
    from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    names = ["<pad>", "</s>", "<unk>", "<s>", *SPECIAL, *WORDS]
    tokenizer = Tokenizer(models.WordLevel({n: i for i, n in enumerate(names)}, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in SPECIAL])
    if bos:
        tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                                 special_tokens=[("<s>", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", bos_token="<s>", model_max_length=max_length,
                                   padding_side=padding_side)


VOCAB = 4 + len(SPECIAL) + len(WORDS)
SPECIAL_ID = {t: 4 + i for i, t in enumerate(SPECIAL)}
# A Qwen-style chat template for the tiny HunyuanVideo 1.5 text encoder (its pipeline formats prompts as chats).
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}")


def _chat_template_cropped_at(tokenizer, pipeline_class) -> str:
    """CHAT_TEMPLATE with the system turn padded so that, as with the real Qwen tokenizer, the user's prompt
    starts right where the pipeline crops the encoded chat (its `crop_start`); else the crop eats the prompt."""
    import inspect

    from diffusers.pipelines.hunyuan_video1_5.pipeline_hunyuan_video1_5_image2video import format_text_input

    defaults = inspect.signature(pipeline_class._get_mllm_prompt_embeds).parameters
    tokenizer.chat_template = CHAT_TEMPLATE
    chat = format_text_input(["walk"], defaults["system_message"].default)
    ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    ids = ids[0] if isinstance(ids[0], list) else ids
    before_prompt = ids.index(tokenizer.convert_tokens_to_ids("walk"))
    padding = " <pad>" * max(0, defaults["crop_start"].default - before_prompt)
    return CHAT_TEMPLATE.replace("{{ m['content'] }}", "{% if m['role'] == 'system' %}" + padding +
                                 "{% endif %}{{ m['content'] }}", 1)


def tiny_t5(umt5: bool = False, d_model: int = 32):
    """A tiny T5 encoder (UMT5 for the Wan family, which declares that class)."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config = (UMT5Config if umt5 else T5Config)(vocab_size=VOCAB, d_model=d_model, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                      relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return (UMT5EncoderModel if umt5 else T5EncoderModel)(config).eval()


def tiny_clip_vision(hidden: int = 4, projection: int = 4, image_size: int = 32, patch: int = 1):
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=hidden, projection_dim=projection, num_hidden_layers=2,
                              num_attention_heads=2, image_size=image_size, intermediate_size=16, patch_size=patch)
    return CLIPVisionModelWithProjection(config).eval(), CLIPImageProcessor(crop_size=image_size, size=image_size)


def wan_vae(**kwargs):
    from diffusers import AutoencoderKLWan

    config = dict(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])
    return AutoencoderKLWan(**{**config, **kwargs})


def _wan_transformer(cls=None, **kwargs):
    from diffusers import WanTransformer3DModel

    config = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
                  out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return (cls or WanTransformer3DModel)(**{**config, **kwargs})


def wan_2_1_i2v():
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline

    torch.manual_seed(0)
    image_encoder, image_processor = tiny_clip_vision()
    return WanImageToVideoPipeline(
        tokenizer=word_tokenizer(), text_encoder=tiny_t5(umt5=True), vae=wan_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), image_processor=image_processor,
        image_encoder=image_encoder, transformer=_wan_transformer(image_dim=4), transformer_2=None)


def wan_2_2_i2v():
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline

    torch.manual_seed(0)
    return WanImageToVideoPipeline(
        tokenizer=word_tokenizer(), text_encoder=tiny_t5(umt5=True), vae=wan_vae(),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        transformer=_wan_transformer(), transformer_2=_wan_transformer(), image_encoder=None, image_processor=None,
        boundary_ratio=0.875)


def wan_2_2_ti2v():
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline

    torch.manual_seed(0)
    vae = wan_vae(z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
                  latents_mean=[0.0] * 48, latents_std=[1.0] * 48, scale_factor_spatial=16, scale_factor_temporal=4)
    return WanImageToVideoPipeline(
        tokenizer=word_tokenizer(), text_encoder=tiny_t5(umt5=True), vae=vae,
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        transformer=_wan_transformer(in_channels=48, out_channels=48), transformer_2=None, image_encoder=None,
        image_processor=None, boundary_ratio=None, expand_timesteps=True)


def skyreels_v2_i2v():
    from diffusers import SkyReelsV2ImageToVideoPipeline, SkyReelsV2Transformer3DModel, UniPCMultistepScheduler

    torch.manual_seed(0)
    image_encoder, image_processor = tiny_clip_vision()
    return SkyReelsV2ImageToVideoPipeline(
        tokenizer=word_tokenizer(), text_encoder=tiny_t5(umt5=True), vae=wan_vae(),
        scheduler=UniPCMultistepScheduler(flow_shift=5.0, use_flow_sigmas=True, prediction_type="flow_prediction"),
        image_encoder=image_encoder, image_processor=image_processor,
        transformer=_wan_transformer(SkyReelsV2Transformer3DModel, image_dim=4))


def svd():
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=8,
        num_attention_heads=2, projection_class_embeddings_input_dim=24, addition_time_embed_dim=8)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                                       latent_channels=4, layers_per_block=1)
    image_encoder, feature_extractor = tiny_clip_vision(hidden=8, projection=8, image_size=224, patch=32)  # SVD resizes to 224
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=feature_extractor)


def cogvideox_i2v():
    from diffusers import AutoencoderKLCogVideoX, CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel, DDIMScheduler

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=2, sample_height=2, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=226, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    return CogVideoXImageToVideoPipeline(tokenizer=word_tokenizer(), text_encoder=tiny_t5(), vae=vae,
                                         transformer=transformer, scheduler=DDIMScheduler())


def _ltx_parts():
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                             num_layers=1, caption_channels=32)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1,
        patch_size_t=1, encoder_causal=True, decoder_causal=False)
    return dict(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
                text_encoder=tiny_t5(), tokenizer=word_tokenizer(max_length=128))


def ltx_i2v():
    from diffusers import LTXImageToVideoPipeline

    return LTXImageToVideoPipeline(**_ltx_parts())


def ltx_condition():
    from diffusers import LTXConditionPipeline

    return LTXConditionPipeline(**_ltx_parts())


def cosmos_2_video2world():
    from diffusers import Cosmos2VideoToWorldPipeline, CosmosTransformer3DModel, FlowMatchEulerDiscreteScheduler

    torch.manual_seed(0)
    transformer = CosmosTransformer3DModel(
        in_channels=17, out_channels=16, num_attention_heads=2, attention_head_dim=16, num_layers=2, mlp_ratio=2,
        text_embed_dim=32, adaln_lora_dim=4, max_size=(4, 32, 32), patch_size=(1, 2, 2), rope_scale=(2.0, 1.0, 1.0),
        concat_padding_mask=True, extra_pos_embed_type="learnable")
    return Cosmos2VideoToWorldPipeline(text_encoder=tiny_t5(), tokenizer=word_tokenizer(), transformer=transformer,
                                       vae=wan_vae(), scheduler=FlowMatchEulerDiscreteScheduler(use_karras_sigmas=True),
                                       safety_checker=PassThroughSafetyChecker())


def sana_video_i2v():
    from diffusers import FlowMatchEulerDiscreteScheduler, SanaImageToVideoPipeline, SanaVideoTransformer3DModel
    from transformers import Gemma2Config, Gemma2Model

    torch.manual_seed(0)
    text_encoder = Gemma2Model(Gemma2Config(
        head_dim=16, hidden_size=8, intermediate_size=64, max_position_embeddings=512, num_attention_heads=2,
        num_hidden_layers=1, num_key_value_heads=2, vocab_size=VOCAB, pad_token_id=0, bos_token_id=3,
        eos_token_id=1, attn_implementation="eager")).eval()
    transformer = SanaVideoTransformer3DModel(
        in_channels=16, out_channels=16, num_attention_heads=2, attention_head_dim=12, num_layers=2,
        num_cross_attention_heads=2, cross_attention_head_dim=12, cross_attention_dim=24, caption_channels=8,
        mlp_ratio=2.5, dropout=0.0, attention_bias=False, sample_size=8, patch_size=(1, 2, 2),
        norm_elementwise_affine=False, norm_eps=1e-6, qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return SanaImageToVideoPipeline(tokenizer=word_tokenizer(bos=True), text_encoder=text_encoder, vae=wan_vae(),
                                    transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler())


def ltx_2_i2v():
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ImageToVideoPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    torch.manual_seed(0)
    text_config = dict(hidden_size=32, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                       num_key_value_heads=1, head_dim=16, vocab_size=VOCAB, max_position_embeddings=512,
                       sliding_window=64, pad_token_id=0, bos_token_id=3, eos_token_id=1)
    vision_config = dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                         image_size=16, patch_size=4)
    text_encoder = Gemma3ForConditionalGeneration(Gemma3Config(
        text_config=text_config, vision_config=vision_config, mm_tokens_per_image=4,
        boi_token_index=SPECIAL_ID["<start_of_image>"], eoi_token_index=SPECIAL_ID["<end_of_image>"],
        image_token_index=SPECIAL_ID["<image>"])).eval()
    hidden, layers = 32, 2
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=hidden, rope_double_precision=False, rope_type="split")
    connectors = LTX2TextConnectors(
        caption_channels=hidden, text_proj_in_factor=layers + 1, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1,
        patch_size_t=1, encoder_causal=True, decoder_causal=False)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    vocoder = LTX2Vocoder(in_channels=16, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[4, 4],
                          upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
                          leaky_relu_negative_slope=0.1, output_sampling_rate=16000)
    return LTX2ImageToVideoPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae, text_encoder=text_encoder,
        tokenizer=word_tokenizer(max_length=1024, bos=True, padding_side="left"), connectors=connectors,
        transformer=transformer, vocoder=vocoder, processor=None, prompt_enhancer=None, duration_head=None)


def hunyuan_video_i2v():
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoImageToVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    torch.manual_seed(0)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4, out_channels=4, num_attention_heads=2, attention_head_dim=10, num_layers=1,
        num_single_layers=1, num_refiner_layers=1, patch_size=1, patch_size_t=1, guidance_embeds=True,
        text_embed_dim=16, pooled_projection_dim=8, rope_axes_dim=(2, 4, 4), image_condition_type="token_replace")
    vae = AutoencoderKLHunyuanVideo(
        in_channels=3, out_channels=3, latent_channels=4, down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        act_fn="silu", norm_num_groups=4, scaling_factor=0.476986, spatial_compression_ratio=8,
        temporal_compression_ratio=4, mid_block_add_attention=True)
    # The official prompt template puts the first frame's 576 image tokens (a 336-pixel image in 14-pixel
    # patches) at positions 5..581: the tiny vision tower keeps that geometry at width 8.
    text_config = LlamaConfig(hidden_size=16, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                              vocab_size=VOCAB, pad_token_id=0, bos_token_id=3, eos_token_id=1,
                              max_position_embeddings=1024)
    vision_config = CLIPVisionConfig(hidden_size=8, intermediate_size=16, projection_dim=8, num_attention_heads=2,
                                     num_hidden_layers=2, image_size=336, patch_size=14)
    text_encoder = LlavaForConditionalGeneration(LlavaConfig(
        vision_config=vision_config, text_config=text_config, pad_token_id=0,
        image_token_index=SPECIAL_ID["<image>"])).eval()
    text_encoder_2 = CLIPTextModel(CLIPTextConfig(
        hidden_size=8, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=VOCAB,
        pad_token_id=0, bos_token_id=3, eos_token_id=1, projection_dim=8, max_position_embeddings=77)).eval()
    image_processor = CLIPImageProcessor(crop_size=336, size=336, do_center_crop=True, do_normalize=True,
                                         do_resize=True, resample=3)
    return HunyuanVideoImageToVideoPipeline(
        text_encoder=text_encoder, tokenizer=word_tokenizer(max_length=1024, bos=True), transformer=transformer,
        vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=text_encoder_2,
        tokenizer_2=word_tokenizer(max_length=77), image_processor=image_processor)


def hunyuan_video_1_5_i2v():
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15ImageToVideoPipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import (
        Qwen2_5_VLTextConfig,
        Qwen2_5_VLTextModel,
        SiglipImageProcessor,
        SiglipVisionConfig,
        SiglipVisionModel,
    )

    torch.manual_seed(0)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9, out_channels=4, num_attention_heads=2, attention_head_dim=8, num_layers=1,
        num_refiner_layers=1, mlp_ratio=2.0, patch_size=1, patch_size_t=1, text_embed_dim=16, text_embed_2_dim=32,
        image_embed_dim=12, rope_axes_dim=(2, 2, 4), target_size=32, task_type="i2v")
    vae = AutoencoderKLHunyuanVideo15(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 16), layers_per_block=1,
        spatial_compression_ratio=4, temporal_compression_ratio=2, downsample_match_channel=False,
        upsample_match_channel=False)
    text_encoder = Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(
        hidden_size=16, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        vocab_size=VOCAB, rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
        rope_theta=1000000.0, max_position_embeddings=2048)).eval()
    image_encoder = SiglipVisionModel(SiglipVisionConfig(
        hidden_size=12, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=16,
        patch_size=8)).eval()
    tokenizer = word_tokenizer(max_length=2048)
    tokenizer.chat_template = _chat_template_cropped_at(tokenizer, HunyuanVideo15ImageToVideoPipeline)
    return HunyuanVideo15ImageToVideoPipeline(
        text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer, vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=tiny_t5(),
        tokenizer_2=word_tokenizer(max_length=256), guider=ClassifierFreeGuidance(guidance_scale=6.0),
        image_encoder=image_encoder, feature_extractor=SiglipImageProcessor(size={"height": 16, "width": 16}))


class PassThroughSafetyChecker(ModelMixin, ConfigMixin):
    """Stand-in for cosmos_guardrail's CosmosSafetyChecker (whose real models are multi-GB downloads), as in
    diffusers' own Cosmos tests: every prompt and video passes. Only ever put in place by the tests."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("_where", torch.zeros(1), persistent=False)  # gives the module a device and dtype

    def check_text_safety(self, prompt: str) -> bool:
        return True

    def check_video_safety(self, frames):
        return frames


BUILDERS: dict[str, Callable] = {
    "wan-2.1-i2v": wan_2_1_i2v, "wan-2.2-i2v": wan_2_2_i2v, "wan-2.2-ti2v": wan_2_2_ti2v,
    "skyreels-v2-i2v": skyreels_v2_i2v, "svd": svd, "cogvideox-i2v": cogvideox_i2v, "ltx-i2v": ltx_i2v,
    "ltx-condition": ltx_condition, "cosmos-2-video2world": cosmos_2_video2world, "sana-video-i2v": sana_video_i2v,
    "ltx-2-i2v": ltx_2_i2v, "hunyuan-video-i2v": hunyuan_video_i2v, "hunyuan-video-1.5-i2v": hunyuan_video_1_5_i2v,
}


def save_tiny(family: str, folder: Path) -> Path:
    """Build the tiny pipeline of `family` and `save_pretrained` it into `folder`."""
    pipe = BUILDERS[family]()
    if family == "cosmos-2-video2world":  # saved without it, as published: the pipeline makes its own on load
        pipe.register_modules(safety_checker=None)
    pipe.save_pretrained(folder)
    return folder
