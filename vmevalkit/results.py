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
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from vmevalkit.errors import JSONFileError
from vmevalkit.geometry import Fit
from vmevalkit.jsonfile import read_json_object
from vmevalkit.questions import Question, read_question
from vmevalkit.video import Video, read_mp4

METADATA = "metadata.json"
VIDEO = "video.mp4"
LAST_FRAME = "last_frame.png"
QUESTION_DIR = "question"
EXPERIMENT = "experiment.json"
SCORES = "scores.jsonl"

DEFAULT_OUTPUT_DIR = Path("outputs")


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


def _folder_order(metadata_path: Path) -> tuple[str, str, str, int]:
    """(model, domain folder, question id, sample) of an item's metadata.json, from its folder names."""
    question, _, sample = metadata_path.parent.name.partition(SAMPLE_MARK)
    return (metadata_path.parts[-4], metadata_path.parts[-3], question,
            int(sample) if sample.isdecimal() else -1)


def iter_items(experiment_dir: str | os.PathLike) -> Iterator[ResultItem]:
    """Every item with readable metadata under an experiment, in (model, domain, question, sample) order;
    a broken metadata.json is reported on stderr and its item left out (`vmevalkit run` redoes it)."""
    root = Path(experiment_dir)
    for meta in sorted(root.glob(f"*/*/*/{METADATA}"), key=_folder_order):
        try:
            item = load_item(meta.parent)
        except JSONFileError as e:
            print(f"warning: {e}; skipped that item (rerun `vmevalkit run` to redo it)", file=sys.stderr)
            continue
        yield item
