"""Experiments: every model × every question → the output tree of vmevalkit/results.py, resumably.

Each model is loaded once. An item (model, question) is finished when its metadata.json says "ok" and
its `result_key` matches the one this run would make: a hash of the model id, the question's fingerprint,
the generation settings, the per-question seed and the fit policy. Finished items are skipped; items made
with other settings are regenerated. New files are written into `<experiment>/.staging/` and moved into
place only once complete (metadata.json last), so nothing half-written ever looks finished and an older
result is replaced only by a complete new one. One question's failure is recorded in its metadata and the
run goes on."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import vmevalkit
from vmevalkit.atomic import write_json
from vmevalkit.errors import UserError
from vmevalkit.geometry import POLICIES, Fit
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.models import (
    CONTROLS,
    ModelSpec,
    check_environment,
    check_weights,
    get_spec,
    load_model,
    resolve_device,
    resolve_settings,
)
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import (
    QUESTION_FILES,
    Question,
    QuestionProblem,
    read_question,
    save_png,
    scan_questions,
)
from vmevalkit.results import (
    DEFAULT_OUTPUT_DIR,
    EXPERIMENT,
    LAST_FRAME,
    METADATA,
    QUESTION_DIR,
    VIDEO,
    experiment_options,
    read_item,
)
from vmevalkit.video import motion_stats, write_mp4

DEFAULT_MODELS = ("videocrafter-tiny",)
DEMO_EXPERIMENT = "demo"
DEMO_TASKS = ("maze", "sudoku", "counting")  # the no-flags demo: one easy question of each
MODEL_INPUT = "model_input.png"  # the first frame exactly as the model received it (after the fit)
STAGING = ".staging"
WORKDIR = ".models"  # <experiment>/.models/<model>/: each model's state kept across reruns (VideoModel.workdir)
VERSIONED_PACKAGES = ("torch", "open_clip_torch", "av", "numpy", "pillow", "huggingface_hub", "safetensors")


@dataclass
class RunOptions:
    """Everything `vmevalkit run` takes; see `vmevalkit run --help`."""

    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    experiment: str | None = None
    output_dir: Path = DEFAULT_OUTPUT_DIR
    questions: Path | None = None
    tasks: list[str] | None = None
    n: int = 5
    difficulty: str | None = None
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    limit: int | None = None
    fit: str = "letterbox"
    controls: bool = True
    overrides: dict[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None
    threads: int | None = None  # torch CPU threads; None: torch's default
    progress: bool = True
    score: bool = True  # end with `vmevalkit score --scorer auto` and print the leaderboard


@dataclass
class ModelTally:
    """One model's line in the summary table."""

    model: str
    note: str = ""
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    static: int = 0
    seconds: float = 0.0


@dataclass
class RunResult:
    """What a run did: its folder, one tally per model, and the question folders it could not read."""

    experiment_dir: Path
    tallies: list[ModelTally]
    problems: list[QuestionProblem]

    @property
    def exit_code(self) -> int:
        return 1 if self.problems or any(t.failed for t in self.tallies) else 0


# --- keys and seeds ----------------------------------------------------------------------------------------

