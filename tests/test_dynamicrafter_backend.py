"""DynamiCrafter in the registry: the three official ids, their run.sh settings, the settings refused before
loading (the video size limit too), setup scripts, the lazy top-level import, and a checkpoint in the
official format registered and run as a user registers a fine-tune."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dynamicrafter_fixtures import fixture_dir, one_thread, rebuilt_model, save_checkpoint  # noqa: F401 (autouse)
from PIL import Image

from vmevalkit import models
from vmevalkit.errors import UserError
from vmevalkit.models import ModelSpec, get_spec, load_model, register_model, resolve_settings
from vmevalkit.models.lvdm.arguments import MAX_VIDEO_PIXELS, MAX_VIDEO_PIXELS_ENV
from vmevalkit.models.lvdm.backend import build_lvdm
from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.dynamicrafter import run_defaults
from vmevalkit.questions import Question
from vmevalkit.weights import WeightsSpec

ROOT = Path(__file__).resolve().parent.parent
IDS = {"dynamicrafter-256": "Doubiiu/DynamiCrafter", "dynamicrafter-512": "Doubiiu/DynamiCrafter_512",
       "dynamicrafter-1024": "Doubiiu/DynamiCrafter_1024"}


@pytest.mark.parametrize("model_id", IDS)
def test_the_official_ids_have_the_run_sh_settings_of_their_config(model_id):
    spec = get_spec(model_id)
    assert spec.family == "dynamicrafter" and spec.kind == "i2v" and spec.sees == ("image", "prompt")
    assert (spec.weights.repo_id, spec.weights.filename) == (IDS[model_id], "model.ckpt")
    cfg = load_config(spec.weights.config)
    assert spec.defaults == {"steps": 50, "guidance": 7.5, "eta": 1.0, "frames": 16, **run_defaults(cfg),
                             "height": cfg.default_size[0], "width": cfg.default_size[1]}
    script = ROOT / "setup" / "models" / model_id / "setup.sh"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", str(script), "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: vmevalkit weights download" in done.stdout
    assert f"weights download {model_id}" in script.read_text()


@pytest.mark.parametrize("override, fragment", [
    ({"frame_stride": "0"}, r"frame_stride must be a whole number >= 1"),
    ({"timestep_spacing": "leading"}, r"timestep_spacing must be one of uniform, uniform_trailing"),
    ({"guidance_rescale": "2"}, r"guidance_rescale must be a number from 0 to 1 .*\(got 2.0\)"),
    ({"height": "300"}, r"height must be a positive multiple of 64"),
    ({"frames": "100000"}, r"frames x height x width = 100000 x 320 x 512 = 16384000000 pixels is beyond the limit "
                           r"of 37748736 .*raise the limit with VMEVALKIT_MAX_VIDEO_PIXELS; change it with --set"),
])
def test_settings_the_sampler_cannot_use_are_refused_before_loading(override, fragment):
    with pytest.raises(UserError, match=fragment):
        load_model("dynamicrafter-512", device="cpu", overrides=override)  # the weights are not even looked for


def test_the_video_size_limit_applies_to_every_lvdm_model_and_can_be_raised(monkeypatch):
    big = {"frames": str(MAX_VIDEO_PIXELS // (40 * 64) + 1)}
    with pytest.raises(UserError, match=r"videocrafter-tiny: frames x height x width"):
        resolve_settings(get_spec("videocrafter-tiny"), big)
    monkeypatch.setenv(MAX_VIDEO_PIXELS_ENV, str(10 * MAX_VIDEO_PIXELS))
    assert resolve_settings(get_spec("videocrafter-tiny"), big)["frames"] == int(big["frames"])
    monkeypatch.setenv(MAX_VIDEO_PIXELS_ENV, "lots")
    with pytest.raises(UserError, match=r"VMEVALKIT_MAX_VIDEO_PIXELS='lots': set it to a whole number of pixels"):
        resolve_settings(get_spec("videocrafter-tiny"), {})


def test_the_pipelines_are_importable_from_the_package_without_making_it_heavy():
    import vmevalkit
    from vmevalkit.models.lvdm.dynamicrafter import DynamiCrafterPipeline
    from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline

    assert (vmevalkit.DynamiCrafterPipeline, vmevalkit.VideoCrafterPipeline) == (DynamiCrafterPipeline,
                                                                                 VideoCrafterPipeline)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        vmevalkit.Nope  # noqa: B018
    code = "import sys, vmevalkit; assert not {'torch', 'vmevalkit.models'} & set(sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_a_checkpoint_registered_as_a_fine_tune_runs_through_the_registry(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    register_model(ModelSpec(
        "fixture-dc", "dynamicrafter", "i2v", "the tiny 512-style golden fixture as a fine-tune",
        build=build_lvdm, untrained=True,
        defaults={"steps": 1, "guidance": 7.5, "eta": 1.0, "frames": 8, "frame_stride": 24,
                  "timestep_spacing": "uniform_trailing", "guidance_rescale": 0.7, "height": 40, "width": 64},
        weights=WeightsSpec("example/fixture", "model.ckpt", config=str(fixture_dir("512") / "config.yaml"))))
    (tmp_path / "fixture-dc").mkdir()
    save_checkpoint(rebuilt_model("512"), tmp_path / "fixture-dc" / "model.ckpt")
    model = load_model("fixture-dc", device="cpu", cache_dir=tmp_path)
    assert model.resolution == (64, 40) and type(model.pipeline).__name__ == "DynamiCrafterPipeline"
    first = Image.open(fixture_dir("512") / "input.png").convert("RGB")
    q = Question(id="q", domain="d", prompt="the ball rolls", first_frame=first)
    video = model.generate(q, first, seed=5, progress=False)
    assert video.frames.shape == (8, 40, 64, 3) and video.fps == 8 and video.frames.std() > 1
    described = model.describe()
    assert described["config"].endswith("config.yaml") and described["checkpoint_sha256"]
    spec = ModelSpec("odd", "mine", "i2v", "x", build=build_lvdm, weights=WeightsSpec("a/b", "model.ckpt"))
    with pytest.raises(UserError, match=r"build_lvdm runs the families videocrafter, dynamicrafter, not 'mine'"):
        build_lvdm(spec, {}, "cpu", None, tmp_path / "fixture-dc" / "model.ckpt")
