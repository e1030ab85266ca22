"""Folders built beside their final place and moved there whole, so nothing half-written looks finished.

A writer builds each folder under `<root>/<staging>/<pid>-<n>/` and publishes it with one rename; a killed
writer's leftovers are removed by the next one (their process no longer exists)."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path


class Staging:
    """Staging folders of this process under `area` (e.g. `<out>/.importing`)."""

    def __init__(self, area: Path) -> None:
        self.area = area
        self._numbers = itertools.count(1)

    def clean_stale(self) -> None:
        """Remove staging folders whose process is gone (a killed run), keeping live writers' folders."""
        if not self.area.is_dir():
            return
        for entry in self.area.iterdir():
            pid = entry.name.split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue
            shutil.rmtree(entry, ignore_errors=True)

    def new(self) -> Path:
        """A fresh, empty staging folder."""
        folder = self.area / f"{os.getpid()}-{next(self._numbers)}"
        folder.mkdir(parents=True)
        return folder

    def remove_if_empty(self) -> None:
        remove_if_empty(self.area)


def publish(staged: Path, final: Path) -> None:
    """Move the complete folder `staged` to `final`, replacing an older `final` only now."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = staged.with_name(staged.name + ".old")
        os.replace(final, old)
    os.replace(staged, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return True
