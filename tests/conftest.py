import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
SHARED = Path(os.environ.get("VMEVALKIT_SHARED", ROOT.parent.parent / "shared"))


@pytest.fixture
def test_questions() -> Path:
    """The older kit's five question folders (copied into tests/data from ../shared/questions)."""
    return DATA / "questions" / "vmevalkit-test-task"

VIDEOCRAFTER_DATA = DATA / "videocrafter"


def fixture_dir(kind: str) -> Path:
    """tests/data/videocrafter/<kind>-tiny: config, images, golden tensors of the official code."""
    return VIDEOCRAFTER_DATA / f"{kind}-tiny"


@pytest.fixture(scope="session")
def fixture_checkpoint(tmp_path_factory):
    """The official fixture model.ckpt of a kind: from ../shared when present, else rebuilt from its seed
    (the rebuild is bit-identical; test_videocrafter_parity checks that against ../shared)."""
    import json

    import torch

    from vmevalkit.models.lvdm.config import load_config
    from vmevalkit.models.lvdm.random_weights import random_model

    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        shared = SHARED / "fixtures" / f"videocrafter-{kind}-tiny" / "model.ckpt"
        if shared.is_file():
            return shared
        if kind not in made:
            seed = json.loads((fixture_dir(kind) / "sampling_args.json").read_text())["seed"]
            model = random_model(load_config(fixture_dir(kind) / "config.yaml"), seed)
            made[kind] = tmp_path_factory.mktemp(kind) / "model.ckpt"
            torch.save({"state_dict": model.state_dict()}, made[kind])
        return made[kind]

    return get
