"""`run_experiment`: options → models, settings and questions checked before any work → items planned →
items made by an executor → run record, summary and leaderboard."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from vmevalkit.atomic import make_writable_dir
from vmevalkit.errors import UserError
from vmevalkit.models import (
    CONTROLS,
    ModelSpec,
    check_environment,
    check_weights,
    get_spec,
    resolve_device,
    resolve_settings,
    weights_revision,
)
from vmevalkit.questions import QuestionProblem
from vmevalkit.runner.budget import Budget, item_price
from vmevalkit.runner.claims import Claims
from vmevalkit.runner.context import ModelTally, ModelWork, RunContext
from vmevalkit.runner.inputs import QuestionSet, gather_questions
from vmevalkit.runner.options import RunOptions, check_options, experiment_name
from vmevalkit.runner.plan import in_shard, plan_items
from vmevalkit.runner.record import finish_record, new_run_id, package_versions, start_record
from vmevalkit.runner.summary import print_leaderboard, print_plan, print_summary
from vmevalkit.runner.writer import Experiment


@dataclass
class RunResult:
    """What a run did: its folder, one tally per model, and the question folders it could not read."""

    experiment_dir: Path
    tallies: list[ModelTally]
    problems: list[QuestionProblem]

    @property
    def exit_code(self) -> int:
        return 1 if self.problems or any(t.failed or t.not_started for t in self.tallies) else 0


def select_models(opts: RunOptions) -> list[ModelSpec]:
    """The requested models (unknown ids are an error before any work), with the controls first."""
    ids = [m for m in opts.models if m]
    if not ids:
        raise UserError("--models is empty; name at least one model (see `vmevalkit models`)")
    specs = [get_spec(i) for i in ids]
    controls = [get_spec(c) for c in CONTROLS if opts.controls or c in [s.id for s in specs]]
    return list({s.id: s for s in [*controls, *(s for s in specs if s.id not in CONTROLS)]}.values())


RESOURCE_SETTINGS = ("gpus", "cpus", "actors")  # --set for the Ray executor, for every model: not model settings


def split_resources(opts: RunOptions) -> tuple[dict[str, str], dict[str, float]]:
    """The --set values that are model settings, and those that size Ray actors (only with --ray)."""
    settings = {k: v for k, v in opts.overrides.items() if k not in RESOURCE_SETTINGS}
    resources = {}
    for key in RESOURCE_SETTINGS:
        if key in opts.overrides:
            if opts.ray is None:
                raise UserError(f"--set {key}=...: sizes Ray actors; use it with --ray")
            try:
                resources[key] = float(opts.overrides[key])
            except ValueError:
                resources[key] = -1.0
            if not resources[key] >= (1 if key == "actors" else 0):
                raise UserError(f"--set {key}={opts.overrides[key]}: give a number "
                                f"{'>= 1' if key == 'actors' else '>= 0 (fractions allowed)'}")
    return settings, resources


def settings_per_model(specs: list[ModelSpec], overrides: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Apply each --set to every model that has that setting; a setting no model has is an error. Every model's
    settings are checked here, before any model runs."""
    for key in overrides:
        if not any(key in spec.defaults for spec in specs):
            valid = "; ".join(f"{s.id}: {', '.join(s.defaults) or 'none'}" for s in specs)
            raise UserError(f"--set {key}=...: no selected model has a setting {key!r}; valid settings: {valid}")
    return {spec.id: resolve_settings(spec, {k: v for k, v in overrides.items() if k in spec.defaults})
            for spec in specs}


