"""The run command as users start it, in a subprocess: end to end on the older kit's questions, the seed's
command without weights, and a run killed with SIGKILL and resumed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
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
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def vmevalkit(*args, cwd=None, **extra_env):
    return subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args], env=env(**extra_env), cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_end_to_end_on_the_older_kits_questions_with_the_controls(tmp_path, test_questions):
    done = vmevalkit("run", "--questions", str(test_questions), "--output-dir", str(tmp_path), "--experiment", "e2e",
                     "--models", "static", "--set", "frames=4", "--no-progress")
    assert done.returncode == 0, done.stderr
    exp = tmp_path / "e2e"
    items = list(iter_items(exp))
    assert len(items) == 10 and all(i.ok for i in items)
    assert {i.model for i in items} == {"static", "oracle"}
    for item in items:
        assert (item.folder / "video.mp4").is_file() and (item.folder / "last_frame.png").is_file()
        assert (item.folder / "question" / "first_frame.png").is_file()
        meta = item.metadata
        assert meta["question"]["domain"] == "vmevalkit-test" and meta["seed"] >= 0 and meta["versions"]["av"]
        first = Image.open(item.folder / "question" / "first_frame.png")
        assert (meta["video"]["width"], meta["video"]["height"]) == first.size  # controls: the question's size
        assert 0 <= item.video().size[1] - first.size[1] <= 1  # (mp4 pads odd sizes by one pixel)
        if item.model == "static":
            assert meta["motion"]["static"] and meta["motion"]["identical_pair_share"] == 1.0
    oracle_gt = read_item(exp / "oracle" / "vmevalkit-test_task" / "test_0003")
    assert oracle_gt.metadata["motion"]["static"] is False
    assert oracle_gt.metadata["video"]["num_frames"] == read_mp4(
        test_questions / "test_0003" / "ground_truth.mp4").num_frames
    assert "static" in done.stdout and "oracle" in done.stdout and str(exp) in done.stdout
    assert "Traceback" not in done.stderr


def test_the_seeds_command_without_weights_prints_the_fix(tmp_path):
    done = subprocess.run([sys.executable, "-m", "vmevalkit.run", "--models", "videocrafter2-512", "--experiment",
                           "test_real_inference"], env=env(VMEVALKIT_WEIGHTS=str(tmp_path / "weights")),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].endswith("fetch them with: vmevalkit weights download videocrafter2-512")
    assert not (tmp_path / "outputs").exists()  # stopped before any work, controls included


SLOW_RUN = textwrap.dedent('''
    """A user's script: registers its own (slow) model through the public hook, then runs the CLI."""
    import sys
    import time

    import numpy as np

    from vmevalkit.cli import main
    from vmevalkit.models import ModelSpec, register_model
    from vmevalkit.models.base import VideoModel
    from vmevalkit.video import Video


    class SlowModel(VideoModel):
        resolution = (32, 24)

        @property
        def settings(self):
            return {"frames": 6}

        def generate(self, question, image, *, seed, progress=True):
            time.sleep(0.4)
            a = np.asarray(image)
            return Video(np.stack([np.roll(a, i, axis=1) for i in range(6)]), 8)


    register_model(ModelSpec("slow", "test", "i2v", "test-only slow model", defaults={"frames": 6},
                             build=lambda spec, settings, device, dtype, weights: SlowModel()))
    sys.exit(main(sys.argv[1:]))
''')


def test_a_run_killed_with_sigkill_resumes_without_redoing_or_trusting_half_work(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(8):
        write_question(Question(id=f"q{i}", domain="kill", prompt="p", metadata={"i": i},
                                first_frame=Image.fromarray(rng.integers(0, 255, (14, 20, 3), dtype=np.uint8)),
                                final_frame=Image.fromarray(rng.integers(0, 255, (14, 20, 3), dtype=np.uint8))),
                       tmp_path / "qs")
    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUN)
    argv = [sys.executable, str(script), "run", "--models", "slow", "--questions", str(tmp_path / "qs"),
            "--output-dir", str(tmp_path / "out"), "--experiment", "k", "--no-progress"]
    exp = tmp_path / "out" / "k"
    proc = subprocess.Popen(argv, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((exp / "slow").glob("*/*/metadata.json"))) < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {i.folder: (i.metadata["created"], (i.folder / "metadata.json").stat().st_mtime_ns,
                           (i.folder / "video.mp4").stat().st_mtime_ns) for i in iter_items(exp)}
    assert 3 <= sum(1 for f in finished if f.parent.parent.name == "slow") < 8
    assert all(i.ok and i.video().num_frames > 0 for i in iter_items(exp))  # what looks finished is complete
    unfinished = sorted(set((exp / "slow" / "kill_task").glob("q*")) - set(finished))
    target = unfinished[-1] if unfinished else exp / "slow" / "kill_task" / "q7"
    target.mkdir(parents=True, exist_ok=True)
    (target / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom half-written")  # a torn video, no metadata

    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    items = list(iter_items(exp))
    assert len(items) == 24 and all(i.ok for i in items)
    for item in items:
        if item.folder in finished:  # not redone
            assert finished[item.folder] == (item.metadata["created"],
                                             (item.folder / "metadata.json").stat().st_mtime_ns,
                                             (item.folder / "video.mp4").stat().st_mtime_ns)
    assert read_mp4(target / "video.mp4").num_frames == 6  # the torn video was regenerated
    slow_line = next(line.split() for line in done.stdout.splitlines() if line.startswith("slow"))
    skipped_slow = sum(1 for f in finished if f.parent.parent.name == "slow")
    assert slow_line[1:4] == [str(8 - skipped_slow), "0", str(skipped_slow)]
    assert not (exp / ".staging").exists()
    assert not [p for p in exp.rglob("*") if ".partial" in p.name]
    runs = json.loads((exp / "experiment.json").read_text())["runs"]
    assert runs[0]["finished"] is None and runs[-1]["exit_code"] == 0  # the killed run is on record


@pytest.mark.parametrize("args", [["run", "--help"], ["models"], ["weights", "--help"]])
def test_commands_answer_without_a_traceback(args):
    done = vmevalkit(*args)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stdout.strip()
