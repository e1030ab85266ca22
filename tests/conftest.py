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
