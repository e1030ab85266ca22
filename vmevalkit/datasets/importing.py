"""`vmevalkit tasks import`: a data set's snapshot from the Hub, converted into VMEvalKit question folders.

Each question is written whole into `<out>/.importing/` and then moved to `<out>/<domain>_task/<id>/` with one
rename, so an interrupted import leaves only complete questions behind (and, at worst, a staging folder that
the next import into `<out>` removes: one import into a folder at a time). A rerun skips the questions already
converted from the same commit by the same version of the conversion, and redoes the others."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmevalkit.datasets.base import DatasetSource, Record, plain_name
from vmevalkit.datasets.hub import download_snapshot
from vmevalkit.errors import UserError
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.questions import FIRST_FRAME, METADATA, Question, write_question

STAGING = ".importing"
SCRATCH = ".scratch"  # what a conversion unpacks (an archive, say), kept until the import is complete


@dataclass
class ImportSummary:
    source: DatasetSource
    out: Path
    commit: str | None
    imported: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        commit = f"commit {self.commit[:12]}" if self.commit else "an unknown commit"
        out = [(f"imported {self.imported} question(s) into {self.out} ({self.already} already there) from "
                f"{self.source.title} ({self.source.repo_id} at {commit}; licence: {self.source.licence})")]
        out += [f"skipped {problem}" for problem in self.problems]
        out.append(f"run them with: {shlex.join(['vmevalkit', 'run', '--questions', str(self.out)])}")
        return out


def import_command(name: str, out: Path, cache_dir: Path | None, revision: str | None, limit: int | None) -> str:
    """The command line that runs (and, rerun, resumes) this import."""
    args = ["vmevalkit", "tasks", "import", name, "--out", str(out)]
    args += ["--cache-dir", str(cache_dir)] if cache_dir else []
    args += ["--revision", revision] if revision else []
    args += ["--limit", str(limit)] if limit else []
    return shlex.join(args)


def source_record(source: DatasetSource, revision: str | None, commit: str | None) -> dict[str, Any]:
    """What every imported question's metadata says about where it came from (its `source` key)."""
    return {"dataset": source.title, "name": source.name, "repo_id": source.repo_id, "url": source.url,
            "revision": revision or "main", "commit": commit, "licence": source.licence,
            "conversion_version": source.version}


def already_imported(folder: Path, source: dict[str, Any]) -> bool:
    """Whether `folder` holds this question converted from the same commit by the same conversion."""
    meta = json_object_or_none(folder / METADATA)
    old = meta.get("source") if meta else None
    return (isinstance(old, dict) and (folder / FIRST_FRAME).is_file()
            and all(old.get(k) == source[k] for k in ("repo_id", "commit", "conversion_version")))


def import_set(source: DatasetSource, out: Path, *, cache_dir: Path | None = None, revision: str | None = None,
               limit: int | None = None) -> ImportSummary:
    """Download `source` (only what it needs) and write its first `limit` questions (all by default) into `out`."""
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{out}: cannot create the output folder ({e.strerror or e}); choose a writable --out") from e
    rerun = import_command(source.name, out, cache_dir, revision, limit)
    snapshot, commit = download_snapshot(source.repo_id, source.allow_patterns, cache_dir, revision, rerun)
    origin = source_record(source, revision, commit)
    summary = ImportSummary(source, out, commit)
    staging = out / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a killed import left: never a finished question
    scratch = out / SCRATCH / f"{source.name}-{commit or 'unknown'}"
    keys: set[str] = set()
    for record in source.read(snapshot, scratch):
        if limit is not None and summary.imported + summary.already + len(summary.problems) >= limit:
            break
        if isinstance(record, str):
            summary.problems.append(record)
            continue
        try:
            _import_one(record, out, origin, keys, staging, summary)
        except OSError as e:
            raise UserError(f"{out}: cannot write the question ({e.strerror or e}); free some space or choose "
                            f"another --out, then rerun `{rerun}`, which resumes") from e
    shutil.rmtree(staging, ignore_errors=True)
    if limit is None:  # complete: what the conversion unpacked is no longer needed
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            (out / SCRATCH).rmdir()
    return summary


def _import_one(record: Record, out: Path, origin: dict[str, Any], keys: set[str], staging: Path,
                summary: ImportSummary) -> None:
    label = record.metadata.get("original_id") or record.id
    try:
        domain, qid = plain_name(record.domain, "domain"), plain_name(record.id, "question id")
    except UserError as e:
        summary.problems.append(f"{label}: {e}")
        return
    key, n = f"{domain}_task/{qid}", 1
    while key in keys:  # two questions of the set with one id: both are kept, the later one numbered
        n += 1
        key = f"{domain}_task/{qid}-{n}"
    keys.add(key)
    final = out / key
    if already_imported(final, origin):
        summary.already += 1
        return
    if not record.prompt.strip():
        summary.problems.append(f"{label}: the set gives no prompt for it")
        return
    try:
        first, last = record.images()
    except UserError as e:
        summary.problems.append(f"{label}: {e}")
        return
    question = Question(id=final.name, domain=domain, prompt=record.prompt.strip(), first_frame=first,
                        final_frame=last, metadata={**record.metadata, "source": origin},
                        ground_truth=record.ground_truth)
    staged = staging / str(len(keys))
    _publish(write_question(question, staged), final)
    shutil.rmtree(staged, ignore_errors=True)
    summary.imported += 1


def _publish(staged: Path, final: Path) -> None:
    """Move the complete question folder `staged` to `final`; an older `final` (another commit's) goes only now."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(staged, final)
        return
    old = staged.with_name(staged.name + ".old")
    os.replace(final, old)
    os.replace(staged, final)
    shutil.rmtree(old, ignore_errors=True)
