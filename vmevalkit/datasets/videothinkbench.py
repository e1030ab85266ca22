"""VideoThinkBench ("Thinking with Video", OpenMOSS-Team/VideoThinkBench on the Hub, MIT licence).

Its vision-centric tasks are Parquet files, one per subset (`Vision-Centric_Reasoning/<subset>.parquet`, and a
500-question `minitest_Vision-Centric_Reasoning/` sample), with the columns `task`, `id`, `prompt`, `image`
(the puzzle) and `solution_image` (the solved puzzle), images stored as {bytes, path}. Each row becomes a
question: `image` is the first frame, `solution_image` the expected final frame, `prompt` the prompt; the
row's other columns are kept in the metadata. The text-centric tasks (MATH, GSM8K, MMLU, ...) are not
imported: most have no image, and their answers are text a judge must read from the video."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vmevalkit.datasets.base import DatasetSource, Record
from vmevalkit.errors import UserError
from vmevalkit.images import decode_rgb

REPO = "OpenMOSS-Team/VideoThinkBench"
IMAGE_COLUMNS = ("image", "solution_image")
BATCH_ROWS = 16  # rows decoded at once: a Parquet file is read a few images at a time, never whole


def _image_bytes(value: Any, label: str) -> bytes:
    """The encoded image in a cell: the Hub's {bytes, path} struct, or plain bytes."""
    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise UserError(f"{label}: holds no image bytes")
    return bytes(data)


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise UserError("reading VideoThinkBench needs pyarrow: pip install 'vmevalkit[datasets]'") from e
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        yield from batch.to_pylist()


def _records(snapshot: Path, folder: str, split: str) -> Iterator[Record | str]:
    files = sorted((snapshot / folder).glob("*.parquet"))
    if not files:
        yield f"{folder}: no Parquet files in the download"
    for path in files:
        subset = path.stem
        where = f"{folder}/{path.name}"
        try:
            for row_number, row in enumerate(_rows(path)):
                yield _record(row, row_number, subset, where, split)
        except (OSError, ValueError) as e:  # pyarrow's errors for a truncated or foreign file: skip that file only
            yield f"{where}: not a readable Parquet file ({type(e).__name__}: {e})"


def _record(row: dict[str, Any], row_number: int, subset: str, where: str, split: str) -> Record:
    original_id = row.get("id")
    label = f"{where} row {row_number}"
    cells = {name: row.get(name) for name in IMAGE_COLUMNS}

    def images():
        first = decode_rgb(_image_bytes(cells["image"], f"{label} image"), f"{label} image")
        solution = cells["solution_image"]
        return first, (decode_rgb(_image_bytes(solution, f"{label} solution_image"), f"{label} solution_image")
                       if solution is not None else None)

    kept = {k: v for k, v in row.items() if k not in IMAGE_COLUMNS and isinstance(v, (str, int, float, bool))}
    metadata = {"original_id": str(original_id) if original_id is not None else None, "subset": subset,
                "split": split, "original": kept, "source_file": where, "source_row": row_number}
    if cells["solution_image"] is not None:
        metadata["original_answer"] = "solution_image, kept as final_frame.png"
    return Record(domain=f"videothinkbench-{subset.lower()}",
                  id=str(original_id) if original_id not in (None, "") else f"{row_number:05d}",
                  prompt=str(row.get("prompt") or ""), images=images, metadata=metadata)


def _source(name: str, folder: str, split: str, what: str) -> DatasetSource:
    return DatasetSource(
        name=name, title="VideoThinkBench", repo_id=REPO, licence="MIT",
        description=f"VideoThinkBench vision-centric tasks ({what}), with solved images",
        allow_patterns=(f"{folder}/*.parquet", "README.md"),
        read=lambda snapshot, scratch: _records(snapshot, folder, split))


SOURCES = (_source("videothinkbench", "Vision-Centric_Reasoning", "test", "test split"),
           _source("videothinkbench-mini", "minitest_Vision-Centric_Reasoning", "minitest", "500-question minitest"))
