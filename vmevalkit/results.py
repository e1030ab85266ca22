"""The output tree of an experiment, shared by the runner (writes it) and scoring/report (read it).

    <output_dir>/<experiment>/
        experiment.json                         the run's configuration, updated at each run
        scores.jsonl                            one row per (model, question, scorer) (vmevalkit score)
        <model>/<domain>_task/<question_id>/
            video.mp4, last_frame.png           the model's answer
            question/                           a copy of the question folder as the model saw it
            metadata.json                       written last: status "ok" or "failed", and how it was made
        <model>/<domain>_task/<question_id>@<k>/  sample k >= 1 of the same question (`run --samples K`)

An item is one (model, question, sample); sample 0 is the plain question folder, and its metadata.json
says `"sample": k` and `"samples": K` (a missing key means sample 0 of 1, as experiments made before
samples read). An item is finished when its metadata.json says status "ok"; metadata.json is written
atomically after the video, so a half-written item never looks finished."""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from vmevalkit.errors import JSONFileError, UserError
from vmevalkit.geometry import Fit
from vmevalkit.jsonfile import read_json_object
from vmevalkit.paths import escape_text
from vmevalkit.questions import QUESTION_FILES, Question, read_question
from vmevalkit.video import Video, VideoProbe, probe_mp4, read_mp4

METADATA = "metadata.json"
VIDEO = "video.mp4"
LAST_FRAME = "last_frame.png"
QUESTION_DIR = "question"
EXPERIMENT = "experiment.json"
SCORES = "scores.jsonl"

DEFAULT_OUTPUT_DIR = Path("outputs")
# The files of an item that score, report and review read, and that must stay inside the experiment.
ITEM_FILES = (METADATA, VIDEO, LAST_FRAME, QUESTION_DIR,
              *(f"{QUESTION_DIR}/{name}" for name in QUESTION_FILES))
_EXPERIMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_experiment_name(name: str) -> str:
    """`name` when it is a plain folder name for an experiment (the one rule for --experiment), else UserError."""
    if not _EXPERIMENT_RE.fullmatch(name):
        raise UserError(f"--experiment {name!r}: an experiment name is a plain folder name of letters, digits, "
                        "'.', '_' and '-' that starts with a letter or digit (at most 100 characters), "
                        "e.g. --experiment maze_run1")
    return name


def experiment_options(experiment_dir: str | os.PathLike) -> str:
    """`--experiment NAME`, with `--output-dir DIR` unless DIR is the default, shell-quoted: the options that
    make `vmevalkit score/report/review` find `experiment_dir`, for commands printed as hints."""
    path = Path(experiment_dir)
    options = ["--experiment", path.name]
    if path.parent != DEFAULT_OUTPUT_DIR:
        options += ["--output-dir", str(path.parent)]
    return shlex.join(options)


SAMPLE_MARK = "@"  # between a question id and its sample number in a folder name; never in a question id


def sample_suffix(sample: int) -> str:
    """`@k` for sample k >= 1; nothing for sample 0 (whose folder is the question's own)."""
    return f"{SAMPLE_MARK}{sample}" if sample else ""


def error_kind(metadata: dict[str, Any]) -> str | None:
    """The failure kind an item's metadata names (a hosted model's refused / timeout / ...), else None."""
    error = metadata.get("error")
    kind = error.get("kind") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) and kind else None


def item_dir(experiment_dir: str | os.PathLike, model_id: str, question: Question, sample: int = 0) -> Path:
    return Path(experiment_dir) / model_id / (question.key + sample_suffix(sample))


