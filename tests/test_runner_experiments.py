"""The runner, in process: output tree, metadata, resume, settings changes, failures, bad inputs."""

import json
import os
import shlex
import shutil

import numpy as np
import pytest
from PIL import Image

from vmevalkit import models
from vmevalkit import runner
import vmevalkit.runner.writer
from vmevalkit.cli import main
from vmevalkit.geometry import Fit
from vmevalkit.models import ModelSpec, register_model
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question, read_question, write_question
from vmevalkit.results import iter_items, read_item
from vmevalkit.runner import question_seed, result_key
from vmevalkit.scoring.base import Score
from vmevalkit.tasks.base import Generated, Task
from vmevalkit.video import Video, read_mp4


class SlideModel(VideoModel):
    """Test-only model: slides the fitted first frame sideways one pixel per frame; fails on question `fail_on`."""

    resolution = (32, 24)

    def __init__(self, frames=4, fps=8, fail_on=""):
        self.frames, self.fps, self.fail_on = frames, fps, fail_on
        self.calls = 0

    @property
    def settings(self):
        return {"frames": self.frames, "fps": self.fps, "fail_on": self.fail_on}

    def describe(self):
        return {"weights": {"sha256": "0" * 64}, "dtype": "float32"}

    def generate(self, question, image, *, seed, progress=True):
        self.calls += 1
        if question.id == self.fail_on:
            raise RuntimeError(f"cannot do {question.id} on purpose")
        a = np.asarray(image)
        assert image.size == self.resolution
        return Video(np.stack([np.roll(a, i, axis=1) for i in range(self.frames)]), self.fps)


LOADS = []


def _build_slide(spec, settings, device, dtype, weights):
    LOADS.append(spec.id)
    return SlideModel(**settings)


@pytest.fixture
def slide(monkeypatch):
    """Registers the test-only `slide` model in an isolated copy of the registry."""
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))
    LOADS.clear()
    register_model(ModelSpec("slide", "test", "i2v", "test-only sliding model", build=_build_slide,
                             defaults={"frames": 4, "fps": 8, "fail_on": ""}))
    return LOADS


def make_questions(root, n=3, size=(20, 14)):
    rng = np.random.default_rng(7)
    for i in range(n):
        first = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        final = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        write_question(Question(id=f"q{i}", domain="toy", prompt=f"solve {i}", first_frame=first,
                                final_frame=final, metadata={"n": i}), root)
    return root


def run(tmp_path, *extra):
    return main(["run", "--questions", str(tmp_path / "qs"), "--output-dir", str(tmp_path / "out"),
                 "--experiment", "exp", "--no-progress", *extra])


@pytest.fixture
def qs(tmp_path):
    return make_questions(tmp_path / "qs")


