"""The run command as users start it, in a subprocess: end to end on the older kit's questions, the seed's
command without weights, and a run killed with SIGKILL and resumed."""

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

from vmevalkit.questions import Question, write_question
from vmevalkit.results import iter_items, read_item
from vmevalkit.video import read_mp4

ROOT = Path(__file__).resolve().parent.parent


def env(**extra):
    # one thread: the tiny model's tensors are small, and a busy machine makes more threads slower
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **extra}


def vmevalkit(*args, cwd=None, **extra_env):
    return subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args], env=env(**extra_env), cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_end_to_end_on_the_older_kits_questions_with_the_controls_and_tiny(tmp_path, test_questions):
    done = vmevalkit("run", "--questions", str(test_questions), "--output-dir", str(tmp_path), "--experiment", "e2e",
                     "--models", "videocrafter-tiny", "--set", "frames=4", "--set", "steps=1", "--no-progress")
    assert done.returncode == 0, done.stderr
    exp = tmp_path / "e2e"
    items = list(iter_items(exp))
    assert len(items) == 15 and all(i.ok for i in items)
    assert {i.model for i in items} == {"static", "oracle", "videocrafter-tiny"}
    for item in items:
        assert (item.folder / "video.mp4").is_file() and (item.folder / "last_frame.png").is_file()
        assert (item.folder / "question" / "first_frame.png").is_file() and item.question().id == item.folder.name
        meta = item.metadata
        assert meta["question"]["domain"] == "vmevalkit-test" and meta["seed"] >= 0 and meta["versions"]["torch"]
        first = Image.open(item.folder / "question" / "first_frame.png")
        if item.model == "videocrafter-tiny":
            assert meta["untrained"] is True and meta["model_description"]["untrained"] is True
            assert meta["settings"]["steps"] == 1 and meta["settings"]["frames"] == 4
            assert meta["fit"]["dst_size"] == [64, 40] and meta["fit"]["src_size"] == list(first.size)
            assert meta["motion"]["static"] is False and meta["motion"]["identical_pair_share"] == 0.0
            frames = item.video().frames.astype(int)
            assert np.abs(frames[1:] - frames[:-1]).mean() > 5  # its frames really differ
            assert meta["timings"]["generate_s"] > 0 and meta["model_description"]["parameters"] > 0
        else:
            assert (meta["video"]["width"], meta["video"]["height"]) == first.size  # the question's own size
            assert 0 <= item.video().size[1] - first.size[1] <= 1  # (mp4 pads odd sizes by one pixel)
        if item.model == "static":
            assert meta["motion"]["static"] and meta["motion"]["identical_pair_share"] == 1.0
    oracle_gt = read_item(exp / "oracle" / "vmevalkit-test_task" / "test_0003")
    assert oracle_gt.metadata["motion"]["static"] is False
    assert oracle_gt.metadata["video"]["num_frames"] == read_mp4(
        test_questions / "test_0003" / "ground_truth.mp4").num_frames
    tiny_row = next(line for line in done.stdout.splitlines() if line.startswith("videocrafter-tiny"))
    assert tiny_row.split()[1:4] == ["5", "0", "0"] and "UNTRAINED" in tiny_row
    assert str(exp) in done.stdout and "Traceback" not in done.stderr


def test_the_seeds_command_without_weights_prints_the_fix(tmp_path):
    done = subprocess.run([sys.executable, "-m", "vmevalkit.run", "--models", "videocrafter2-512", "--experiment",
                           "test_real_inference"], env=env(VMEVALKIT_WEIGHTS=str(tmp_path / "weights")),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].endswith("fetch them with: vmevalkit weights download videocrafter2-512")
    assert not (tmp_path / "outputs").exists()  # stopped before any work, controls included


