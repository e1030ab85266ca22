"""Every diffusers family end to end, offline: a tiny random pipeline of the family (tests/diffusers_tiny.py) is
saved with `save_pretrained` and run through `vmevalkit run --models diffusers:<folder>`, then loaded once more to
show that the seed, the first frame and (for families that read it) the prompt decide the video."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the Hub

import json

import numpy as np
import pytest
from PIL import Image

import diffusers_tiny
from vmevalkit.cli import main
from vmevalkit.models import get_spec, load_model
from vmevalkit.models.diffusers_models.families import BY_NAME, FAMILIES
from vmevalkit.questions import Question, read_question, write_question
from vmevalkit.video import read_mp4

# Per family: a size and frame count its tiny pipeline accepts (and its rules allow), and extra settings.
TINY = {
    "svd": (16, 16, 3, {}),
    "wan-2.1-i2v": (16, 16, 5, {}),
    "wan-2.2-i2v": (16, 16, 5, {"boundary_ratio": "0.5"}),
    "wan-2.2-ti2v": (32, 32, 5, {}),
    "skyreels-v2-i2v": (16, 16, 5, {}),
    "cogvideox-i2v": (16, 16, 9, {}),
    "ltx-i2v": (32, 32, 9, {}),
    "ltx-condition": (32, 32, 9, {"timesteps": ""}),
    "ltx-2-i2v": (32, 32, 9, {}),
    "hunyuan-video-i2v": (16, 16, 5, {}),
    "hunyuan-video-1.5-i2v": (32, 32, 5, {}),
    "sana-video-i2v": (32, 32, 5, {"use_resolution_binning": "false"}),
    "cosmos-2-video2world": (32, 32, 5, {}),
}
PROMPT, OTHER_PROMPT = "walk the red dot to the green flag", "fill every empty box with the missing digit"
FPS = 10


def test_every_family_has_a_tiny_pipeline():
    assert set(TINY) == set(diffusers_tiny.BUILDERS) == {f.name for f in FAMILIES}


def _settings(family: str, **extra) -> dict[str, str]:
    height, width, frames, knobs = TINY[family]
    return {"steps": "2", "height": str(height), "width": str(width), "frames": str(frames), "fps": str(FPS),
            **knobs, **extra}


def _image(seed: int) -> Image.Image:
    return Image.fromarray((np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8))


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    import huggingface_hub.constants
    import diffusers.pipelines.cosmos.pipeline_cosmos2_video2world as cosmos

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    # Cosmos' licence requires NVIDIA's guardrail, a multi-GB download: the tests use a named pass-through.
    monkeypatch.setattr(cosmos, "CosmosSafetyChecker", diffusers_tiny.PassThroughSafetyChecker)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """family -> the folder of its tiny pipeline, built and saved once per module."""
    made = {}

    def get(family: str):
        if family not in made:
            made[family] = diffusers_tiny.save_tiny(family, tmp_path_factory.mktemp(family))
        return made[family]

    return get


@pytest.fixture(scope="module")
def questions(tmp_path_factory):
    root = tmp_path_factory.mktemp("questions")
    write_question(Question(id="q0", domain="maze", prompt=PROMPT, first_frame=_image(0)), root)
    return root


def _sets(settings: dict[str, str]) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]


@pytest.mark.parametrize("family", list(TINY))
def test_a_family_runs_end_to_end_through_the_cli(family, tiny, questions, tmp_path):
    folder = tiny(family)
    height, width, frames, _ = TINY[family]
    code = main(["run", "--models", f"diffusers:{folder}", "--questions", str(questions), "--output-dir",
                 str(tmp_path), "--experiment", "e", "--no-controls", "--no-score", "--no-progress", "--device", "cpu",
                 *_sets(_settings(family))])
    spec = get_spec(f"diffusers:{folder}")
    item = tmp_path / "e" / spec.id / "maze_task" / "q0"
    meta = json.loads((item / "metadata.json").read_text())
    assert code == 0, meta.get("error")
    video = read_mp4(item / "video.mp4")
    assert (video.num_frames, video.size, video.fps) == (frames, (width, height), FPS)
    described = meta["model_description"]
    assert described["pipeline"] == BY_NAME[family].pipeline and described["family"] == family
    assert described["dtype"] == "float32" and described["offload"] == "none"
    assert described["reference"] == f"diffusers:{folder}" and described["path"] == str(folder)
    assert described["commit"].startswith("local-") and described["diffusers"]
    call = meta["generation"]["call"]
    mapped = BY_NAME[family].arguments
    assert call[mapped["steps"]] == 2 and call.get(mapped.get("frames")) in (frames, None)
    assert ("prompt" in call) == ("prompt" in spec.sees)
    assert meta["generation"]["generator"]["seed"] == meta["seed"]
    assert meta["settings"]["steps"] == 2 and spec.id.startswith("diffusers-")
    import torch

    with torch.device("meta"):  # loading left torch's device context intact (VideoCrafter builds on meta)
        assert torch.linspace(0.0, 1.0, 3).device.type == "meta"


@pytest.fixture(scope="module")
def loaded(tiny):
    made = {}

    def get(family: str):
        if family not in made:
            made[family] = load_model(f"diffusers:{tiny(family)}", device="cpu", overrides=_settings(family))
        return made[family]

    return get


@pytest.mark.parametrize("family", list(TINY))
def test_the_seed_the_first_frame_and_the_prompt_decide_the_video(family, loaded):
    model = loaded(family)
    question = Question(id="q", domain="d", prompt=PROMPT, first_frame=_image(0))
    image = question.first_frame.resize(model.resolution)
    first = model.generate(question, image, seed=1, progress=False)
    assert np.array_equal(first.frames, model.generate(question, image, seed=1, progress=False).frames)
    assert not np.array_equal(first.frames, model.generate(question, image, seed=2, progress=False).frames)
    other_image = _image(1).resize(model.resolution)
    assert not np.array_equal(first.frames, model.generate(question, other_image, seed=1, progress=False).frames)
    other = Question(id="q", domain="d", prompt=OTHER_PROMPT, first_frame=question.first_frame)
    reads_prompt = "prompt" in get_spec(model.id).sees
    same = np.array_equal(first.frames, model.generate(other, image, seed=1, progress=False).frames)
    assert same != reads_prompt  # a prompt-reading family changes with the prompt; SVD ignores it
    assert first.info["generator"] == {"device": "cpu", "seed": 1}


@pytest.mark.parametrize("family", list(TINY))
def test_bad_sizes_and_frame_counts_stop_before_any_work(family, tiny, questions, tmp_path, capsys):
    rules = BY_NAME[family]
    height, width, frames, _ = TINY[family]
    bad = _settings(family, height=str(height + rules.size_multiple // 2),
                    frames=str(frames + 1) if rules.frames_step > 1 else "1")
    folder = tiny(family)
    capsys.readouterr()  # what building the tiny pipeline printed
    code = main(["run", "--models", f"diffusers:{folder}", "--questions", str(questions), "--output-dir",
                 str(tmp_path), "--no-controls", "--device", "cpu", *_sets(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and not any(tmp_path.iterdir())
    assert f"height must be a multiple of {rules.size_multiple}" in err and rules.size_reason in err
    assert ("frames must be" in err) and "--set key=value" in err


def test_memory_settings_are_applied_and_recorded(tiny):
    from vmevalkit.errors import UserError

    model = load_model(f"diffusers:{tiny('wan-2.1-i2v')}", device="cpu",
                       overrides=_settings("wan-2.1-i2v", dtype="bfloat16", vae_tiling="true", vae_slicing="true"))
    described = model.describe()
    assert described["dtype"] == "bfloat16" and described["fp32_components"] == ["vae", "image_encoder"]
    assert described["vae_tiling"] and model.pipe.vae.use_tiling and model.pipe.vae.use_slicing
    assert model.pipe.transformer.dtype.is_floating_point and str(model.pipe.transformer.dtype) == "torch.bfloat16"
    assert str(model.pipe.vae.dtype) == "torch.float32"
    question = Question(id="q", domain="d", prompt=PROMPT, first_frame=_image(0))
    assert model.generate(question, question.first_frame.resize(model.resolution), seed=0,
                          progress=False).num_frames == TINY["wan-2.1-i2v"][2]
    with pytest.raises(UserError, match=r"offload=model moves weights between the CPU and a GPU.*--set offload=none"):
        load_model(f"diffusers:{tiny('wan-2.1-i2v')}", device="cpu",
                   overrides=_settings("wan-2.1-i2v", offload="model"))