def test_tree_metadata_and_run_log(tmp_path, qs, slide, capsys):
    assert run(tmp_path, "--models", "slide", "--seed", "5") == 0
    exp = tmp_path / "out" / "exp"
    items = list(iter_items(exp))
    assert sorted((i.model, i.question_key) for i in items) == sorted(
        (m, f"toy_task/q{k}") for m in ("oracle", "slide", "static") for k in range(3))
    assert slide == ["slide"]  # loaded once for all questions
    folder = exp / "slide" / "toy_task" / "q1"
    meta = json.loads((folder / "metadata.json").read_text())
    q = read_question(qs / "toy_task" / "q1")
    assert meta["status"] == "ok" and meta["model"] == "slide" and meta["untrained"] is False
    assert meta["settings"] == {"frames": 4, "fps": 8, "fail_on": ""}
    assert meta["seed"] == question_seed(5, q) and meta["run_seed"] == 5
    assert meta["result_key"] == result_key("slide", q, meta["settings"], meta["seed"], "letterbox")
    assert meta["question"]["fingerprint"] == q.fingerprint and meta["question"]["prompt"] == "solve 1"
    assert meta["model_description"]["weights"]["sha256"] == "0" * 64
    assert meta["model_description"]["device"] == meta["device"] == "cpu"
    assert set(meta["versions"]) >= {"torch", "vmevalkit", "open_clip_torch", "av", "numpy", "python"}
    assert meta["timings"]["generate_s"] >= 0 and "model_load_s" in meta["timings"]
    assert meta["motion"]["static"] is False and meta["motion"]["num_frames"] == 4
    assert meta["video"]["width"] == 32 and meta["video"]["height"] == 24
    fit = Fit.from_dict(meta["fit"])
    assert fit.dst_size == (32, 24) and fit.src_size == (20, 14) and fit.policy == "letterbox"
    video = read_mp4(folder / "video.mp4")
    assert video.num_frames == 4 and video.size == (32, 24)
    last = np.asarray(Image.open(folder / "last_frame.png"))
    assert last.shape == (24, 32, 3)
    assert np.array_equal(np.asarray(Image.open(folder / "model_input.png")), np.asarray(fit.apply(q.first_frame)))
    for name in ("first_frame.png", "final_frame.png", "prompt.txt", "question_metadata.json"):
        assert (folder / "question" / name).read_bytes() == (qs / "toy_task" / "q1" / name).read_bytes()
    item = read_item(folder)
    assert item.question().prompt == "solve 1" and item.fit() == fit
    assert item.question().key == "toy_task/q1" and item.question().fingerprint == q.fingerprint
    static = json.loads((exp / "static" / "toy_task" / "q1" / "metadata.json").read_text())
    assert static["motion"]["static"] is True and static["fit"]["dst_size"] == [20, 14]
    assert not (exp / "static" / "toy_task" / "q1" / "model_input.png").exists()
    log = json.loads((exp / "experiment.json").read_text())
    assert len(log["runs"]) == 1 and log["runs"][0]["finished"] and log["runs"][0]["exit_code"] == 0
    assert log["runs"][0]["models"]["slide"]["settings"]["frames"] == 4
    assert [t["model"] for t in log["runs"][0]["summary"]] == ["static", "oracle", "slide"]
    out = capsys.readouterr().out
    assert "slide" in out and "control: lower bound" in out and str(exp) in out
    assert not (exp / ".staging").exists()
    assert oct((folder / "video.mp4").stat().st_mode & 0o777) != oct(0o600)


def test_rerun_skips_finished_items(tmp_path, qs, slide, capsys):
    assert run(tmp_path, "--models", "slide") == 0
    meta_path = tmp_path / "out" / "exp" / "slide" / "toy_task" / "q0" / "metadata.json"
    before = meta_path.stat().st_mtime_ns, meta_path.read_text()
    capsys.readouterr()
    assert run(tmp_path, "--models", "slide") == 0
    assert (meta_path.stat().st_mtime_ns, meta_path.read_text()) == before
    assert slide == ["slide"]  # nothing to do: the model is not even loaded again
    summary = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("slide")]
    assert summary[0][1:4] == ["0", "0", "3"]  # ok, failed, skipped
    assert len(json.loads((tmp_path / "out" / "exp" / "experiment.json").read_text())["runs"]) == 2


def test_other_settings_are_regenerated_not_reused(tmp_path, qs, slide):
    assert run(tmp_path, "--models", "slide") == 0
    folder = tmp_path / "out" / "exp" / "slide" / "toy_task" / "q0"
    old_key = read_item(folder).metadata["result_key"]
    assert run(tmp_path, "--models", "slide", "--set", "frames=6") == 0
    meta = read_item(folder).metadata
    assert meta["result_key"] != old_key and meta["settings"]["frames"] == 6
    assert read_mp4(folder / "video.mp4").num_frames == 6
    static = read_item(tmp_path / "out" / "exp" / "static" / "toy_task" / "q0").metadata
    assert static["settings"]["frames"] == 6  # --set applies to every model that has the setting
    assert run(tmp_path, "--models", "slide", "--set", "frames=6", "--seed", "1") == 0
    assert read_item(folder).metadata["seed"] != meta["seed"]
    assert run(tmp_path, "--models", "slide", "--set", "frames=6", "--seed", "1", "--fit", "crop") == 0
    assert read_item(folder).metadata["fit"]["policy"] == "crop"


