"""Scale-out without Ray: concurrent processes on one experiment (claims), shards, samples, the budget, the dry
run, recovery of an interrupted replacement, and the flags that must be refused before any work."""

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import models_for_tests
from vmevalkit import models
from vmevalkit.cli import main
from vmevalkit.questions import Question, write_question
from vmevalkit.results import iter_items, read_item
from vmevalkit.runner.claims import Claims
from vmevalkit.runner.plan import Item, in_shard, parse_shard, plan_items, question_seed, result_key
from vmevalkit.runner.writer import REPLACED, Experiment
from vmevalkit.scoring.rows import read_rows

SCRIPT = Path(models_for_tests.__file__)


def make_questions(root: Path, n: int) -> Path:
    rng = np.random.default_rng(3)
    for i in range(n):
        first = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
        final = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
        write_question(Question(id=f"q{i}", domain="toy", prompt=f"solve {i}", first_frame=first, final_frame=final),
                       root)
    return root


@pytest.fixture
def test_models(monkeypatch):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    models_for_tests.register()


def cli(tmp_path, *extra):
    return main(["run", "--questions", str(tmp_path / "qs"), "--output-dir", str(tmp_path / "out"),
                 "--experiment", "e", "--no-progress", *extra])


def calls(path: Path) -> collections.Counter:
    lines = path.read_text().splitlines() if path.exists() else []
    return collections.Counter(" ".join(line.split()[:3]) for line in lines)  # model, question, seed


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_runs_on_one_experiment_make_every_item_once(tmp_path, processes):
    make_questions(tmp_path / "qs", 8)
    log = tmp_path / "calls.txt"
    env = {**os.environ, "VMEVALKIT_TEST_CALLS": str(log), "VMEVALKIT_TEST_SLEEP": "0.3", "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, str(SCRIPT), "run", "--questions", str(tmp_path / "qs"), "--output-dir",
            str(tmp_path / "out"), "--experiment", "e", "--no-progress", "--models", "counting", "--no-controls"]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(processes)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0] * processes, outputs
    made = calls(log)
    assert len(made) == 8 and set(made.values()) == {1}  # every item generated exactly once
    assert len({line.split()[3] for line in log.read_text().splitlines()}) >= 2  # the work was shared
    exp = tmp_path / "out" / "e"
    assert len(list(iter_items(exp))) == 8 and all(i.ok for i in iter_items(exp))
    rows = read_rows(exp)
    assert len(rows) == len({(r["model"], r["question"], r["scorer"]) for r in rows}) == 8  # no duplicate rows
    record = json.loads((exp / "experiment.json").read_text())["runs"]
    assert len(record) == processes and all(r["finished"] for r in record)  # no run record lost
    assert sum(r["summary"][0]["ok"] for r in record) == 8
    assert not list((exp / ".claims").rglob("*.claim"))


def test_a_claim_of_a_killed_process_is_taken_over(tmp_path, test_models):
    make_questions(tmp_path / "qs", 2)
    exp = tmp_path / "out" / "e"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    held = Claims(exp, "gone")
    claim = held.path("counting/toy_task/q0")
    claim.parent.mkdir(parents=True)
    claim.write_text(json.dumps({"host": held.host, "pid": dead.pid, "run": "gone", "started": "then"}))
    live = Claims(exp, "other")
    assert live.take("counting/toy_task/q1") and not Claims(exp, "third").take("counting/toy_task/q1")
    assert cli(tmp_path, "--models", "counting", "--no-controls", "--no-score") == 0  # q1: held by "other"
    assert read_item(exp / "counting" / "toy_task" / "q0").ok  # the dead process's claim was taken over
    assert read_item(exp / "counting" / "toy_task" / "q1") is None
    live.close()
    assert cli(tmp_path, "--models", "counting", "--no-controls", "--no-score") == 0
    assert read_item(exp / "counting" / "toy_task" / "q1").ok


def test_a_claim_not_refreshed_in_time_is_stale_and_a_live_one_is_kept_fresh(tmp_path):
    exp = tmp_path / "e"
    holder = Claims(exp, "a", stale_after=0.6, heartbeat=0.1)
    assert holder.take("m/d_task/q")
    time.sleep(1.0)
    assert not Claims(exp, "b", stale_after=0.6).take("m/d_task/q")  # the heartbeat keeps it fresh
    holder._stop.set()  # as if its host went away: no more heartbeats
    time.sleep(1.0)
    other_host = Claims(exp, "c", stale_after=0.6)
    other_host.host = "elsewhere"
    assert other_host.take("m/d_task/q")
    holder.close()
    other_host.close()