def test_a_run_killed_with_sigkill_resumes_without_redoing_or_trusting_half_work(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(6):
        write_question(Question(id=f"q{i}", domain="kill", prompt="p", metadata={"i": i},
                                first_frame=Image.fromarray(rng.integers(0, 255, (14, 20, 3), dtype=np.uint8)),
                                final_frame=Image.fromarray(rng.integers(0, 255, (14, 20, 3), dtype=np.uint8))),
                       tmp_path / "qs")
    argv = [sys.executable, "-m", "vmevalkit.run", "--models", "videocrafter-tiny", "--set", "steps=1",
            "--set", "frames=4", "--questions", str(tmp_path / "qs"), "--output-dir", str(tmp_path / "out"),
            "--experiment", "k", "--no-progress"]
    exp = tmp_path / "out" / "k"
    proc = subprocess.Popen(argv, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while len(list((exp / "videocrafter-tiny").glob("*/*/metadata.json"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {i.folder: (i.metadata["created"], (i.folder / "metadata.json").stat().st_mtime_ns,
                           (i.folder / "video.mp4").stat().st_mtime_ns) for i in iter_items(exp)}
    tiny_done = sum(1 for f in finished if f.parent.parent.name == "videocrafter-tiny")
    assert 2 <= tiny_done < 6  # killed mid-way
    assert all(i.ok and i.video().num_frames > 0 for i in iter_items(exp))  # what looks finished is complete
    torn = exp / "videocrafter-tiny" / "kill_task" / "q5"
    assert torn not in finished
    torn.mkdir(parents=True, exist_ok=True)
    (torn / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom half-written")  # a torn video, no metadata

    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    items = list(iter_items(exp))
    assert len(items) == 18 and all(i.ok for i in items)
    for item in items:
        if item.folder in finished:  # not redone
            assert finished[item.folder] == (item.metadata["created"],
                                             (item.folder / "metadata.json").stat().st_mtime_ns,
                                             (item.folder / "video.mp4").stat().st_mtime_ns)
    assert read_mp4(torn / "video.mp4").num_frames == 4  # the torn video was regenerated
    tiny_line = next(line.split() for line in done.stdout.splitlines() if line.startswith("videocrafter-tiny"))
    assert tiny_line[1:4] == [str(6 - tiny_done), "0", str(tiny_done)]
    assert not (exp / ".staging").exists()
    assert not [p for p in exp.rglob("*") if ".partial" in p.name]
    runs = json.loads((exp / "experiment.json").read_text())["runs"]
    assert runs[0]["finished"] is None and runs[-1]["exit_code"] == 0  # the killed run is on record


def test_the_documented_own_model_script_runs(tmp_path):
    """The "Adding a model" example of docs/kit.md, run as written: register_model, then the CLI."""
    doc = (ROOT / "docs" / "kit.md").read_text()
    script = doc.split("```python\n# my_run.py\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_run.py").write_text(script)
    for i in range(2):
        write_question(Question(id=f"q{i}", domain="own", prompt="p", first_frame=Image.new("RGB", (40, 30), i),
                                final_frame=Image.new("RGB", (40, 30), 200)), tmp_path / "qs")
    done = subprocess.run([sys.executable, "my_run.py", "run", "--models", "my-model", "--questions",
                           str(tmp_path / "qs"), "--set", "steps=10", "--no-progress"],
                          env=env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    items = [i for i in iter_items(tmp_path / "outputs" / "qs") if i.model == "my-model"]
    assert len(items) == 2 and all(i.ok and i.metadata["settings"] == {"steps": 10} for i in items)
    assert items[0].metadata["fit"]["dst_size"] == [512, 320]


@pytest.mark.slow
def test_the_demo_runs_with_no_flags(tmp_path):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "vmevalkit.run"], env=env(), cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    items = list(iter_items(tmp_path / "outputs" / "demo"))
    assert len(items) == 9 and all(i.ok for i in items)
    assert {i.model for i in items} == {"static", "oracle", "videocrafter-tiny"}
    assert "UNTRAINED" in done.stdout and "outputs/demo" in done.stdout and "## Leaderboard: demo" in done.stdout
    assert seconds < 120, f"the demo took {seconds:.0f} s"


@pytest.mark.parametrize("args", [["run", "--help"], ["models"], ["weights", "--help"]])
def test_commands_answer_without_a_traceback(args):
    done = vmevalkit(*args)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stdout.strip()


def test_python_m_vmevalkit_is_the_command():
    done = subprocess.run([sys.executable, "-m", "vmevalkit", "models", "--json"], env=env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert {"videocrafter-tiny", "static", "oracle"} <= {m["id"] for m in json.loads(done.stdout)}


@pytest.mark.parametrize("args, says", [
    (["report", "--help"], "with 95% bootstrap intervals"),
    (["weights", "--help"], "exit 2, with the fix, when it is missing"),
    (["run", "--help"], "with --tasks, tasks-<names>; with --suite, suite-<name>; else 'demo'"),
])
def test_help_says_what_the_command_does(args, says):
    done = vmevalkit(*args)
    assert says in " ".join(done.stdout.split()) and "%%" not in done.stdout