def test_old_result_is_kept_until_the_new_one_is_complete(tmp_path, qs, slide, monkeypatch):
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    folder = tmp_path / "out" / "exp" / "slide" / "toy_task" / "q0"
    before = read_item(folder).metadata

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.writer, "write_mp4", disk_full)
    assert run(tmp_path, "--models", "slide", "--no-controls", "--set", "frames=6") == 2  # a full disk stops the run
    assert read_item(folder).metadata == before  # the complete old item is still there, untouched
    assert read_mp4(folder / "video.mp4").num_frames == 4
    assert not (tmp_path / "out" / "exp" / ".staging").exists() or not any(
        (tmp_path / "out" / "exp" / ".staging").rglob("metadata.json"))


def test_a_failure_is_recorded_and_the_run_goes_on(tmp_path, qs, slide, capsys):
    assert run(tmp_path, "--models", "slide", "--set", "fail_on=q1") == 1
    exp = tmp_path / "out" / "exp"
    failed = read_item(exp / "slide" / "toy_task" / "q1").metadata
    assert failed["status"] == "failed" and failed["error"]["type"] == "RuntimeError"
    assert failed["error"]["message"] == "cannot do q1 on purpose" and "in generate" in failed["error"]["traceback"]
    assert not (exp / "slide" / "toy_task" / "q1" / "video.mp4").exists()
    assert read_item(exp / "slide" / "toy_task" / "q2").ok and read_item(exp / "slide" / "toy_task" / "q0").ok
    captured = capsys.readouterr()
    assert "slide toy_task/q1: failed: RuntimeError: cannot do q1 on purpose" in captured.err
    assert "1 item(s) failed" in captured.out
    assert json.loads((exp / "experiment.json").read_text())["runs"][-1]["exit_code"] == 1