def question_seed(run_seed: int, question: Question) -> int:
    """The seed for one question, derived deterministically from the run's seed and the question's key."""
    digest = hashlib.sha256(f"{run_seed}/{question.key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def result_key(model_id: str, question: Question, settings: dict[str, Any], seed: int, fit_policy: str) -> str:
    """What identifies a result: a rerun with the same key reuses it, any other key regenerates it."""
    blob = json.dumps({"model": model_id, "question": question.key, "fingerprint": question.fingerprint,
                       "settings": settings, "seed": seed, "fit": fit_policy}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "vmevalkit": vmevalkit.__version__}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# --- choosing models, settings and questions ---------------------------------------------------------------

def select_models(opts: RunOptions) -> list[ModelSpec]:
    """The requested models (unknown ids are an error before any work), with the controls first."""
    ids = [m for m in opts.models if m]
    if not ids:
        raise UserError("--models is empty; name at least one model (see `vmevalkit models`)")
    controls = [c for c in CONTROLS if opts.controls or c in ids]
    return [get_spec(i) for i in dict.fromkeys(controls + [i for i in ids if i not in CONTROLS])]


def settings_per_model(specs: list[ModelSpec], overrides: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Apply each --set to every model that has that setting; a setting no model has is an error."""
    for key in overrides:
        if not any(key in spec.defaults for spec in specs):
            valid = "; ".join(f"{s.id}: {', '.join(s.defaults) or 'none'}" for s in specs)
            raise UserError(f"--set {key}=...: no selected model has a setting {key!r}; valid settings: {valid}")
    return {spec.id: resolve_settings(spec, {k: v for k, v in overrides.items() if k in spec.defaults})
            for spec in specs}


def generate_task_questions(opts: RunOptions, root: Path) -> list[Question]:
    """Make `opts.n` questions per task with the built-in generators into `root/<task>_task/<task>_<seed>/`
    (with the solution video as ground_truth.mp4; see vmevalkit.tasks.generate_questions) and read them back."""
    from vmevalkit.tasks import generate_questions, get_task

    for name in opts.tasks or []:
        task = get_task(name)
        if opts.difficulty is not None and opts.difficulty not in task.difficulties:
            raise UserError(f"--difficulty {opts.difficulty}: task {name} has {', '.join(task.difficulties)}")
    folders = generate_questions(opts.tasks or [], opts.n, opts.seed, opts.difficulty, root)
    return [read_question(folder, domain=folder.parent.name.removesuffix("_task")) for folder in folders]


def gather_questions(opts: RunOptions, experiment_dir: Path) -> tuple[list[Question], list[QuestionProblem]]:
    """The questions of this run: a folder, generated tasks, or (neither given) the built-in demo."""
    if opts.questions is not None and opts.tasks:
        raise UserError("pass either --questions DIR or --tasks, not both")
    problems: list[QuestionProblem] = []
    if opts.questions is not None:
        questions, problems = scan_questions(opts.questions)
    elif opts.tasks:
        questions = generate_task_questions(opts, experiment_dir / "questions")
    else:
        demo = replace(opts, tasks=list(DEMO_TASKS), n=1, difficulty="easy")
        questions = generate_task_questions(demo, experiment_dir / "questions")
    if opts.limit is not None:
        questions = questions[: max(opts.limit, 0)]
    return questions, problems


def experiment_name(opts: RunOptions) -> str:
    if opts.experiment:
        name = opts.experiment
    elif opts.questions is not None:
        name = Path(opts.questions).resolve().name
    elif opts.tasks:
        name = "tasks-" + "-".join(opts.tasks)
    else:
        name = DEMO_EXPERIMENT
    if name in ("", ".", "..") or "/" in name or os.sep in name or name.startswith("."):
        raise UserError(f"--experiment {name!r}: use a plain folder name (letters, digits, '-', '_')")
    return name


def prepare_experiment_dir(path: Path) -> None:
    """Create the experiment folder and prove it is writable, or stop with a clear error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"{path}: cannot write outputs there ({e.strerror or e}); pass --output-dir with a "
                        "folder you can write to") from e


def clean_stale_staging(experiment_dir: Path) -> None:
    """Remove staging folders left by runs that were killed (their process no longer exists)."""
    staging = experiment_dir / STAGING
    if not staging.is_dir():
        return
    for entry in staging.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _remove_if_empty(folder: Path) -> None:
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


# --- one item ----------------------------------------------------------------------------------------------

class Experiment:
    """Writes the items of one experiment folder; knows which are finished."""

    def __init__(self, directory: Path, opts: RunOptions) -> None:
        self.dir = directory
        self.name = directory.name
        self.opts = opts
        self.versions = package_versions()
        self._count = 0

    def item_dir(self, model_id: str, question: Question) -> Path:
        return self.dir / model_id / question.key

    def finished(self, folder: Path, key: str) -> dict[str, Any] | None:
        """The metadata of a finished item with this key, else None."""
        item = read_item(folder)
        if item is None or not item.ok or item.metadata.get("result_key") != key:
            return None
        if not (folder / VIDEO).is_file() or not (folder / LAST_FRAME).is_file():
            return None
        return item.metadata

    def _staging_dir(self) -> Path:
        self._count += 1
        folder = self.dir / STAGING / f"{os.getpid()}-{self._count}"
        folder.mkdir(parents=True)
        return folder

    def _publish(self, staged: Path, final: Path) -> None:
        """Move a complete staged item into place, replacing an older one only now."""
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists():
            old = staged.with_name(staged.name + ".old")
            os.replace(final, old)
        os.replace(staged, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def write(self, model_id: str, question: Question, metadata: dict[str, Any], video=None,
              model_input=None) -> Path:
        """Write an item (video + last frame when there is one, question copy, metadata last) and publish it."""
        staged = self._staging_dir()
        if video is not None:
            metadata["video"] = {"codec": write_mp4(video, staged / VIDEO), "num_frames": video.num_frames,
                                 "fps": video.fps, "width": video.size[0], "height": video.size[1]}
            save_png(video.last_frame, staged / LAST_FRAME)
        if model_input is not None:
            save_png(model_input, staged / MODEL_INPUT)
        copy_question(question, staged / QUESTION_DIR)
        write_json(staged / METADATA, metadata)
        final = self.item_dir(model_id, question)
        self._publish(staged, final)
        return final


def copy_question(question: Question, dest: Path) -> None:
    """Copy the question's files byte for byte from the folder it was read from."""
    if question.source is None:
        raise ValueError(f"question {question.key} was not read from a folder; write it with write_question first")
    dest.mkdir(parents=True, exist_ok=True)
    for name in QUESTION_FILES:
        if (question.source / name).is_file():
            shutil.copyfile(question.source / name, dest / name)


def error_record(e: BaseException) -> dict[str, str]:
    return {"type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()}


# --- the run -----------------------------------------------------------------------------------------------

def run_experiment(opts: RunOptions, out: TextIO | None = None) -> RunResult:
    """Run every selected model on every question; returns the tallies (see RunResult.exit_code)."""
    out = out or sys.stdout
    from tqdm.auto import tqdm

    if opts.fit not in POLICIES:
        raise UserError(f"--fit {opts.fit}: choose one of {', '.join(POLICIES)}")
    specs = select_models(opts)
    settings = settings_per_model(specs, opts.overrides)
    for spec in specs:
        check_weights(spec.id, opts.cache_dir)
        check_environment(spec.id)
    device = resolve_device(opts.device) if any(s.kind != "control" for s in specs) else "cpu"
    if opts.threads is not None:
        if opts.threads < 1:
            raise UserError(f"--threads {opts.threads}: give a number >= 1")
        import torch

        torch.set_num_threads(opts.threads)
    experiment_dir = Path(opts.output_dir) / experiment_name(opts)
    prepare_experiment_dir(experiment_dir)
    questions, problems = gather_questions(opts, experiment_dir)
    for problem in problems:
        print(f"skipping unreadable question {problem.path}: {problem.message}", file=sys.stderr)
    if not questions:
        raise UserError("no readable questions to run" + (" (see the messages above)" if problems else ""))
    clean_stale_staging(experiment_dir)
    exp = Experiment(experiment_dir, opts)
    run_record = _start_record(exp, specs, settings, device, questions, problems)

    tallies = []
    bar = tqdm(total=len(specs) * len(questions), desc="run", unit="item", position=0, dynamic_ncols=True,
               disable=not opts.progress, file=sys.stderr)
    try:
        for spec in specs:
            tallies.append(_run_model(exp, spec, settings[spec.id], device, questions, bar,
                                      lambda message: tqdm.write(message, file=sys.stderr)))
    finally:
        bar.close()
        _remove_if_empty(experiment_dir / STAGING)
    result = RunResult(experiment_dir, tallies, problems)
    _finish_record(experiment_dir, run_record, result)
    print_summary(result, out)
    if opts.score and any(t.ok or t.skipped for t in tallies):
        print_leaderboard(experiment_dir, out)
    return result


def print_leaderboard(experiment_dir: Path, out: TextIO) -> None:
    """Score the experiment with the automatic scorers (exact for built-in tasks, else similarity; resumable)
    and print the leaderboard."""
    from vmevalkit.report import leaderboard_text
    from vmevalkit.scoring.pipeline import score_experiment

    summary = score_experiment(experiment_dir, "auto")
    print(file=out)
    print(leaderboard_text(experiment_dir), file=out)
    for error in summary.errors:
        print(f"scoring error: {error}", file=out)
    where = experiment_options(experiment_dir)
    print(f"scores: {experiment_dir / 'scores.jsonl'}; full report: vmevalkit report {where}; "
          f"check by eye: vmevalkit review {where}", file=out)


def _run_model(exp: Experiment, spec: ModelSpec, settings: dict[str, Any], device: str,
               questions: list[Question], bar, say) -> ModelTally:
    opts = exp.opts
    tally = ModelTally(spec.id, note=spec.label)
    pending = []
    for q in questions:
        seed = question_seed(opts.seed, q)
        key = result_key(spec.id, q, settings, seed, opts.fit)
        done = exp.finished(exp.item_dir(spec.id, q), key)
        if done is not None:
            tally.skipped += 1
            tally.static += bool(done.get("motion", {}).get("static"))
            bar.update(1)
        else:
            pending.append((q, seed, key))
    if not pending:
        return tally
    started = time.perf_counter()
    bar.set_description(f"run: loading {spec.id}")
    try:
        model = load_model(spec.id, device=device, dtype=opts.dtype, overrides=settings, cache_dir=opts.cache_dir)
    except Exception as e:  # noqa: BLE001 -- a model that cannot load fails its items, the others still run
        say(f"{spec.id}: could not load: {type(e).__name__}: {e}")
        error = error_record(e)
        for q, seed, key in pending:
            meta = _base_metadata(exp, spec, {}, settings, q, seed, key, device)
            meta.update(status="failed", error={**error, "stage": "load"})
            _write_safely(exp, spec.id, q, meta, None, None, say)
            tally.failed += 1
            bar.update(1)
        tally.seconds = time.perf_counter() - started
        return tally
    load_seconds = time.perf_counter() - started
    model.workdir = exp.dir / WORKDIR / spec.id
    described = model.describe()
    bar.set_description(f"run: {spec.id}")
    for q, seed, key in pending:
        meta = _base_metadata(exp, spec, described, settings, q, seed, key, device)
        meta["timings"] = {"model_load_s": round(load_seconds, 3)}
        ok, static = _run_item(exp, spec.id, model, q, seed, meta, say)
        tally.ok += ok
        tally.failed += not ok
        tally.static += static
        bar.update(1)
    tally.seconds = time.perf_counter() - started
    return tally


def _run_item(exp: Experiment, model_id: str, model: VideoModel, q: Question, seed: int, meta: dict[str, Any],
              say) -> tuple[bool, bool]:
    """Generate one video and write its item; returns (ok, static)."""
    t0 = time.perf_counter()
    video = model_input = None
    try:
        fit = Fit.plan(q.first_frame, model.resolution or q.first_frame.size, exp.opts.fit)
        meta["fit"] = fit.to_dict()
        image = fit.apply(q.first_frame)
        if model.resolution is not None:  # else the model saw the question's own first frame: no copy needed
            model_input = image
        video = model.generate(q, image, seed=seed, progress=exp.opts.progress)
        meta["timings"]["generate_s"] = round(time.perf_counter() - t0, 3)
        if video.info:
            meta["generation"] = dict(video.info)
        meta["motion"] = motion_stats(video)
        meta["status"] = "ok"
    except Exception as e:  # noqa: BLE001 -- recorded in this item's metadata; the run goes on
        say(f"{model_id} {q.key}: failed: {type(e).__name__}: {e}")
        meta.update(status="failed", error={**error_record(e), "stage": "generate"})
        video = None
    written = _write_safely(exp, model_id, q, meta, video, model_input, say)
    ok = written and meta["status"] == "ok"
    return ok, ok and bool(meta["motion"]["static"])


def _write_safely(exp: Experiment, model_id: str, q: Question, meta: dict[str, Any], video, image, say) -> bool:
    """Write an item; when that fails (disk full, ...) say so and go on: the item stays unfinished."""
    try:
        exp.write(model_id, q, meta, video, image)
        return True
    except Exception as e:  # noqa: BLE001 -- the item stays unfinished; the run goes on
        say(f"{model_id} {q.key}: could not write the result: {type(e).__name__}: {e}")
        return False


def _base_metadata(exp: Experiment, spec: ModelSpec, described: dict[str, Any], settings: dict[str, Any],
                   q: Question, seed: int, key: str, device: str) -> dict[str, Any]:
    """The record of how an item is made; `described` is the loaded model's describe()."""
    opts = exp.opts
    return {
        "status": "running",
        "model": spec.id,
        "model_description": {"family": spec.family, "kind": spec.kind, "description": spec.description,
                              "reference": spec.reference or spec.id, "sees": list(spec.sees),
                              "untrained": spec.untrained, "device": device if spec.kind != "control" else "cpu",
                              "dtype": opts.dtype, **described},
        "untrained": spec.untrained,
        "experiment": exp.name,
        "question": {"id": q.id, "domain": q.domain, "key": q.key, "fingerprint": q.fingerprint,
                     "prompt": q.prompt, "source": str(q.source) if q.source else None,
                     "has_ground_truth": q.ground_truth is not None, "has_final_frame": q.final_frame is not None},
        "settings": settings,
        "seed": seed,
        "run_seed": opts.seed,
        "fit_policy": opts.fit,
        "result_key": key,
        "device": device if spec.kind != "control" else "cpu",
        "versions": exp.versions,
        "created": _now(),
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- experiment.json and the summary -----------------------------------------------------------------------

def _start_record(exp: Experiment, specs: list[ModelSpec], settings: dict, device: str,
                  questions: list[Question], problems: list[QuestionProblem]) -> dict[str, Any]:
    record = {
        "started": _now(), "finished": None, "argv": sys.argv[1:], "options": asdict(exp.opts),
        "models": {s.id: {"family": s.family, "kind": s.kind, "untrained": s.untrained, "settings": settings[s.id]}
                   for s in specs},
        "device": device, "questions": [q.key for q in questions],
        "unreadable_questions": [{"path": str(p.path), "message": p.message} for p in problems],
        "versions": exp.versions, "host": platform.node(),
    }
    _append_run(exp.dir, record)
    return record


def _append_run(experiment_dir: Path, record: dict[str, Any], replace_last: bool = False) -> None:
    path = experiment_dir / EXPERIMENT
    data = json_object_or_none(path) or {}
    runs = data["runs"] if isinstance(data.get("runs"), list) else []
    if replace_last and runs:
        runs[-1] = record
    else:
        runs.append(record)
    write_json(path, {"experiment": experiment_dir.name, "runs": runs})


def _finish_record(experiment_dir: Path, record: dict[str, Any], result: RunResult) -> None:
    record["finished"] = _now()
    record["summary"] = [asdict(t) for t in result.tallies]
    record["exit_code"] = result.exit_code
    _append_run(experiment_dir, record, replace_last=True)


def print_summary(result: RunResult, out: TextIO) -> None:
    rows = [("model", "ok", "failed", "skipped", "static", "time", "note")]
    for t in result.tallies:
        rows.append((t.model, str(t.ok), str(t.failed), str(t.skipped), str(t.static), f"{t.seconds:.1f}s", t.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(file=out)
    for i, row in enumerate(rows):
        cells = [c.ljust(w) if j in (0, 6) else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)
    print("(ok/failed: made in this run; skipped: already finished with the same settings; static: videos "
          "with no motion)", file=out)
    if result.problems:
        print(f"{len(result.problems)} question folder(s) could not be read (listed above); fix them and rerun.",
              file=out)
    failed = sum(t.failed for t in result.tallies)
    if failed:
        print(f"{failed} item(s) failed; the error is in each item's metadata.json; rerun to retry them.", file=out)
    print(f"outputs: {result.experiment_dir}/<model>/<domain>_task/<question_id>/ "
          f"(video.mp4, last_frame.png, metadata.json); run log: {result.experiment_dir / EXPERIMENT}", file=out)
