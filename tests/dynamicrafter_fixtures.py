"""The DynamiCrafter golden fixtures of tests/data/dynamicrafter (a trimmed copy of ../shared/fixtures/
dynamicrafter-{256,512}-tiny, made by the official code on tiny random models), for the tests that use them.

The fixtures' model.ckpt files are not copied: `random_model` rebuilds their weights bit for bit from the
seed (test_dynamicrafter_parity checks that against ../shared when it is present)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from vmevalkit.models.lvdm.config import load_config
from vmevalkit.models.lvdm.latent_diffusion import LatentVideoDiffusion
from vmevalkit.models.lvdm.random_weights import random_model

DATA = Path(__file__).resolve().parent / "data" / "dynamicrafter"
VARIANTS = ("256", "512")


def fixture_dir(variant: str) -> Path:
    """tests/data/dynamicrafter/<variant>-tiny: config, images, sampling arguments, golden tensors."""
    return DATA / f"{variant}-tiny"


def sampling_args(variant: str) -> dict:
    return json.loads((fixture_dir(variant) / "sampling_args.json").read_text())


def golden(variant: str) -> dict[str, torch.Tensor]:
    return load_file(str(fixture_dir(variant) / "golden.safetensors"))


def rebuilt_model(variant: str) -> LatentVideoDiffusion:
    """The fixture's official model, its weights rebuilt from the fixture's seed."""
    return random_model(load_config(fixture_dir(variant) / "config.yaml"), sampling_args(variant)["seed"])


def save_checkpoint(model: LatentVideoDiffusion, path: Path) -> Path:
    """Write a model as an official Lightning-style model.ckpt."""
    torch.save({"state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one torch thread is fastest and fair to other jobs (the official code moves by 1e-6 on a
    UNet call with 1 thread instead of 2). Autouse in the modules that import it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
