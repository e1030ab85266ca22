"""`vmevalkit weights verify` and `convert --dtype`, and reading checkpoints in torch's legacy format."""

import os

import pytest
import torch
from conftest import fixture_dir as videocrafter_dir
from dynamicrafter_fixtures import fixture_dir, one_thread, rebuilt_model, save_checkpoint  # noqa: F401 (autouse)
from safetensors.torch import load_file

from vmevalkit import weights
from vmevalkit.cli import main
from vmevalkit.errors import CheckpointError
from vmevalkit.models.lvdm.checkpoint import read_state_dict, read_tensor_specs
from vmevalkit.models.lvdm.dynamicrafter import DynamiCrafterPipeline
from vmevalkit.models.lvdm.pipeline import default_dtype


@pytest.fixture(scope="module")
def model():
    return rebuilt_model("512")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, model):
    return save_checkpoint(model, tmp_path_factory.mktemp("dc512") / "model.ckpt")


def test_a_legacy_format_checkpoint_is_read(tmp_path, model):
    """torch.save(_use_new_zipfile_serialization=False) files cannot be memory-mapped: read whole, still safely."""
    legacy = tmp_path / "legacy.ckpt"
    state = {k: v for k, v in list(model.state_dict().items())[:20]}
    torch.save({"state_dict": state}, legacy, _use_new_zipfile_serialization=False)
    back = read_state_dict(legacy)
    assert set(back) == set(state) and all(torch.equal(back[k], state[k]) for k in state)

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"state_dict": state, "x": Exploit()}, tmp_path / "evil.ckpt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="refused to load"):
        read_state_dict(tmp_path / "evil.ckpt")
    assert not (tmp_path / "pwned").exists()
    (tmp_path / "cut.ckpt").write_bytes(legacy.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_state_dict(tmp_path / "cut.ckpt")


def test_verify_a_fitting_checkpoint(ckpt, capsys):
    assert main(["weights", "verify", str(ckpt), "--config", str(fixture_dir("512") / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "899 tensors (899 float32)" in out and "OK: every key and shape matches the dynamicrafter i2v" in out


def test_verify_reports_the_grouped_differences_for_the_wrong_family(ckpt, tmp_path, capsys):
    assert main(["weights", "verify", str(ckpt), "--config", str(videocrafter_dir("i2v") / "config.yaml")]) == 2
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "shape differences (14):" in out
    assert "by module: image_proj_model.* (13), model.diffusion_model.* (1)" in out
    assert "model.diffusion_model.input_blocks.0.0.weight: checkpoint (32, 8, 3, 3) vs model (32, 4, 3, 3)" in out
    assert "image_proj_model.latents: checkpoint (1, 128, 24) vs model (1, 16, 24)" in out  # 16 tokens per frame
    assert "its keys and shapes point to the built-in config dynamicrafter_512_v1.0" in out
    vc = save_checkpoint(torch.nn.Module(), tmp_path / "empty.ckpt")
    assert main(["weights", "verify", str(vc), "--config", "dynamicrafter_512_v1.0"]) == 2
    assert "missing keys" in capsys.readouterr().out


def test_verify_reads_only_the_header_of_a_safetensors_file(ckpt, tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    assert main(["weights", "convert", str(ckpt), "--out", str(out), "--dtype", "fp16"]) == 0
    specs = read_tensor_specs(out)
    weights_ = [v for k, v in specs.items() if "." in k]
    assert weights_ and all(v.is_meta and v.dtype == torch.float16 for v in weights_)
    assert specs["alphas_cumprod"].dtype == torch.float32 and not specs["alphas_cumprod"].is_meta
    capsys.readouterr()
    assert main(["weights", "verify", str(out), "--config", str(fixture_dir("512") / "config.yaml")]) == 0
    assert "float16" in capsys.readouterr().out
    assert main(["weights", "verify", str(out)]) == 2  # tiny, so not the full-size 512 its keys point to
    assert "config dynamicrafter_512_v1.0 (chosen from its keys" in capsys.readouterr().out


def test_convert_to_half_precision_keeps_the_schedule_in_float32(ckpt, model, tmp_path):
    out = weights.convert(ckpt, tmp_path / "half.safetensors", "bf16")
    half = load_file(str(out))
    assert half["model.diffusion_model.out.2.weight"].dtype == torch.bfloat16
    assert torch.equal(half["model.diffusion_model.out.2.weight"],
                       model.state_dict()["model.diffusion_model.out.2.weight"].bfloat16())
    assert half["alphas_cumprod"].dtype == torch.float32 and torch.equal(half["alphas_cumprod"], model.alphas_cumprod)
    assert weights.read_record(out)["dtype"] == "bf16"
    pipe = DynamiCrafterPipeline.from_pretrained(out, config=fixture_dir("512") / "config.yaml", device="cpu")
    assert pipe.dtype == torch.float32 and pipe.model.alphas_cumprod.dtype == torch.float32  # the CPU runs float32
    assert default_dtype(torch.device("cuda"), torch.bfloat16) == torch.bfloat16  # a GPU keeps the file's dtype
    assert default_dtype(torch.device("cuda"), torch.float32) == torch.float16
    with pytest.raises(SystemExit):
        main(["weights", "convert", str(ckpt), "--dtype", "int8"])