def test_failed_items_are_retried(tmp_path, qs, slide):
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    exp = tmp_path / "out" / "exp"
    (exp / "slide" / "toy_task" / "q2" / "metadata.json").write_text(
        json.dumps({**read_item(exp / "slide" / "toy_task" / "q2").metadata, "status": "failed"}))
    untouched = (exp / "slide" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    assert read_item(exp / "slide" / "toy_task" / "q2").ok
    assert (exp / "slide" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns == untouched


@pytest.mark.parametrize("broken", [b'{"status": "ok", "model": "sl\xffide"}', b"[1, 2]", b"null", b'{"status": "o',
                                    b'{"status": "ok"}', b'{"status": "ok", "model": "slide", "question": "q2"}'])
def test_a_broken_metadata_json_means_unfinished_and_is_redone(tmp_path, qs, slide, broken):
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    exp = tmp_path / "out" / "exp"
    (exp / "slide" / "toy_task" / "q2" / "metadata.json").write_bytes(broken)
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    assert read_item(exp / "slide" / "toy_task" / "q2").ok
    assert sorted(i.question_key for i in iter_items(exp)) == ["toy_task/q0", "toy_task/q1", "toy_task/q2"]


def test_a_model_that_cannot_load_fails_its_items_only(tmp_path, qs, monkeypatch, capsys):
    monkeypatch.setattr(models, "_REGISTRY", dict(models._REGISTRY))

    def broken(*args):
        raise RuntimeError("CUDA out of memory (pretend)")

    register_model(ModelSpec("broken", "test", "i2v", "test-only", build=broken))
    assert run(tmp_path, "--models", "broken") == 1
    exp = tmp_path / "out" / "exp"
    meta = read_item(exp / "broken" / "toy_task" / "q0").metadata
    assert meta["status"] == "failed" and meta["error"]["stage"] == "load"
    assert "out of memory" in meta["error"]["message"]
    assert all(read_item(exp / m / "toy_task" / "q0").ok for m in ("static", "oracle"))


@pytest.mark.parametrize("breakage, fragment", [
    (lambda d: (d / "first_frame.png").unlink(), "first_frame.png: missing"),
    (lambda d: (d / "first_frame.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated"), "first_frame.png: not a readable image"),
    (lambda d: (d / "prompt.txt").write_text("\n"), "prompt.txt: empty"),
    (lambda d: (d / "question_metadata.json").write_text('{"n": 1,'), "question_metadata.json: broken JSON"),
])
def test_bad_question_folders_are_reported_and_the_rest_run(tmp_path, qs, slide, capsys, breakage, fragment):
    backup = tmp_path / "backup"
    shutil.copytree(qs / "toy_task" / "q1", backup)
    breakage(qs / "toy_task" / "q1")
    assert run(tmp_path, "--models", "slide") == 1
    captured = capsys.readouterr()
    assert fragment in captured.err and str(qs / "toy_task" / "q1") in captured.err
    assert "1 question folder(s) could not be read" in captured.out
    exp = tmp_path / "out" / "exp"
    assert sorted(i.question_key for i in iter_items(exp) if i.model == "slide") == ["toy_task/q0", "toy_task/q2"]
    problems = json.loads((exp / "experiment.json").read_text())["runs"][-1]["unreadable_questions"]
    assert fragment in problems[0]["message"]
    done = (exp / "slide" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns
    shutil.rmtree(qs / "toy_task" / "q1")
    shutil.copytree(backup, qs / "toy_task" / "q1")  # fixed: the rerun does just that question
    assert run(tmp_path, "--models", "slide") == 0
    assert read_item(exp / "slide" / "toy_task" / "q1").ok
    assert (exp / "slide" / "toy_task" / "q0" / "metadata.json").stat().st_mtime_ns == done


def test_grey_16_bit_rgba_and_palette_images_run(tmp_path, slide):
    root = tmp_path / "qs" / "modes_task"
    images = {
        "grey16": Image.fromarray(np.arange(20 * 14, dtype=np.uint16).reshape(14, 20) * 200),
        "grey8": Image.fromarray(np.arange(20 * 14, dtype=np.uint8).reshape(14, 20)),
        "rgba": Image.fromarray(np.full((14, 20, 4), [255, 0, 0, 128], np.uint8), mode="RGBA"),
        "palette": Image.new("RGB", (20, 14), (0, 90, 200)).convert("P"),
    }
    for name, image in images.items():
        (root / name).mkdir(parents=True)
        image.save(root / name / "first_frame.png")
        (root / name / "prompt.txt").write_text("do it\n")
    assert Image.open(root / "grey16" / "first_frame.png").mode.startswith("I")
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    for name in images:
        folder = tmp_path / "out" / "exp" / "slide" / "modes_task" / name
        assert read_item(folder).ok
        assert Image.open(folder / "model_input.png").mode == "RGB"
        assert (folder / "question" / "first_frame.png").read_bytes() == (root / name / "first_frame.png").read_bytes()
    rgba = np.asarray(Image.open(tmp_path / "out" / "exp" / "slide" / "modes_task" / "rgba" / "model_input.png"))
    assert tuple(rgba[12, 16]) == (255, 127, 127)  # half-transparent red over white


def test_unknown_model_stops_before_any_work(tmp_path, qs, capsys):
    assert run(tmp_path, "--models", "static,videocrafter-2") == 2
    err = capsys.readouterr().err
    assert "unknown model 'videocrafter-2'" in err and "videocrafter2-512" in err
    assert not (tmp_path / "out").exists()


def test_unknown_setting_lists_the_valid_ones(tmp_path, qs, capsys):
    assert run(tmp_path, "--models", "static", "--set", "stepz=3") == 2
    assert "no selected model has a setting 'stepz'; valid settings: static: frames, fps" in capsys.readouterr().err
    assert run(tmp_path, "--models", "static", "--set", "frames") == 2
    assert "write it as key=value" in capsys.readouterr().err
    assert run(tmp_path, "--models", "static", "--set", "frames=0") == 2  # unusable: stops before any work
    assert "static: frames must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unwritable_output_dir_is_a_clear_error(tmp_path, qs, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", "--questions", str(qs), "--output-dir", str(blocker / "out"), "--no-progress",
                 "--models", "static"]) == 2
    err = capsys.readouterr().err
    assert f"{blocker / 'out'}" in err and "cannot create the output folder" in err and "--output-dir" in err


@pytest.mark.parametrize("broken", [b'{"runs": ["\xff"]}', b"[]", b'{"runs": [{"started"'])
def test_a_broken_run_log_is_started_afresh(tmp_path, qs, slide, broken):
    (tmp_path / "out" / "exp").mkdir(parents=True)
    (tmp_path / "out" / "exp" / "experiment.json").write_bytes(broken)
    assert run(tmp_path, "--models", "slide", "--no-controls", "--no-score") == 0
    runs = json.loads((tmp_path / "out" / "exp" / "experiment.json").read_text())["runs"]
    assert len(runs) == 1 and runs[0]["exit_code"] == 0


def test_limit_and_default_experiment_name(tmp_path, qs, slide):
    assert main(["run", "--questions", str(qs), "--output-dir", str(tmp_path / "out"), "--no-progress",
                 "--models", "slide", "--limit", "2"]) == 0
    assert sorted(i.question_key for i in iter_items(tmp_path / "out" / "qs") if i.model == "slide") == \
        ["toy_task/q0", "toy_task/q1"]


def test_stale_staging_and_half_written_items_are_not_taken_as_done(tmp_path, qs, slide):
    exp = tmp_path / "out" / "exp"
    stale = exp / ".staging" / "999999999-1"  # left by a killed run (no such process)
    stale.mkdir(parents=True)
    (stale / "metadata.json").write_text('{"status": "ok"}')
    half = exp / "slide" / "toy_task" / "q0"
    half.mkdir(parents=True)
    (half / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    assert [i.model for i in iter_items(exp)] == []
    assert run(tmp_path, "--models", "slide", "--no-controls") == 0
    assert not (exp / ".staging").exists()
    assert read_item(half).ok and read_mp4(half / "video.mp4").num_frames == 4


def test_seeds_and_keys_are_deterministic_and_distinct():
    img = Image.new("RGB", (4, 4))
    a = Question(id="a", domain="d", prompt="p", first_frame=img)
    b = Question(id="b", domain="d", prompt="p", first_frame=img)
    assert question_seed(0, a) == question_seed(0, a) != question_seed(0, b)
    assert question_seed(0, a) != question_seed(1, a) and 0 <= question_seed(3, a) < 2 ** 31
    base = result_key("m", a, {"steps": 5}, 1, "letterbox")
    assert base == result_key("m", a, {"steps": 5}, 1, "letterbox")
    variants = {result_key("m2", a, {"steps": 5}, 1, "letterbox"), result_key("m", b, {"steps": 5}, 1, "letterbox"),
                result_key("m", a, {"steps": 6}, 1, "letterbox"), result_key("m", a, {"steps": 5}, 2, "letterbox"),
                result_key("m", a, {"steps": 5}, 1, "crop")}
    assert base not in variants and len(variants) == 5
    changed = Question(id="a", domain="d", prompt="p2", first_frame=img)
    assert result_key("m", changed, {"steps": 5}, 1, "letterbox") != base


class ToyTask(Task):
    """Test-only task: a dot that must move to the right edge."""

    name, version, description = "toy", "1", "move the dot right"
    difficulties = ("easy", "hard")

    def _frame(self, x):
        a = np.zeros((16, 24, 3), np.uint8)
        a[6:10, x:x + 4] = 255
        return Image.fromarray(a)

    def generate(self, seed, difficulty):
        start = seed % 10
        q = Question(id=f"whatever{seed}", domain="toy", prompt="move the dot to the right edge",
                     first_frame=self._frame(start), final_frame=self._frame(20),
                     metadata={"task": self.name, "task_version": self.version, "solution": 20,
                               "difficulty": difficulty})
        return Generated(q, Video.from_images([self._frame(x) for x in range(start, 21, 4)], 8))

    def score(self, question, video):
        return Score("toy", "1", correct=True)

    def wrong_final_frame(self, question, seed):
        return self._frame(0)


def test_tasks_are_generated_into_the_experiment_with_their_solutions(tmp_path, monkeypatch, capsys):
    import vmevalkit.tasks

    monkeypatch.setattr(vmevalkit.tasks, "all_tasks", lambda: {"toy": ToyTask()})
    out = tmp_path / "out"
    assert main(["run", "--tasks", "toy", "--n", "3", "--seed", "3", "--output-dir", str(out),
                 "--no-progress", "--models", "static"]) == 0
    exp = out / "tasks-toy"
    folders = sorted((exp / "questions" / "toy_task").iterdir())
    assert [f.name for f in folders] == ["toy_0003", "toy_0004", "toy_0005"]
    difficulties = [json.loads((f / "question_metadata.json").read_text())["difficulty"] for f in folders]
    assert difficulties == ["easy", "hard", "easy"]  # without --difficulty the levels take turns
    assert read_mp4(folders[0] / "ground_truth.mp4").num_frames == 5
    oracle = read_item(exp / "oracle" / "toy_task" / "toy_0003")
    assert oracle.ok and oracle.metadata["video"]["num_frames"] == 5  # the oracle shows the solution video
    assert (oracle.folder / "question" / "ground_truth.mp4").is_file()
    assert sorted(i.question_key for i in iter_items(exp)) == sorted(
        f"toy_task/toy_000{k}" for k in (3, 4, 5) for _ in range(2))
    assert main(["run", "--tasks", "toy", "--n", "1", "--difficulty", "hard", "--output-dir", str(out),
                 "--experiment", "hard", "--no-progress", "--models", "static"]) == 0
    hard = json.loads((out / "hard" / "questions" / "toy_task" / "toy_0000" / "question_metadata.json").read_text())
    assert hard["difficulty"] == "hard"
    assert main(["run", "--tasks", "toy", "--difficulty", "medium", "--output-dir", str(out), "--no-progress"]) == 2
    assert "task toy has easy, hard" in capsys.readouterr().err
    assert main(["run", "--tasks", "nope", "--output-dir", str(out), "--no-progress", "--models", "static"]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_demo_runs_with_controls_in_process_and_ends_with_the_leaderboard(tmp_path, capsys):
    assert main(["run", "--output-dir", str(tmp_path), "--no-progress", "--models", "static"]) == 0
    exp = tmp_path / "demo"
    assert sorted(i.question_key for i in iter_items(exp) if i.model == "static") == [
        "counting_task/counting_0000", "maze_task/maze_0000", "sudoku_task/sudoku_0000"]
    assert (exp / "questions" / "maze_task" / "maze_0000" / "ground_truth.mp4").is_file()
    assert os.path.isfile(exp / "experiment.json")
    rows = [json.loads(line) for line in (exp / "scores.jsonl").read_text().splitlines()]
    assert {(r["model"], r["scorer"], r["correct"]) for r in rows} == {("static", "exact", False),
                                                                       ("oracle", "exact", True)}
    printed = capsys.readouterr().out
    assert "## Leaderboard: demo" in printed
    assert "| oracle (control) | 100.0% [100.0, 100.0] 3/3" in printed
    assert "| static (control) | 0.0% [0.0, 0.0] 0/3" in printed


def test_the_report_and_review_commands_printed_by_run_work_as_typed(tmp_path, qs, slide, capsys):
    out = tmp_path / "out dir's"
    assert main(["run", "--questions", str(qs), "--output-dir", str(out), "--experiment", "e-x", "--no-progress",
                 "--models", "slide"]) == 0
    printed = capsys.readouterr().out
    report = shlex.split(printed.split("full report: ", 1)[1].split("; check by eye", 1)[0])
    review = shlex.split(printed.split("check by eye: ", 1)[1].splitlines()[0])
    options = ["--experiment", "e-x", "--output-dir", str(out)]
    assert report == ["vmevalkit", "report", *options] and review == ["vmevalkit", "review", *options]
    assert main(report[1:] + ["--resamples", "100"]) == 0


def test_no_score_leaves_scoring_for_later(tmp_path, capsys):
    assert main(["run", "--output-dir", str(tmp_path), "--no-progress", "--models", "static", "--no-controls",
                 "--no-score", "--limit", "1"]) == 0
    assert not (tmp_path / "demo" / "scores.jsonl").exists() and "Leaderboard" not in capsys.readouterr().out


def test_threads_flag_sets_torch_threads(tmp_path, qs, slide, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert run(tmp_path, "--models", "slide", "--no-controls", "--threads", "1") == 0
        assert torch.get_num_threads() == 1
        assert json.loads((tmp_path / "out" / "exp" / "experiment.json").read_text())["runs"][0]["options"][
            "threads"] == 1
    finally:
        torch.set_num_threads(before)
    assert run(tmp_path, "--models", "slide", "--threads", "0") == 2
    assert "--threads 0" in capsys.readouterr().err