def run_experiment(opts: RunOptions, out: TextIO | None = None) -> RunResult:
    """Run every selected model on every question; returns the tallies (see RunResult.exit_code)."""
    out = out or sys.stdout
    check_options(opts)
    specs = select_models(opts)
    overrides, resources = split_resources(opts)
    settings = settings_per_model(specs, overrides)
    for spec in specs:
        check_weights(spec, opts.cache_dir)
        if not opts.dry_run:  # a plan needs no key: it sends nothing
            check_environment(spec)
    device = resolve_device(opts.device) if any(s.kind != "control" and not s.remote for s in specs) else "cpu"
    if opts.threads is not None:
        import torch

        torch.set_num_threads(opts.threads)
    experiment_dir = Path(opts.output_dir) / experiment_name(opts)
    make_writable_dir(experiment_dir, "output folder", "--output-dir")
    found = gather_questions(opts, experiment_dir)
    questions, problems = found.questions, found.problems
    for problem in problems:
        print(f"skipping unreadable question {problem.path}: {problem.message}", file=sys.stderr)
    if not questions:
        raise UserError("no readable questions to run" + (" (see the messages above)" if problems else ""))
    exp = Experiment(experiment_dir)
    exp.recover()
    works = []
    for spec in specs:
        revision = weights_revision(spec.id, opts.cache_dir)  # new weights (a new commit) are a new result
        items = in_shard(plan_items(spec.id, settings[spec.id], questions, opts.seed, opts.fit, opts.samples,
                                    revision, spec.runtime_settings), opts.shard)
        pending = [item for item in items if exp.finished(item) is None]
        tally = ModelTally(spec.id, note=spec.label, skipped=len(items) - len(pending))
        works.append(ModelWork(spec, settings[spec.id], pending, tally))
    if opts.dry_run:
        print_plan([(w.spec.id, len(w.items), w.tally.skipped, item_price(w.spec, w.settings) or None)
                    for w in works], out)
        return RunResult(experiment_dir, [w.tally for w in works], problems)
    return _execute(opts, exp, works, device, found, resources, out)


def _execute(opts: RunOptions, exp: Experiment, works: list[ModelWork], device: str, found: QuestionSet,
             resources: dict[str, float], out: TextIO) -> RunResult:
    from tqdm.auto import tqdm

    run_id = new_run_id()
    versions = package_versions()
    models = {w.spec.id: {"family": w.spec.family, "kind": w.spec.kind, "untrained": w.spec.untrained,
                          "reference": w.spec.reference or w.spec.id, "settings": w.settings} for w in works}
    problems = found.problems
    record = start_record(exp.dir, run_id, opts, models, device, [q.key for q in found.questions],
                          [{"path": str(p.path), "message": p.message} for p in problems], versions,
                          {"executor": {"kind": "ray" if opts.ray is not None else "local", "address": opts.ray,
                                        "resources": resources}, "suite": found.suite})
    total = sum(len(w.items) + w.tally.skipped for w in works)
    bar = tqdm(total=total, initial=sum(w.tally.skipped for w in works), desc="run", unit="item", position=0,
               dynamic_ncols=True, disable=not opts.progress, file=sys.stderr)
    ctx = RunContext(exp, opts, device, versions, Claims(exp.dir, run_id), Budget(opts.max_cost), bar,
                     lambda message: tqdm.write(message, file=sys.stderr), samples=opts.samples)
    stopped: BaseException | None = None
    try:
        from vmevalkit.runner.executors.local import run_model

        on_ray = [w for w in works if w.spec.kind != "control"] if opts.ray is not None else []
        for work in works:  # the controls always run here: they need no model and take milliseconds
            if work not in on_ray:
                run_model(ctx, work)
        if on_ray:
            from vmevalkit.runner.executors.ray import run_models

            run_models(ctx, on_ray, opts.ray, resources)
    except (KeyboardInterrupt, UserError) as e:
        stopped = e
    finally:
        bar.close()
        ctx.claims.close()
        exp.remove_empty_staging()
    result = RunResult(exp.dir, [w.tally for w in works], problems)
    exit_code = 1 if stopped is not None else result.exit_code
    try:
        finish_record(exp.dir, record, [_tally_record(t) for t in result.tallies], exit_code,
                      {"stopped": str(stopped) if stopped is not None else None,
                       "estimated_cost_usd": round(ctx.budget.spent, 4)})
    except OSError as e:
        print(f"warning: could not update {exp.dir / 'experiment.json'} ({e.strerror or e})", file=sys.stderr)
    if stopped is not None:
        raise stopped
    print_summary(exp.dir, result.tallies, len(problems), out)
    if opts.score and any(t.ok or t.skipped for t in result.tallies):
        print_leaderboard(exp.dir, out)
    return result


def _tally_record(tally: ModelTally) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(tally), "items_per_hour": tally.items_per_hour}
