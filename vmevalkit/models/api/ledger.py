"""The job ledger: one JSON record per job in a model's workdir, so that no job is paid for twice.

A job is keyed by a hash of what is asked (model, provider model, prompt, image bytes, request settings,
seed). Its record is written atomically before the create request ("creating"), again as soon as the
provider returns the job id, on every change of the provider's status, and when the video is on disk
("downloaded"). The record holds no secret: the request is stored with the image's hash, not its bytes,
and every text write is scrubbed (vmevalkit.atomic). Threads of one process take the key's lock; processes
sharing the folder also take an advisory file lock (POSIX), so two runs never create the same job."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vmevalkit.atomic import write_json
from vmevalkit.jsonfile import read_json_object

try:
    import fcntl
except ImportError:  # not POSIX: thread locks only
    fcntl = None  # type: ignore[assignment]

JOBS = "jobs"
VIDEOS = "videos"


def job_key(identity: dict[str, Any]) -> str:
    """The key of a job: a hash of what is asked, stable across runs and processes."""
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Ledger:
    """The records of one model's jobs under `folder` (the model's workdir)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, key: str) -> Path:
        return self.folder / JOBS / f"{key}.json"

    def video_path(self, key: str) -> Path:
        return self.folder / VIDEOS / f"{key}.mp4"

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Exclusive use of one job's record: by threads of this process, and by other processes."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if fcntl is None:
                yield
                return
            lock_path = self.folder / JOBS / f"{key}.lock"
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def load(self, key: str) -> dict[str, Any] | None:
        """The job's record, None when there is none; a broken one is an error (a guess could pay twice)."""
        path = self.path(key)
        return read_json_object(path) if path.exists() else None

    def save(self, record: dict[str, Any]) -> None:
        record["updated"] = now()
        write_json(self.path(record["key"]), record)

    def note(self, record: dict[str, Any], status: str, detail: str = "") -> None:
        """Set the record's status, add it to the history, and save."""
        record["status"] = status
        entry = {"at": now(), "status": status}
        if detail:
            entry["detail"] = detail
        record.setdefault("history", []).append(entry)
        self.save(record)
