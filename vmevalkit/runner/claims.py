"""Per-item claims, so that several processes on one experiment (one machine or several sharing a filesystem)
each take different items.

A claim is a small JSON file `<experiment>/.claims/<model>/<item path>.claim` holding the claimant's host, pid,
run id and start time, created while holding the experiment lock (vmevalkit.locks). A claim is stale, and taken over, when its process is gone (same host) or when
it has not been refreshed for `stale_after` seconds (any host): a heartbeat thread refreshes the claims a
process holds every `heartbeat` seconds, so a long generation keeps its claim and a killed one loses it."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path

from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.locks import experiment_lock

CLAIMS = ".claims"
STALE_ENV = "VMEVALKIT_CLAIM_STALE_S"
DEFAULT_STALE_S = 600.0  # ten heartbeats missed: the claimant is gone


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return True


class Claims:
    """The claims one process holds on one experiment."""

    def __init__(self, experiment_dir: Path, run_id: str, *, stale_after: float | None = None,
                 heartbeat: float | None = None) -> None:
        self.dir = experiment_dir
        self.run_id = run_id
        self.host = platform.node()
        self.pid = os.getpid()
        self.stale_after = stale_after if stale_after is not None else float(
            os.environ.get(STALE_ENV) or DEFAULT_STALE_S)
        self.heartbeat = heartbeat if heartbeat is not None else max(self.stale_after / 10, 0.05)
        self._held: set[Path] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def path(self, item_name: str) -> Path:
        return self.dir / CLAIMS / f"{item_name}.claim"

    def _stale(self, claim: dict | None, path: Path) -> bool:
        if claim is None:  # unreadable: a claimant killed while writing it
            return True
        if claim.get("host") == self.host and isinstance(claim.get("pid"), int) and not process_alive(claim["pid"]):
            return True
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > self.stale_after

    def take(self, item_name: str) -> bool:
        """Claim an item; False when a live claimant (another process, or this one already) holds it."""
        path = self.path(item_name)
        with experiment_lock(self.dir):
            if path.exists() and not self._stale(json_object_or_none(path), path):
                return False
            claim = {"host": self.host, "pid": self.pid, "run": self.run_id,
                     "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)  # a stale claim: taken over (we hold the lock)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # one small write: no temp file
            try:
                os.write(fd, json.dumps(claim).encode())
            finally:
                os.close(fd)
        with self._lock:
            self._held.add(path)
        self._start_heartbeat()
        return True

    def release(self, item_name: str) -> None:
        path = self.path(item_name)
        with self._lock:
            self._held.discard(path)
        path.unlink(missing_ok=True)

    def holder(self, item_name: str) -> dict | None:
        """Who holds an item's claim (host, pid, run, started), if anyone live does."""
        path = self.path(item_name)
        claim = json_object_or_none(path)
        return None if claim is None or self._stale(claim, path) else claim

    def _start_heartbeat(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="vmevalkit-claims", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._lock:
                held = list(self._held)
            for path in held:
                try:
                    os.utime(path)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        """Stop the heartbeat and release every claim still held."""
        self._stop.set()
        with self._lock:
            held, self._held = list(self._held), set()
        for path in held:
            path.unlink(missing_ok=True)

