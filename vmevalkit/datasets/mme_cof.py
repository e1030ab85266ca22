"""MME-CoF ("Are Video Models Ready as Zero-Shot Reasoners?", ZiyuG/MME-CoF on the Hub).

The set is `data.json`, an array of {idx, image, category, question, reasoning_prompt}, beside the images it
names (`<category folder>/<n>.jpg`). Each entry becomes a question: the image is the first frame and
`reasoning_prompt` (the instruction its authors gave the video model) the prompt; `category`, `question` and
`idx` are kept in the metadata. MME-CoF has no answers: its authors rate videos with a VLM against the
question, so these questions have no expected final frame and are judged by a person (`vmevalkit review`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vmevalkit.datasets.base import DatasetSource, Record, inside, plain_name
from vmevalkit.errors import UserError
from vmevalkit.images import load_rgb
from vmevalkit.jsonfile import read_json_array

INDEX = "data.json"


def _records(snapshot: Path, scratch: Path) -> Iterator[Record | str]:
    try:
        entries = read_json_array(snapshot / INDEX)
    except UserError as e:  # it names the file
        yield str(e)
        return
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            yield f"{INDEX} entry {position}: not a JSON object"
            continue
        try:
            yield _record(snapshot, entry, position)
        except UserError as e:
            yield f"{INDEX} entry {position}: {e}"


def _record(snapshot: Path, entry: dict[str, Any], position: int) -> Record:
    idx = entry.get("idx", position)
    image = inside(snapshot, str(entry.get("image") or ""), "image")
    category = str(entry.get("category") or "uncategorised")
    metadata = {"original_id": str(idx), "category": category, "question": entry.get("question"),
                "source_file": str(entry.get("image")),
                "original_answer": None,  # the set has none: a person (or a VLM told the question) judges
                "judged_by": "a person: the set has no expected final frame"}
    return Record(domain=f"mme-cof-{plain_name(category.lower(), 'category')}",
                  id=f"{idx:04d}" if isinstance(idx, int) else str(idx),
                  prompt=str(entry.get("reasoning_prompt") or ""),
                  images=lambda: (load_rgb(image), None), metadata=metadata)


SOURCES = (DatasetSource(
    name="mme-cof", title="MME-CoF", repo_id="ZiyuG/MME-CoF",
    licence="not stated (ask the authors before redistributing)",
    description="MME-CoF chain-of-frame reasoning probes; no answers, so a person judges",
    allow_patterns=(INDEX, "README.md", "*.jpg", "*.jpeg", "*.png", "*.webp"),
    read=_records),)
