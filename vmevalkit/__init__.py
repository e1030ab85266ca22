"""vmevalkit: ask video models to solve visual reasoning questions, and check whether they did.

`from vmevalkit import VideoCrafterPipeline, DynamiCrafterPipeline` gives the LVDM engine's pipelines; they
are imported on first use, so `import vmevalkit` stays light (no torch)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
_PIPELINES = ("VideoCrafterPipeline", "DynamiCrafterPipeline")


def __getattr__(name: str) -> Any:
    if name in _PIPELINES:
        from vmevalkit.models.lvdm import PIPELINES, pipeline_class

        return pipeline_class(next(family for family, (_, cls) in PIPELINES.items() if cls == name))
    raise AttributeError(f"module 'vmevalkit' has no attribute {name!r}")
