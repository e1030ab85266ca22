"""DynamiCrafter 256 / 512 / 1024: the official checkpoints with the settings of the official scripts/run.sh
(16 frames, 50 DDIM steps, eta 1, guidance 7.5, the prompt used; the frame stride or fps of each variant)."""

from __future__ import annotations

from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.lvdm.backend import OFFICIAL_SIZE_MULTIPLE, build_lvdm, settings_validator
from vmevalkit.weights import WeightsSpec

_RUN_SH = {"steps": 50, "guidance": 7.5, "eta": 1.0, "frames": 16}
# id -> (Hugging Face repo, config, height, width, frame stride / fps, timestep spacing, guidance rescale, what)
_VARIANTS = {
    "dynamicrafter-256": ("Doubiiu/DynamiCrafter", "dynamicrafter_256_v1.0", 256, 256, 3, "uniform", 0.0,
                          "256x256, conditioned on frame stride 3 (1-6 recommended: larger, more motion)"),
    "dynamicrafter-512": ("Doubiiu/DynamiCrafter_512", "dynamicrafter_512_v1.0", 320, 512, 24, "uniform_trailing",
                          0.7, "320x512, conditioned on fps 24 (15-30 recommended: smaller, more motion)"),
    "dynamicrafter-1024": ("Doubiiu/DynamiCrafter_1024", "dynamicrafter_1024_v1.0", 576, 1024, 10,
                           "uniform_trailing", 0.7, "576x1024, conditioned on fps 10 (5-15 recommended: smaller, more motion)"),
}

for model_id, (repo, config, height, width, stride, spacing, rescale, what) in _VARIANTS.items():
    register_model(ModelSpec(
        id=model_id, family="dynamicrafter", kind="i2v", note="image-to-video",
        description=f"DynamiCrafter image-to-video at {what}: the official {config} config and checkpoint; "
                    "the first frame's latent is kept in every frame's input.",
        build=build_lvdm, validate=settings_validator(model_id, OFFICIAL_SIZE_MULTIPLE),
        defaults={**_RUN_SH, "frame_stride": stride, "timestep_spacing": spacing, "guidance_rescale": rescale,
                  "height": height, "width": width},
        weights=WeightsSpec(repo, "model.ckpt", config=config)))
