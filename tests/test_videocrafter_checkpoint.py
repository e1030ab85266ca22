"""Loading checkpoints: strict, safe, and with messages that say what is wrong."""

import os

import pytest
import torch
from conftest import fixture_dir
from safetensors.torch import save_file

from vmevalkit.errors import CheckpointError, UserError
from vmevalkit.models.lvdm.checkpoint import read_state_dict
from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.pipeline import VideoCrafterPipeline

CONFIG = fixture_dir("t2v") / "config.yaml"


@pytest.fixture(scope="module")
def state(fixture_checkpoint):
    return read_state_dict(fixture_checkpoint("t2v"))


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found.*vmevalkit weights download"):
        VideoCrafterPipeline.from_pretrained(tmp_path / "model.ckpt", config=CONFIG)


def test_mismatched_keys_are_listed(tmp_path, state):
    broken = dict(state)
    del broken["model.diffusion_model.out.2.weight"]
    broken["model.diffusion_model.extra.weight"] = torch.zeros(1)
    broken["first_stage_model.quant_conv.bias"] = torch.zeros(99)
    path = tmp_path / "broken.ckpt"
    torch.save({"state_dict": broken}, path)
    with pytest.raises(CheckpointError) as err:
        VideoCrafterPipeline.from_pretrained(path, config=CONFIG)
    msg = str(err.value)
    assert "missing keys (1)" in msg and "model.diffusion_model.out.2.weight" in msg
    assert "unexpected keys (1)" in msg and "model.diffusion_model.extra.weight" in msg
    assert "first_stage_model.quant_conv.bias: checkpoint (99,) vs model (8,)" in msg


def test_wrong_config_for_the_checkpoint(fixture_checkpoint):
    with pytest.raises(CheckpointError, match=r"unexpected keys \(\d+\):\n    by module: embedder\.model\.\* \(38\), image_proj_model\.\* \(51\)"):
        VideoCrafterPipeline.from_pretrained(fixture_checkpoint("i2v"), config=CONFIG)


def test_truncated_files(tmp_path, fixture_checkpoint, state):
    data = fixture_checkpoint("t2v").read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_state_dict(tmp_path / "cut.ckpt")
    save_file({k: v.contiguous() for k, v in list(state.items())[:3]}, tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError, match="truncated"):
        read_state_dict(tmp_path / "cut.safetensors")


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['VMEVALKIT_PWNED']}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("VMEVALKIT_PWNED", str(marker))
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Exploit()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        read_state_dict(path)
    assert not marker.exists()


def test_safetensors_loads_like_the_ckpt(tmp_path, state, fixture_checkpoint):
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, path)
    a = VideoCrafterPipeline.from_pretrained(path, config=CONFIG, device="cpu")
    b = VideoCrafterPipeline.from_pretrained(fixture_checkpoint("t2v"), config=CONFIG, device="cpu")
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert a.kind == "t2v" and a.describe()["checkpoint"].endswith("model.safetensors")


def test_config_is_chosen_from_the_keys():
    assert load_config("i2v_512_v1.0").kind == "i2v" and load_config("t2v_512_v2.0").kind == "t2v"
    full = load_config("i2v_512_v1.0")
    assert full.unet.model_channels == 320 and full.default_size == (320, 512) and full.resampler.dim == 1280
    assert full.text_clip["text_cfg"]["width"] == 1024  # ViT-H-14 from open_clip's own config


def test_unsupported_or_broken_configs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {target: lvdm.models.ddpm3d.LatentDiffusion}\n")
    with pytest.raises(UserError, match="not a VideoCrafter config"):
        load_config(bad)
    text = CONFIG.read_text().replace("use_relative_position: false", "use_relative_position: true")
    bad.write_text(text)
    with pytest.raises(UserError, match="use_relative_position"):
        load_config(bad)
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "nope.yaml")
