import numpy as np
import pytest
import torch
from PIL import Image

from vmevalkit import models
from vmevalkit.errors import UserError, WeightsMissingError
from vmevalkit.models import (
    ModelSpec,
    check_weights,
    get_spec,
    list_models,
    load_model,
    register_model,
    resolve_device,
    resolve_settings,
    weights_present,
)
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question
from vmevalkit.video import Video


class Recorder(VideoModel):
    """Test-only model that keeps what it was built with."""

    def __init__(self, settings, device, dtype, weights):
        self._settings, self.device, self.dtype, self.weights = settings, device, dtype, weights

    @property
    def settings(self):
        return dict(self._settings)

    def generate(self, question, image, *, seed, progress=True):
        return Video(np.zeros((1, 4, 4, 3), np.uint8), 8)


@pytest.fixture
def registry(monkeypatch):
    """An isolated copy of the registry, so models registered by a test vanish after it."""
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    return models


def test_built_in_models_are_listed_with_kind_and_weights():
    specs = {s.id: s for s in list_models()}
    assert {"videocrafter2-512", "videocrafter2-t2v-512", "videocrafter-tiny", "static", "oracle"} <= set(specs)
    assert specs["videocrafter2-512"].kind == "i2v" and specs["videocrafter2-t2v-512"].kind == "t2v"
    assert specs["videocrafter2-512"].weights.repo_id == "VideoCrafter/Image2Video-512"
    assert specs["videocrafter2-512"].weights.filename == "model.ckpt"
    assert "VideoCrafter/Image2Video-512-v1.0" in specs["videocrafter2-512"].weights.alt_repo_ids
    assert specs["videocrafter2-t2v-512"].weights.repo_id == "VideoCrafter/VideoCrafter2"
    assert specs["videocrafter2-t2v-512"].defaults["fps"] == 28
    assert specs["videocrafter2-512"].defaults == {"steps": 50, "guidance": 12.0, "eta": 1.0, "fps": 8,
                                                   "frames": 16, "height": 320, "width": 512}
    tiny = specs["videocrafter-tiny"]
    assert tiny.untrained and tiny.weights is None and "UNTRAINED" in tiny.label
    assert tiny.defaults["height"] % 8 == 0 and tiny.defaults["width"] % 8 == 0
    assert specs["static"].kind == specs["oracle"].kind == "control"
    assert [s.kind for s in list_models()][-2:] == ["control", "control"]  # controls listed last
    assert "historical" in specs["videocrafter2-512"].description


def test_settings_are_converted_to_the_defaults_types_and_unknown_keys_listed():
    spec = get_spec("videocrafter-tiny")
    s = resolve_settings(spec, {"steps": "3", "guidance": "7.5", "frames": 4})
    assert s["steps"] == 3 and isinstance(s["steps"], int)
    assert s["guidance"] == 7.5 and isinstance(s["guidance"], float)
    assert s["frames"] == 4 and s["eta"] == spec.defaults["eta"]
    with pytest.raises(UserError, match=r"unknown setting 'stepz'.*valid settings: steps, guidance"):
        resolve_settings(spec, {"stepz": "3"})
    with pytest.raises(UserError, match="expects int for steps"):
        resolve_settings(spec, {"steps": "many"})


def test_bool_settings_accept_words(registry):
    spec = register_model(ModelSpec("flags", "test", "i2v", "test", build=lambda *a: None, defaults={"loop": False}))
    assert resolve_settings(spec, {"loop": "yes"}) == {"loop": True}
    assert resolve_settings(spec, {"loop": "0"}) == {"loop": False}
    with pytest.raises(UserError, match="expects bool"):
        resolve_settings(spec, {"loop": "maybe"})


def test_register_model_is_the_hook_for_own_models(registry, tmp_path):
    spec = ModelSpec("my-model", "mine", "i2v", "a user's model",
                     build=lambda spec, settings, device, dtype, weights: Recorder(settings, device, dtype, weights),
                     defaults={"steps": 10})
    register_model(spec)
    with pytest.raises(ValueError, match="already registered"):
        register_model(spec)
    register_model(spec, replace=True)
    model = load_model("my-model", device="cpu", overrides={"steps": "4"})
    assert isinstance(model, Recorder) and model.id == "my-model"
    assert model.settings == {"steps": 4} and model.device == "cpu" and model.weights is None
    assert "my-model" in [s.id for s in list_models()]
    with pytest.raises(ValueError, match="kind must be"):
        ModelSpec("x", "f", "video", "d", build=lambda *a: None)
    with pytest.raises(ValueError, match="lower-case"):
        ModelSpec("Bad Id", "f", "i2v", "d", build=lambda *a: None)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(UserError, match=r"unknown model 'videocrafter-2'.*videocrafter2-512.*static"):
        get_spec("videocrafter-2")


