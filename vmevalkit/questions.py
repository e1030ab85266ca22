"""The Question value and the VMEvalKit question-folder format.

A question folder holds `first_frame.png`, `prompt.txt` and optionally `final_frame.png`,
`question_metadata.json` and `ground_truth.mp4`. A dataset root holds `<domain>_task/<question_id>/`
folders; a folder that directly holds question folders is read too (its domain is its own name). One
level more is read as a split: `<split>/<task>/<question_id>/` (VBVR-Bench's layout), where the domain is
the task and the split goes into the question's metadata as `split`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from PIL import Image

from vmevalkit import limits
from vmevalkit.atomic import atomic_path, write_json, write_text
from vmevalkit.errors import JSONFileError, QuestionError, UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.images import load_rgb
from vmevalkit.jsonfile import read_json_object
from vmevalkit.paths import escape_text

FIRST_FRAME = "first_frame.png"
FINAL_FRAME = "final_frame.png"
PROMPT = "prompt.txt"
METADATA = "question_metadata.json"
GROUND_TRUTH = "ground_truth.mp4"
QUESTION_FILES = (FIRST_FRAME, FINAL_FRAME, PROMPT, METADATA, GROUND_TRUTH)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, eq=False)
class Question:
    """One reasoning question: a first frame and a prompt, with the expected answer where known."""

    id: str
    domain: str
    prompt: str
    first_frame: Image.Image
    final_frame: Image.Image | None = None
    metadata: dict = field(default_factory=dict)
    ground_truth: Path | None = None  # a solution video, used by the `oracle` control
    source: Path | None = None  # the folder it was read from, if any

    @property
    def key(self) -> str:
        """`<domain>_task/<id>`: where the question lives in a dataset and in an output tree."""
        return f"{self.domain}_task/{self.id}"

    @cached_property
    def fingerprint(self) -> str:
        """A hash of everything a model (or the oracle) sees or a scorer uses, so a changed question is not reused.
        Computed once per Question (it reads both frames and the ground-truth video), then kept."""
        h = hashlib.sha256()
        h.update(self.prompt.encode("utf-8"))
        for image in (self.first_frame, self.final_frame):
            if image is not None:
                h.update(repr(image.size).encode())
                h.update(image.tobytes())
        h.update(json.dumps(self.metadata, sort_keys=True, default=str).encode())
        if self.ground_truth is not None:  # what the `oracle` control shows
            h.update(sha256_file(self.ground_truth).encode())
        return h.hexdigest()[:16]


def _domain_of(folder_name: str) -> str:
    for suffix in ("_task", "-task"):
        if folder_name.endswith(suffix) and len(folder_name) > len(suffix):
            return folder_name[: -len(suffix)]
    return folder_name


def is_question_dir(path: Path) -> bool:
    return path.is_dir() and ((path / FIRST_FRAME).exists() or (path / PROMPT).exists())


def _metadata_domain(metadata: dict, meta_path: Path) -> str | None:
    """The domain named in a question's metadata, if any; it becomes a folder name, so it must be a plain one."""
    domain = metadata.get("domain")
    if not domain:
        return None
    if not isinstance(domain, str) or not _ID_RE.match(domain):
        raise QuestionError(f"{meta_path}: domain {domain!r} must be letters, digits, '.', '_' or '-' "
                            "(it names the output folder); fix it or drop the key")
    return domain


def _refuse_escape(path: Path, root: Path) -> None:
    """QuestionError when `path` leads (through a symlink or `..`) outside `root`."""
    if os.path.lexists(path) and (escaped := escape_text(path, root)):
        raise QuestionError(f"{escaped}; a question may only use files inside the questions folder: "
                            "copy them in instead of linking them")


