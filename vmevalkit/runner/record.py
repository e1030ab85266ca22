"""experiment.json: one record per run (options, models and settings, questions, versions, summary), updated
under the experiment lock so that runs started together never lose each other's record."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import vmevalkit
from vmevalkit.atomic import write_json
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.results import EXPERIMENT
from vmevalkit.locks import experiment_lock

VERSIONED_PACKAGES = ("torch", "open_clip_torch", "av", "numpy", "pillow", "huggingface_hub", "safetensors",
                      "diffusers", "transformers", "ray")


def package_versions() -> dict[str, str | None]:
    """Python's, the kit's and the key packages' versions (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "vmevalkit": vmevalkit.__version__}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_run_id() -> str:
    """A run's id, unique across processes and hosts."""
    return f"{platform.node()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def save_run(experiment_dir: Path, record: dict[str, Any]) -> None:
    """Add or replace (by its "id") one run's record in experiment.json."""
    path = experiment_dir / EXPERIMENT
    with experiment_lock(experiment_dir):
        data = json_object_or_none(path) or {}
        runs = [r for r in data.get("runs", []) if isinstance(r, dict)] if isinstance(data.get("runs"), list) else []
        for i, run in enumerate(runs):
            if run.get("id") == record["id"]:
                runs[i] = record
                break
        else:
            runs.append(record)
        write_json(path, {"experiment": experiment_dir.name, "runs": runs})


def start_record(experiment_dir: Path, run_id: str, opts: Any, models: dict[str, Any], device: str,
                 questions: list[str], problems: list[dict[str, str]], versions: dict[str, Any],
                 extra: dict[str, Any]) -> dict[str, Any]:
    record = {"id": run_id, "started": now(), "finished": None, "argv": sys.argv[1:], "options": asdict(opts),
              "models": models, "device": device, "questions": questions, "unreadable_questions": problems,
              "versions": versions, "host": platform.node(), **extra}
    save_run(experiment_dir, record)
    return record


def finish_record(experiment_dir: Path, record: dict[str, Any], summary: list[dict[str, Any]], exit_code: int,
                  extra: dict[str, Any] | None = None) -> None:
    record.update(finished=now(), summary=summary, exit_code=exit_code, **(extra or {}))
    save_run(experiment_dir, record)
