"""Named suites: fixed questions (same bytes in another process), hashes recorded in experiment.json."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from vmevalkit.cli import main
from vmevalkit.report import leaderboard_text
from vmevalkit.tasks import all_tasks, get_task
from vmevalkit.tasks.suites import SUITES, Suite, SuiteEntry, get_suite, questions_hash


def test_a_suite_is_the_same_questions_in_another_process(tmp_path, capsys):
    assert main(["tasks", "generate", "--suite", "core-mini-v1", "--out", str(tmp_path / "a")]) == 0
    here = capsys.readouterr().out
    other = subprocess.run([sys.executable, "-m", "vmevalkit", "tasks", "generate", "--suite", "core-mini-v1",
                            "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=300)
    assert other.returncode == 0, other.stderr
    assert here.split("(", 1)[1] == other.stdout.split("(", 1)[1]  # definition and questions hashes
    for png in (tmp_path / "a").rglob("*.png"):
        assert png.read_bytes() == (tmp_path / "b" / png.relative_to(tmp_path / "a")).read_bytes()
    folders = sorted((tmp_path / "a").glob("*/*"))
    assert len(folders) == get_suite("core-mini-v1").size == 7
    before = questions_hash(folders, tmp_path / "a")
    (folders[0] / "prompt.txt").write_text("something else\n")
    assert questions_hash(folders, tmp_path / "a") != before


def test_the_definition_hash_follows_entries_and_task_versions(monkeypatch):
    suite = get_suite("core-v1")
    assert suite.size == 210 and {e.task for e in suite.entries} == {"chess", "counting", "maze", "path_tracing",
                                                                     "raven", "rotation", "sudoku"}
    assert len({(task, seed) for task, seed, _ in suite.plan()}) == 210  # no question twice
    base = suite.definition_hash()
    assert Suite(suite.name, "", suite.entries[:-1]).definition_hash() != base
    maze = get_task("maze")
    monkeypatch.setattr(type(maze), "version", maze.version + "-changed")
    assert suite.definition_hash() != base
    with pytest.raises(Exception, match="unknown suite; known suites: core-v1"):
        get_suite("core-v9")


def test_reasoning_v1_covers_every_built_in_task_and_contains_core_v1():
    reasoning, core = get_suite("reasoning-v1"), get_suite("core-v1")
    assert {e.task for e in reasoning.entries} == set(all_tasks())
    assert set(core.plan()) <= set(reasoning.plan()) and reasoning.size == 450
    assert {(e.task, e.difficulty) for e in get_suite("reasoning-mini-v1").entries} == \
        {(name, "easy") for name in all_tasks()}


def test_run_with_a_suite_records_it(tmp_path, monkeypatch):
    monkeypatch.setitem(SUITES, "two-v1", Suite("two-v1", "test", (SuiteEntry("maze", "easy", 0, 1),
                                                                   SuiteEntry("counting", "easy", 5, 1))))
    assert main(["run", "--suite", "two-v1", "--models", "static", "--no-controls", "--output-dir", str(tmp_path),
                 "--no-progress", "--no-score"]) == 0
    record = json.loads((tmp_path / "suite-two-v1" / "experiment.json").read_text())["runs"][0]
    assert record["suite"]["name"] == "two-v1" and record["suite"]["complete"] is True
    assert record["suite"]["definition_hash"] == SUITES["two-v1"].definition_hash()
    assert sorted(record["questions"]) == ["counting_task/counting_0005", "maze_task/maze_0000"]
    header = f"Questions from suite two-v1 (definition {record['suite']['definition_hash'][:12]}, questions "
    assert header + record["suite"]["questions_hash"][:12] + ")" in leaderboard_text(tmp_path / "suite-two-v1")
    with pytest.raises(SystemExit):  # one source of questions at a time
        main(["run", "--suite", "two-v1", "--tasks", "maze", "--output-dir", str(tmp_path)])
    assert replace(SUITES["two-v1"], name="x").definition_hash() != SUITES["two-v1"].definition_hash()