def test_shards_partition_the_items_and_merge_into_one_experiment(tmp_path, test_models, capsys):
    make_questions(tmp_path / "qs", 6)
    q = [Question(id=f"q{i}", domain="toy", prompt="p", first_frame=Image.new("RGB", (4, 4))) for i in range(40)]
    items = plan_items("m", {}, q, 0, "letterbox", samples=2)
    parts = [in_shard(items, (i, 3)) for i in range(3)]
    assert sorted(i.name for p in parts for i in p) == sorted(i.name for i in items)
    assert all(len(p) > 10 for p in parts) and in_shard(items, (1, 3))[0].name == parts[1][0].name
    for shard in ("0/2", "1/2"):
        assert cli(tmp_path, "--models", "counting", "--shard", shard, "--no-score") == 0
    exp = tmp_path / "out" / "e"
    assert sorted(i.question_key for i in iter_items(exp) if i.model == "counting") == [f"toy_task/q{i}"
                                                                                      for i in range(6)]
    assert main(["score", "--experiment", "e", "--output-dir", str(tmp_path / "out"), "--quiet"]) == 0
    assert len(read_rows(exp)) == 18
    for bad in ("2/2", "x", "1/0", "-1/3"):
        with pytest.raises(Exception, match="--shard"):
            parse_shard(bad)


