"""Writing items: staging, atomic publish, and the check that an item on disk is finished.

New files are written into `<experiment>/.staging/<pid>-<n>/` and moved into place only once complete
(metadata.json last), so nothing half-written ever looks finished. Replacing an older result moves it aside
to a hidden sibling `.<name>.replaced` first; if the process dies before the new one is in place, the next
run puts the old one back (`recover`), so a complete result is never lost to a kill. Executors of every kind
publish through `Experiment.write`."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Any

from vmevalkit.atomic import write_json
from vmevalkit.errors import UserError
from vmevalkit.questions import QUESTION_FILES, Question, save_png
from vmevalkit.results import LAST_FRAME, METADATA, QUESTION_DIR, VIDEO, read_item
from vmevalkit.locks import experiment_lock
from vmevalkit.runner.claims import process_alive
from vmevalkit.runner.plan import Item
from vmevalkit.video import Video, write_mp4

MODEL_INPUT = "model_input.png"  # the first frame exactly as the model received it (after the fit)
STAGING = ".staging"
MODEL_STATE = ".models"  # <experiment>/.models/<model>/: each model's state kept across reruns (VideoModel.workdir)
REPLACED = ".replaced"  # suffix of an older result moved aside while its replacement is published


class Experiment:
    """One experiment folder: where items go, which are finished, and how they are published."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.name = directory.name
        self._count = itertools.count(1)

    def model_workdir(self, model_id: str) -> Path:
        """Where a model keeps state across reruns of this experiment (a hosted model's job ledger)."""
        return self.dir / MODEL_STATE / model_id

    def item_dir(self, item: Item) -> Path:
        return self.dir / item.model / item.path

    def finished(self, item: Item) -> dict[str, Any] | None:
        """The metadata of the item's finished result with its key, else None."""
        folder = self.item_dir(item)
        found = read_item(folder)
        if found is None or not found.ok or found.metadata.get("result_key") != item.key:
            return None
        if not (folder / LAST_FRAME).is_file():
            return None
        try:
            found.check_video()  # the header and packets say the video is whole (no decoding of every frame)
        except UserError:
            return None
        return found.metadata

    def recover(self) -> None:
        """Put back older results whose replacement never arrived, and drop the staging of dead runs."""
        with experiment_lock(self.dir):
            for aside in self.dir.glob(f"*/*/.*{REPLACED}"):
                final = aside.with_name(aside.name[1:-len(REPLACED)])
                if final.exists():
                    shutil.rmtree(aside, ignore_errors=True)
                else:
                    os.replace(aside, final)
            staging = self.dir / STAGING
            for entry in staging.iterdir() if staging.is_dir() else ():
                pid = entry.name.split("-", 1)[0]
                if not (pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid))):
                    shutil.rmtree(entry, ignore_errors=True)

    def _staging_dir(self) -> Path:
        folder = self.dir / STAGING / f"{os.getpid()}-{next(self._count)}"
        folder.mkdir(parents=True)
        return folder

    def _publish(self, staged: Path, final: Path) -> None:
        """Move a complete staged item into place; an older one is kept aside until the new one is in."""
        final.parent.mkdir(parents=True, exist_ok=True)
        aside = final.with_name(f".{final.name}{REPLACED}")
        with experiment_lock(self.dir):
            if final.exists():
                shutil.rmtree(aside, ignore_errors=True)
                os.replace(final, aside)
            os.replace(staged, final)
        shutil.rmtree(aside, ignore_errors=True)

    def write(self, item: Item, metadata: dict[str, Any], video: Video | None = None,
              model_input=None) -> Path:
        """Write an item (video + last frame when there is one, question copy, metadata last) and publish it."""
        staged = self._staging_dir()
        try:
            if video is not None:
                metadata["video"] = {"codec": write_mp4(video, staged / VIDEO), "num_frames": video.num_frames,
                                     "fps": video.fps, "width": video.size[0], "height": video.size[1]}
                save_png(video.last_frame, staged / LAST_FRAME)
            if model_input is not None:
                save_png(model_input, staged / MODEL_INPUT)
            copy_question(item.question, staged / QUESTION_DIR)
            write_json(staged / METADATA, metadata)
            final = self.item_dir(item)
            self._publish(staged, final)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        return final

    def remove_empty_staging(self) -> None:
        try:
            (self.dir / STAGING).rmdir()
        except OSError:
            pass


def copy_question(question: Question, dest: Path) -> None:
    """Copy the question's files byte for byte from the folder it was read from."""
    if question.source is None:
        raise ValueError(f"question {question.key} was not read from a folder; write it with write_question first")
    dest.mkdir(parents=True, exist_ok=True)
    for name in QUESTION_FILES:
        if (question.source / name).is_file():
            shutil.copyfile(question.source / name, dest / name)