def read_question(folder: str | os.PathLike, domain: str | None = None,
                  root: str | os.PathLike | None = None) -> Question:
    """Read one question folder; raise QuestionError naming the file and the fix when it is invalid.

    Nothing outside `root` (default: the folder itself) is read: a folder or file that leads outside it is
    refused. Files are bounded (vmevalkit.limits) before they are read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise QuestionError(f"{folder}: not a question folder")
    for path in (folder, *(folder / name for name in QUESTION_FILES)):
        _refuse_escape(path, Path(root) if root is not None else folder)
    qid = folder.name
    if not _ID_RE.match(qid):
        raise QuestionError(f"{folder}: question id {qid!r} must be letters, digits, '.', '_' or '-'")
    prompt_path = folder / PROMPT
    if not prompt_path.is_file():
        raise QuestionError(f"{prompt_path}: missing; write the instruction for the model into it")
    meta_path = folder / METADATA
    gt = folder / GROUND_TRUTH
    try:
        limits.TEXT_BYTES.check(prompt_path.stat().st_size, str(prompt_path), "shorten it")
        if meta_path.is_file():
            limits.TEXT_BYTES.check(meta_path.stat().st_size, str(meta_path), "shorten it")
        if gt.is_file():
            limits.VIDEO_BYTES.check(gt.stat().st_size, str(gt), "use a shorter or smaller video")
    except UserError as e:
        raise QuestionError(str(e)) from e
    try:
        prompt = prompt_path.read_bytes().decode("utf-8").strip()
    except OSError as e:
        raise QuestionError(f"{prompt_path}: cannot be read ({e.strerror or e}); make it a readable file") from e
    except UnicodeDecodeError as e:
        raise QuestionError(f"{prompt_path}: not UTF-8 text ({e}); save it as UTF-8") from e
    if not prompt:
        raise QuestionError(f"{prompt_path}: empty; write the instruction for the model into it")
    first = folder / FIRST_FRAME
    if not first.exists():
        raise QuestionError(f"{first}: missing; every question needs its first frame as a PNG")
    try:
        first_frame = load_rgb(first)
        final_frame = load_rgb(folder / FINAL_FRAME) if (folder / FINAL_FRAME).exists() else None
    except UserError as e:
        raise QuestionError(str(e)) from e
    metadata: dict = {}
    if meta_path.exists():
        try:
            metadata = read_json_object(meta_path)
        except JSONFileError as e:
            raise QuestionError(f"{e}; fix or delete the file") from e
    if domain is None:
        domain = _metadata_domain(metadata, meta_path) or _domain_of(folder.parent.name)
    return Question(id=qid, domain=domain, prompt=prompt, first_frame=first_frame, final_frame=final_frame,
                    metadata=metadata, ground_truth=gt if gt.is_file() else None, source=folder)


@dataclass(frozen=True)
class QuestionProblem:
    """A question folder that could not be read, kept so a batch can report it and go on."""

    path: Path
    message: str


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _is_split_dir(folder: Path) -> bool:
    """A folder of task folders (`<task>/<id>/`) rather than of question folders: none of its subfolders is a
    question, but some subfolder of theirs is."""
    tasks = _subfolders(folder)
    return (not any(is_question_dir(t) for t in tasks)
            and any(is_question_dir(q) for t in tasks for q in _subfolders(t)))


def _question_folders(root: Path, problems: list[QuestionProblem]) -> list[tuple[Path, str | None, str | None]]:
    """(folder, domain, split) for every question folder under `root`, in the layouts the module doc names; a
    subfolder that leads outside `root` is not even listed but reported in `problems`."""
    if is_question_dir(root):
        return [(root, None, None)]
    folders = []
    for child in _subfolders(root):
        try:
            _refuse_escape(child, root)
        except QuestionError as e:
            problems.append(QuestionProblem(child, str(e)))
            continue
        if is_question_dir(child):
            folders.append((child, _domain_of(root.name), None))
        elif _is_split_dir(child):
            folders += [(q, _domain_of(task.name), child.name)
                        for task in _subfolders(child) for q in _subfolders(task)]
        else:
            folders += [(q, _domain_of(child.name), None) for q in _subfolders(child)]
    return folders


def scan_questions(root: str | os.PathLike) -> tuple[list[Question], list[QuestionProblem]]:
    """Read every question under `root` (a dataset root, a `<domain>_task` folder, one question, or a folder
    of splits).

    Unreadable questions are returned as problems rather than raised, so one bad folder never
    stops the others; so is a question whose key (`<domain>_task/<id>`) another one already has, since both
    would write to the same output folder. Questions come back sorted by (domain, id)."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: questions folder not found; pass --questions DIR with question folders")
    questions, problems, seen = [], [], {}
    for folder, domain, split in _question_folders(root, problems):
        try:
            question = read_question(folder, domain, root)
        except QuestionError as e:
            problems.append(QuestionProblem(folder, str(e)))
            continue
        if split is not None and "split" not in question.metadata:
            question = replace(question, metadata={**question.metadata, "split": split})
        if question.key in seen:
            problems.append(QuestionProblem(folder, f"{folder}: same question key {question.key} as "
                                            f"{seen[question.key]}; pass one of the two folders with --questions"))
            continue
        seen[question.key] = folder
        questions.append(question)
    if not questions and not problems:
        raise UserError(f"{root}: no question folders found (each needs {FIRST_FRAME} and {PROMPT})")
    questions.sort(key=lambda q: (q.domain, q.id))
    return questions, problems


def save_png(image: Image.Image, path: str | os.PathLike) -> None:
    """Write a PNG atomically and deterministically (no timestamps or text chunks)."""
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=False, compress_level=6)


def write_question(question: Question, root: str | os.PathLike) -> Path:
    """Write `question` as `<root>/<domain>_task/<id>/` and return that folder."""
    folder = Path(root) / question.key
    folder.mkdir(parents=True, exist_ok=True)
    save_png(question.first_frame, folder / FIRST_FRAME)
    write_text(folder / PROMPT, question.prompt + "\n")
    if question.final_frame is not None:
        save_png(question.final_frame, folder / FINAL_FRAME)
    if question.metadata:
        write_json(folder / METADATA, question.metadata)
    if question.ground_truth is not None and question.ground_truth.resolve() != (folder / GROUND_TRUTH).resolve():
        with atomic_path(folder / GROUND_TRUTH) as tmp:
            shutil.copyfile(question.ground_truth, tmp)
    return folder
