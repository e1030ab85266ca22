"""External question sets the kit imports from the Hugging Face Hub (`vmevalkit tasks import NAME`).

One module per set reads a snapshot of it into Records (vmevalkit.datasets.base); vmevalkit.datasets.importing
downloads and writes them as VMEvalKit question folders. VBVR-Bench needs no import: its folders are read as
they are (`vmevalkit run --questions <VBVR-Bench root or split folder>`)."""

from __future__ import annotations

from vmevalkit.datasets import mme_cof, videothinkbench, vr_bench
from vmevalkit.datasets.base import DatasetSource
from vmevalkit.errors import UserError

SOURCES: dict[str, DatasetSource] = {s.name: s for m in (videothinkbench, mme_cof, vr_bench) for s in m.SOURCES}


def get_source(name: str) -> DatasetSource:
    if name not in SOURCES:
        raise UserError(f"unknown question set {name!r}; choose one of {', '.join(SOURCES)} (VBVR-Bench needs no "
                        "import: pass its folder to `vmevalkit run --questions`)")
    return SOURCES[name]
