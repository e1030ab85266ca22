"""The VideoCrafter backend's contract with the engine pipeline, checked with a recording stand-in pipeline
(the engine itself is tested by its own tests; the end-to-end runner test uses the real tiny model)."""

import hashlib
import types

import numpy as np
import pytest
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.models import load_model
from vmevalkit.questions import Question
from vmevalkit.video import Video


class RecordingPipeline:
    built: list = []  # noqa: RUF012 (reset by the fixture)

    def __init__(self, kind, path=None, config=None, device=None, dtype=None):
        self.kind, self.path, self.config, self.device, self.dtype = kind, path, config, device, dtype
        self.calls = []

    @classmethod
    def from_pretrained(cls, path, config=None, device=None, dtype=None):
        pipe = cls("t2v" if config.startswith("t2v") else "i2v", path, config, device, dtype)
        cls.built.append(pipe)
        return pipe

    def describe(self):
        return {"checkpoint": str(self.path), "config": self.config, "device": self.device, "dtype": str(self.dtype)}

    def check_size(self, height, width):
        if height % 64 or width % 64:
            raise UserError(f"height and width must be positive multiples of 64, got {height}x{width}")

    def __call__(self, image, prompt, **kwargs):
        self.calls.append((image, prompt, kwargs))
        h, w = kwargs["height"], kwargs["width"]
        return Video(np.zeros((kwargs["num_frames"], h, w, 3), np.uint8), kwargs["fps"])


@pytest.fixture
def engine(monkeypatch, tmp_path):
    RecordingPipeline.built = []
    module = types.ModuleType("vmevalkit.models.lvdm.pipeline")
    module.VideoCrafterPipeline = RecordingPipeline
    monkeypatch.setitem(__import__("sys").modules, "vmevalkit.models.lvdm.pipeline", module)
    for model_id in ("videocrafter2-512", "videocrafter2-t2v-512"):
        (tmp_path / model_id).mkdir()
        (tmp_path / model_id / "model.ckpt").write_bytes(model_id.encode())
    return tmp_path


def test_i2v_model_is_loaded_once_and_gets_every_setting(engine):
    model = load_model("videocrafter2-512", device="cpu", dtype="float16", cache_dir=engine,
                       overrides={"steps": "25", "guidance": "7.5"})
    assert len(RecordingPipeline.built) == 1
    pipe = RecordingPipeline.built[0]
    assert pipe.config == "i2v_512_v1.0" and pipe.path == engine / "videocrafter2-512" / "model.ckpt"
    assert pipe.device == "cpu" and str(pipe.dtype) == "torch.float16"
    assert model.resolution == (512, 320)
    q = Question(id="q", domain="d", prompt="walk the maze", first_frame=Image.new("RGB", (512, 320)))
    for seed in (3, 4):
        video = model.generate(q, q.first_frame, seed=seed, progress=False)
    assert len(RecordingPipeline.built) == 1 and len(pipe.calls) == 2
    image, prompt, kwargs = pipe.calls[-1]
    assert image is q.first_frame and prompt == "walk the maze"
    assert kwargs == {"num_inference_steps": 25, "guidance_scale": 7.5, "eta": 1.0, "fps": 8, "height": 320,
                      "width": 512, "num_frames": 16, "seed": 4, "progress": False}
    assert video.num_frames == 16
    described = model.describe()
    assert described["checkpoint_sha256"] == hashlib.sha256(b"videocrafter2-512").hexdigest()
    assert described["untrained"] is False and described["config"] == "i2v_512_v1.0"
    assert (engine / "videocrafter2-512" / "model.ckpt.json").is_file()  # the hash is recorded for next time


def test_t2v_model_gets_no_image(engine):
    model = load_model("videocrafter2-t2v-512", device="cpu", cache_dir=engine)
    q = Question(id="q", domain="d", prompt="a cat", first_frame=Image.new("RGB", (8, 8)))
    model.generate(q, q.first_frame, seed=0)
    image, _, kwargs = RecordingPipeline.built[0].calls[0]
    assert image is None and kwargs["fps"] == 28 and RecordingPipeline.built[0].config == "t2v_512_v2.0"


@pytest.mark.parametrize("override, fragment", [
    ({"height": "300"}, "height must be a positive multiple of 64"),
    ({"steps": "0"}, r"steps must be a whole number from 1 to 999 \(got 0\)"),
    ({"fps": "0"}, r"fps must be a whole number > 0 \(the model is conditioned on it\) \(got 0\)"),
    ({"frames": "0"}, r"frames must be a whole number >= 1 \(got 0\)"),
    ({"steps": "1000"}, r"steps must be a whole number from 1 to 999 \(got 1000\)"),
    ({"guidance": "0.5"}, r"guidance must be a finite number >= 1 \(1 turns guidance off\) \(got 0.5\)"),
    ({"guidance": "inf"}, r"guidance must be a finite number >= 1.*\(got inf\)"),
])
def test_settings_the_sampler_cannot_use_are_refused_before_loading(engine, override, fragment):
    with pytest.raises(UserError, match=fragment):
        load_model("videocrafter2-512", device="cpu", cache_dir=engine, overrides=override)
    assert RecordingPipeline.built == []