def test_samples_are_items_with_their_own_seeds_folders_and_keys(tmp_path, test_models):
    make_questions(tmp_path / "qs", 2)
    assert cli(tmp_path, "--models", "counting", "--no-controls", "--no-score") == 0
    exp = tmp_path / "out" / "e"
    first = read_item(exp / "counting" / "toy_task" / "q0").metadata
    assert first["sample"] == 0 and first["samples"] == 1
    created = first["created"], (exp / "counting" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns
    assert cli(tmp_path, "--models", "counting", "--no-controls", "--no-score", "--samples", "3") == 0
    again = read_item(exp / "counting" / "toy_task" / "q0").metadata
    assert (again["created"], (exp / "counting" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns) == created
    seeds = set()
    for k in (1, 2):
        meta = read_item(exp / "counting" / "toy_task" / f"q0@{k}").metadata
        assert meta["sample"] == k and meta["status"] == "ok"
        seeds.add(meta["seed"])
    question = read_item(exp / "counting" / "toy_task" / "q0").question()
    assert seeds == {question_seed(0, question, 1), question_seed(0, question, 2)}
    assert first["seed"] not in seeds and question_seed(0, question) == first["seed"]
    assert len({result_key("counting", question, {"frames": 3}, s, "letterbox", k) for k, s in
                enumerate([first["seed"], *sorted(seeds)])}) == 3
    assert sorted(i.metadata["sample"] for i in iter_items(exp)) == [0, 0, 1, 1, 2, 2]
    with pytest.raises(SystemExit):
        main(["run", "--samples", "x"])


def test_dry_run_prints_the_plan_and_loads_or_writes_nothing(tmp_path, test_models, capsys):
    make_questions(tmp_path / "qs", 3)
    assert cli(tmp_path, "--models", "priced", "--samples", "2", "--dry-run") == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("priced"))
    assert row[1:] == ["6", "0", "0.250", "1.50"]
    assert "total" in out and "1.50" in out.split("total", 1)[1]
    assert not list((tmp_path / "out" / "e").glob("*/*/*/metadata.json"))


def test_max_cost_stops_submitting_before_the_budget_is_passed(tmp_path, test_models, capsys):
    make_questions(tmp_path / "qs", 5)
    log = tmp_path / "calls.txt"
    os.environ["VMEVALKIT_TEST_CALLS"] = str(log)
    try:
        assert cli(tmp_path, "--models", "priced", "--no-controls", "--no-score", "--max-cost", "0.6") == 1
    finally:
        del os.environ["VMEVALKIT_TEST_CALLS"]
    assert sum(calls(log).values()) == 2  # 2 x 0.25 fits in 0.60, a third would not
    captured = capsys.readouterr()
    assert "--max-cost 0.6 USD reached" in captured.err
    runs = json.loads((tmp_path / "out" / "e" / "experiment.json").read_text())["runs"]
    assert runs[-1]["summary"][0]["not_started"] == 3 and runs[-1]["estimated_cost_usd"] == 0.5


def test_a_replacement_killed_half_way_leaves_the_old_result_recoverable(tmp_path, test_models):
    make_questions(tmp_path / "qs", 1)
    assert cli(tmp_path, "--models", "counting", "--no-controls", "--no-score") == 0
    exp = tmp_path / "out" / "e"
    final = exp / "counting" / "toy_task" / "q0"
    before = (final / "metadata.json").read_text()
    aside = final.with_name(f".q0{REPLACED}")
    os.replace(final, aside)  # what a SIGKILL between the two renames of a publish leaves
    (exp / ".staging" / "999999999-1").mkdir(parents=True)
    Experiment(exp).recover()
    assert (final / "metadata.json").read_text() == before and not aside.exists()
    assert not (exp / ".staging" / "999999999-1").exists()


@pytest.mark.parametrize("flags, message", [
    (["--models", ""], "--models is empty"),
    (["--models", "static", "--tasks", "maze", "--n", "0"], "--n must be at least 1, got 0"),
    (["--models", "static", "--tasks", "maze", "--n", "-1"], "--n must be at least 1, got -1"),
    (["--models", "static", "--tasks", "maze", "--n", "1000000000", "--limit", "1"],
     "--n: 1,000,000,000 questions is over the limit of 10,000"),
    (["--models", "static", "--limit", "0"], "--limit must be at least 1, got 0"),
    (["--models", "static", "--limit", "-1"], "--limit must be at least 1, got -1"),
    (["--models", "static", "--samples", "0"], "--samples must be at least 1, got 0"),
    (["--models", "static", "--samples", "5000"], "raise the limit with VMEVALKIT_MAX_SAMPLES=5000"),
    (["--models", "static", "--experiment", "sp ace"], "--experiment 'sp ace'"),
    (["--models", "static", "--experiment", ""], "--experiment ''"),
    (["--models", "static", "--experiment", "../x"], "--experiment '../x'"),
    (["--models", "static", "--set", "gpus=1"], "use it with --ray"),
    (["--models", "static", "--max-cost", "-1"], "--max-cost -1"),
])
def test_flags_that_cannot_work_are_refused_before_any_work(tmp_path, flags, message, capsys):
    source = [] if "--tasks" in flags else ["--questions", str(make_questions(tmp_path / "qs", 1))]
    assert main(["run", *source, "--output-dir", str(tmp_path / "out"), "--no-progress", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_limit_bounds_what_is_generated(tmp_path):
    assert main(["run", "--tasks", "maze", "--n", "50", "--limit", "2", "--models", "static", "--no-controls",
                 "--output-dir", str(tmp_path), "--no-progress", "--no-score"]) == 0
    assert sorted(p.name for p in (tmp_path / "tasks-maze" / "questions" / "maze_task").iterdir()) == [
        "maze_0000", "maze_0001"]


def test_a_sigkilled_run_with_samples_resumes_to_every_sample_exactly_once(tmp_path):
    make_questions(tmp_path / "qs", 3)
    log = tmp_path / "calls.txt"
    env = {**os.environ, "VMEVALKIT_TEST_CALLS": str(log), "VMEVALKIT_TEST_SLEEP": "0.4"}
    argv = [sys.executable, str(SCRIPT), "run", "--questions", str(tmp_path / "qs"), "--output-dir",
            str(tmp_path / "out"), "--experiment", "e", "--no-progress", "--models", "counting", "--samples", "3"]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while sum(calls(log).values()) < 4 and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    exp = tmp_path / "out" / "e"
    folders = sorted(p.name for p in (exp / "counting" / "toy_task").iterdir())
    assert folders == sorted(f"q{i}{s}" for i in range(3) for s in ("", "@1", "@2"))
    for model in ("counting", "static", "oracle"):
        for folder in (exp / model / "toy_task").iterdir():
            assert read_item(folder).ok
    made = calls(log)
    assert len(made) == 9 and max(made.values()) <= 2  # at most the one in flight when killed was made again
    assert sum(made.values()) - 9 <= 1