def test_weights_presence_and_the_one_line_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("VMEVALKIT_WEIGHTS", str(tmp_path / "env"))
    assert weights_present("static") and weights_present("videocrafter-tiny")
    assert not weights_present("videocrafter2-512")
    with pytest.raises(WeightsMissingError) as err:
        check_weights("videocrafter2-512")
    message = str(err.value)
    assert "\n" not in message and message.endswith("fetch them with: vmevalkit weights download videocrafter2-512")
    assert str(tmp_path / "env" / "videocrafter2-512" / "model.ckpt") in message
    with pytest.raises(WeightsMissingError, match=f"--cache-dir {tmp_path / 'flag'}$"):
        check_weights("videocrafter2-512", tmp_path / "flag")
    target = tmp_path / "env" / "videocrafter2-512" / "model.ckpt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert weights_present("videocrafter2-512")
    check_weights("videocrafter2-512")  # no error now


def test_load_model_stops_on_missing_weights_before_building(registry, tmp_path):
    built = []
    from vmevalkit.weights import WeightsSpec

    register_model(ModelSpec("needs-weights", "test", "i2v", "d", weights=WeightsSpec("org/repo", "w.safetensors"),
                             build=lambda *a: built.append(a) or Recorder({}, a[2], a[3], a[4])))
    with pytest.raises(WeightsMissingError, match="vmevalkit weights download needs-weights"):
        load_model("needs-weights", cache_dir=tmp_path)
    assert built == []
    (tmp_path / "needs-weights").mkdir()
    (tmp_path / "needs-weights" / "w.safetensors").write_bytes(b"x")
    load_model("needs-weights", device="cpu", cache_dir=tmp_path)
    assert built and built[0][4] == tmp_path / "needs-weights" / "w.safetensors"


def test_a_converted_safetensors_is_preferred_over_the_ckpt(tmp_path):
    folder = tmp_path / "videocrafter2-512"
    folder.mkdir()
    (folder / "model.ckpt").write_bytes(b"ckpt")
    from vmevalkit.weights import find_weights

    spec = get_spec("videocrafter2-512").weights
    assert find_weights("videocrafter2-512", spec, tmp_path) == folder / "model.ckpt"
    (folder / "model.safetensors").write_bytes(b"st")
    assert find_weights("videocrafter2-512", spec, tmp_path) == folder / "model.safetensors"


def test_devices():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UserError, match="choose one of auto, cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_controls_load_without_torch_device_and_honour_settings():
    static = load_model("static", device="cuda", overrides={"frames": "3"})  # device is ignored by controls
    q = Question(id="q", domain="d", prompt="p", first_frame=Image.new("RGB", (6, 4), (9, 9, 9)))
    video = static.generate(q, q.first_frame, seed=0)
    assert video.num_frames == 3 and static.settings == {"frames": 3, "fps": 8}


def test_prefixed_ids_are_made_by_their_resolver_once(registry, monkeypatch):
    monkeypatch.setattr(models, "_RESOLVERS", dict(models._RESOLVERS))
    made = []

    def resolve(rest):
        made.append(rest)
        return ModelSpec(f"demo-{rest.replace('/', '--')}", "demo", "i2v", "d", build=lambda *a: None,
                         reference=f"demo:{rest}", inputs=("image",))

    models.register_resolver("demo", resolve, "org/name")
    spec = get_spec("demo:org/name")
    assert spec.id == "demo-org--name" and spec.reference == "demo:org/name"
    assert get_spec("demo:org/name") is spec and get_spec("demo-org--name") is spec and made == ["org/name"]
    assert [s.id for s in list_models()].count("demo-org--name") == 1
    assert "ignores the prompt" in spec.label and spec.sees == ("image",)
    with pytest.raises(UserError, match="say what follows 'demo:'"):
        get_spec("demo:")
    with pytest.raises(UserError, match=r"or demo:<org/name>"):
        get_spec("nope")


def test_models_needing_an_environment_variable_stop_before_building(registry, monkeypatch):
    monkeypatch.delenv("DEMO_KEY", raising=False)
    register_model(ModelSpec("keyed", "test", "i2v", "d", env_vars=("DEMO_KEY",),
                             build=lambda *a: Recorder({}, a[2], a[3], a[4])))
    with pytest.raises(UserError, match="needs the environment variable DEMO_KEY"):
        load_model("keyed", device="cpu")
    monkeypatch.setenv("DEMO_KEY", "x")
    load_model("keyed", device="cpu")
