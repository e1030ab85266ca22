"""Rows of `scores.jsonl`: one JSON object per (model, question, sample, scorer) verdict, appended atomically.

A row holds the item (`model`, `question` key, `sample`, `domain`, `task`), the scorer (`scorer`, `version`,
and the `method`/`method_version` its Score named), the verdict (`correct`: true/false, or null with
`error`), `score` in [0, 1], `consistent` (whether what the task must leave alone stayed put: true/false,
or null where the scorer does not check it), `details`, the sha256 of the video it judged and when. A row
without `sample` (written before samples) is about sample 0. Later rows supersede earlier ones for the
same (model, question, sample, scorer), so re-scoring and human corrections only ever append.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from vmevalkit.atomic import append_line
from vmevalkit.jsonfile import parse_json_object
from vmevalkit.results import SCORES, ResultItem, is_count
from vmevalkit.scoring.base import Score

RowKey = tuple[str, str, int, str]  # (model, question key, sample, scorer)


def scorer_kind(scorer: str) -> str:
    """`vlm:qwen2-vl` -> `vlm`; other scorer names are their own kind."""
    return scorer.split(":", 1)[0]


def make_row(item: ResultItem, scorer: str, version: str, score: Score, video_sha256: str,
             task: str | None) -> dict[str, Any]:
    meta_q = item.metadata["question"]
    return {
        "model": item.model,
        "question": item.question_key,
        "sample": item.sample,
        "domain": meta_q["domain"],
        "task": task,
        "scorer": scorer,
        "version": version,
        "method": score.scorer,
        "method_version": score.version,
        "correct": score.correct,
        "score": score.score,
        "consistent": score.consistent,
        "details": score.details,
        "error": score.error,
        "video_sha256": video_sha256,
        "scored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def append_row(experiment_dir: str | os.PathLike, row: dict[str, Any]) -> None:
    append_line(Path(experiment_dir) / SCORES, json.dumps(row, sort_keys=True, default=str))


def _is_score_row(row: dict[str, Any]) -> bool:
    """Whether a parsed line has what readers of rows rely on: string keys, a sample number, true/false/null
    verdict and consistency."""
    return (all(isinstance(row.get(key), str) for key in ("model", "question", "scorer"))
            and is_count(row.get("sample", 0), 0) and row.get("correct") in (True, False, None)
            and row.get("consistent") in (True, False, None) and isinstance(row.get("details", {}), dict))


def read_rows(experiment_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every readable row in file order; a line that is not a score row (truncated, not UTF-8, not a JSON
    object, fields of the wrong type) is reported with its line number and skipped."""
    path = Path(experiment_dir) / SCORES
    if not path.is_file():
        return []
    rows = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = parse_json_object(line)
            except ValueError as e:
                print(f"warning: {path}:{number}: skipped a broken line ({e})", file=sys.stderr)
                continue
            if _is_score_row(row):
                rows.append(row)
            else:
                print(f"warning: {path}:{number}: skipped a line that is not a score row", file=sys.stderr)
    return rows


def about_video(row: dict[str, Any], video_sha256: str) -> bool:
    """Whether `row` judged the video with this sha256 (a row that names no video is taken as about it)."""
    return row.get("video_sha256", video_sha256) == video_sha256


def row_sample(row: dict[str, Any]) -> int:
    """The sample a row is about (0 for a row written before samples)."""
    return row.get("sample", 0)


def latest_rows(rows: Iterable[dict[str, Any]]) -> dict[RowKey, dict[str, Any]]:
    """The last row for each (model, question, sample, scorer)."""
    return {(r["model"], r["question"], row_sample(r), r["scorer"]): r for r in rows}