@dataclass(frozen=True)
class ResultItem:
    """One (model, question) folder of an experiment, as read back from disk."""

    folder: Path
    metadata: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.metadata.get("status") == "ok"

    @property
    def model(self) -> str:
        return self.metadata["model"]

    @property
    def question_key(self) -> str:
        return f"{self.metadata['question']['domain']}_task/{self.metadata['question']['id']}"

    @property
    def sample(self) -> int:
        """Which of the question's samples this is (0 where the metadata names none)."""
        return self.metadata.get("sample", 0)

    @property
    def samples(self) -> int:
        """How many samples of the question the run asked for (1 where the metadata names none)."""
        return self.metadata.get("samples", 1)

    @property
    def key(self) -> tuple[str, str, int]:
        """The item: (model, question key, sample)."""
        return self.model, self.question_key, self.sample

    @property
    def label(self) -> str:
        """`model domain_task/question` (with `@k` for sample k >= 1), for messages."""
        return f"{self.model} {self.question_key}{sample_suffix(self.sample)}"

    @property
    def video_path(self) -> Path:
        return self.folder / VIDEO

    def question(self) -> Question:
        """The question as the model saw it (its copy in `question/`), with its own id and domain."""
        q = read_question(self.folder / QUESTION_DIR, domain=self.metadata["question"]["domain"])
        return replace(q, id=self.metadata["question"]["id"])

    def video(self) -> Video:
        return read_mp4(self.video_path)

    def check_video(self) -> VideoProbe:
        """The video probed cheaply (vmevalkit.video.probe_mp4: header, packets, first frame) and its frame
        count matched against metadata.json's record of it; UserError saying what is wrong when it is not
        sound (truncated, empty, undecodable, or another video than the one recorded)."""
        probe = probe_mp4(self.video_path)
        recorded = (self.metadata.get("video") or {}).get("num_frames")
        if isinstance(recorded, int) and recorded != probe.frames:
            raise UserError(f"{self.video_path}: holds {probe.frames} frames, its {METADATA} says {recorded}")
        return probe

    def fit(self) -> Fit | None:
        fit = self.metadata.get("fit")
        return Fit.from_dict(fit) if fit else None


def is_count(value: Any, least: int) -> bool:
    """Whether `value` is a whole number (not a bool) of at least `least`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _describes_item(metadata: dict[str, Any]) -> bool:
    """Whether metadata has what ResultItem reads: the model, the question's domain and id, and (where
    given) a sample number below the number of samples."""
    question = metadata.get("question")
    sample, samples = metadata.get("sample", 0), metadata.get("samples", 1)
    return (isinstance(metadata.get("model"), str) and isinstance(question, dict)
            and isinstance(question.get("domain"), str) and isinstance(question.get("id"), str)
            and is_count(sample, 0) and is_count(samples, 1) and sample < samples)


def load_item(folder: str | os.PathLike) -> ResultItem:
    """The item in `folder`; raises JSONFileError naming its metadata.json when that is missing or broken."""
    path = Path(folder) / METADATA
    metadata = read_json_object(path)
    if not _describes_item(metadata):
        raise JSONFileError(f"{path}: lacks the model or the question's domain and id, or its sample number "
                            "is not one of its samples")
    return ResultItem(Path(folder), metadata)


def read_item(folder: str | os.PathLike) -> ResultItem | None:
    """The item in `folder`, or None when its metadata is missing or broken (never finished: redo it)."""
    try:
        return load_item(folder)
    except JSONFileError:
        return None


def item_escape(folder: Path, experiment_dir: Path) -> str | None:
    """`'<path> -> <target>: outside <experiment>'` for the first of the item's folder and files that leads
    (through a symlink) outside the experiment, else None."""
    for path in (folder, *(folder / name for name in ITEM_FILES)):
        if os.path.lexists(path) and (escaped := escape_text(path, experiment_dir)):
            return escaped
    return None


def _folder_order(metadata_path: Path) -> tuple[str, str, str, int]:
    """(model, domain folder, question id, sample) of an item's metadata.json, from its folder names."""
    question, _, sample = metadata_path.parent.name.partition(SAMPLE_MARK)
    return (metadata_path.parts[-4], metadata_path.parts[-3], question,
            int(sample) if sample.isdecimal() else -1)


def iter_items(experiment_dir: str | os.PathLike) -> Iterator[ResultItem]:
    """Every item with readable metadata under an experiment, in (model, domain, question, sample) order;
    a broken metadata.json is reported on stderr and its item left out (`vmevalkit run` redoes it), and so
    is an item whose folder or files lead outside the experiment (nothing elsewhere is ever read, copied or
    published)."""
    root = Path(experiment_dir)
    for meta in sorted(root.glob(f"*/*/*/{METADATA}"), key=_folder_order):
        if escaped := item_escape(meta.parent, root):
            print(f"warning: {escaped}; skipped that item (an item's files must be inside its experiment)",
                  file=sys.stderr)
            continue
        try:
            item = load_item(meta.parent)
        except JSONFileError as e:
            print(f"warning: {e}; skipped that item (rerun `vmevalkit run` to redo it)", file=sys.stderr)
            continue
        yield item
