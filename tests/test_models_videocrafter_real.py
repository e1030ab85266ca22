"""The VideoCrafter backend on the real engine: videocrafter-tiny, and an official-format checkpoint (the
tiny golden fixture) registered as a user would register a fine-tuned checkpoint, loaded from .ckpt and
from its .safetensors conversion."""

import hashlib

import numpy as np
import pytest
import torch
from conftest import fixture_dir
from PIL import Image

from vmevalkit import models
from vmevalkit.cli import main
from vmevalkit.errors import UserError
from vmevalkit.models import ModelSpec, load_model, register_model
from vmevalkit.models.lvdm.backend import build_lvdm
from vmevalkit.questions import Question
from vmevalkit.video import motion_stats
from vmevalkit.weights import WeightsSpec

FAST = {"steps": "1", "frames": "4"}


@pytest.fixture(scope="module", autouse=True)
def threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest, and fair to other jobs on the machine
    yield
    torch.set_num_threads(previous)


def _question(size=(30, 20)):
    a = np.zeros((size[1], size[0], 3), np.uint8)
    a[5:15, 3:12] = (220, 40, 40)
    return Question(id="q", domain="d", prompt="move the red box to the right", first_frame=Image.fromarray(a))


def test_tiny_is_untrained_deterministic_and_moves():
    model = load_model("videocrafter-tiny", device="cpu", overrides=FAST)
    assert model.resolution == (64, 40)
    described = model.describe()
    assert described["untrained"] is True and described["checkpoint"] is None
    assert described["weights"].startswith("random, seed") and described["parameters"] > 0
    q = _question()
    image = q.first_frame.resize(model.resolution)
    video = model.generate(q, image, seed=11, progress=False)
    assert video.frames.shape == (4, 40, 64, 3)
    assert not motion_stats(video)["static"] and motion_stats(video)["identical_pair_share"] == 0.0
    assert np.array_equal(model.generate(q, image, seed=11, progress=False).frames, video.frames)
    assert not np.array_equal(model.generate(q, image, seed=12, progress=False).frames, video.frames)


def test_tiny_sizes_are_checked_against_its_config_before_loading():
    with pytest.raises(UserError, match="height must be a positive multiple of 4"):
        load_model("videocrafter-tiny", device="cpu", overrides={"height": "42"})


def test_an_official_format_checkpoint_loads_from_ckpt_and_from_its_safetensors(tmp_path, monkeypatch,
                                                                                fixture_checkpoint):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    register_model(ModelSpec(
        "fixture-i2v", "videocrafter", "i2v", "the tiny golden fixture in the official checkpoint format",
        build=build_lvdm, untrained=True,
        defaults={"steps": 1, "guidance": 12.0, "eta": 1.0, "fps": 8, "frames": 4, "height": 64, "width": 64},
        weights=WeightsSpec("example/fixture", "model.ckpt", config=str(fixture_dir("i2v") / "config.yaml"))))
    folder = tmp_path / "fixture-i2v"
    folder.mkdir()
    (folder / "model.ckpt").symlink_to(fixture_checkpoint("i2v"))
    model = load_model("fixture-i2v", device="cpu", cache_dir=tmp_path)
    described = model.describe()
    assert described["checkpoint_sha256"] == hashlib.sha256(fixture_checkpoint("i2v").read_bytes()).hexdigest()
    assert described["checkpoint"].endswith("model.ckpt")
    q = _question()
    image = q.first_frame.resize(model.resolution)
    from_ckpt = model.generate(q, image, seed=3, progress=False)
    assert from_ckpt.frames.shape == (4, 64, 64, 3) and not motion_stats(from_ckpt)["static"]

    assert main(["weights", "convert", str(folder / "model.ckpt")]) == 0
    converted = load_model("fixture-i2v", device="cpu", cache_dir=tmp_path)  # the .safetensors is preferred
    assert converted.describe()["checkpoint"].endswith("model.safetensors")
    assert converted.describe()["checkpoint_sha256"] == hashlib.sha256(
        (folder / "model.safetensors").read_bytes()).hexdigest()
    assert np.array_equal(converted.generate(q, image, seed=3, progress=False).frames, from_ckpt.frames)
