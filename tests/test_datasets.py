"""The field's question sets: VBVR-Bench read as it is, VideoThinkBench / MME-CoF / VR-Bench imported.

Every sample here is made in the test in the set's own layout (no download). Imports go through the real
`snapshot_download` in offline mode, on a stand-in Hub cache laid out as huggingface_hub documents it
(`datasets--<owner>--<name>/refs/main` and `snapshots/<commit>/`); each set then runs end to end through
`vmevalkit run` (the controls), the scorer and the report."""

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vmevalkit.cli import main
from vmevalkit.datasets import SOURCES, get_source
from vmevalkit.datasets import importing as importing_module
from vmevalkit.datasets.importing import import_set
from vmevalkit.questions import scan_questions
from vmevalkit.results import iter_items
from vmevalkit.review.server import human_row
from vmevalkit.scoring.rows import append_row
from vmevalkit.video import Video, read_mp4, write_mp4

ROOT = Path(__file__).resolve().parent.parent
W, H, STEPS = 64, 48, 8


def square_at(x: int, colour=(220, 30, 30)) -> Image.Image:
    """A white frame with a 12-pixel square whose left edge is at `x`."""
    frame = np.full((H, W, 3), 255, dtype=np.uint8)
    frame[18:30, x:x + 12] = colour
    return Image.fromarray(frame)


def solution_frames(colour=(220, 30, 30)) -> list[Image.Image]:
    """The square sliding from the left edge to the right edge: frame 0 is the question, the last the answer."""
    return [square_at(round(4 + (W - 20) * i / (STEPS - 1)), colour) for i in range(STEPS)]


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def write_solution_video(path: Path, colour=(220, 30, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(Video.from_images(solution_frames(colour), fps=8), path)


def hub_cache(cache: Path, repo_id: str, files: dict[str, bytes]) -> str:
    """A stand-in Hub cache holding one snapshot of the dataset `repo_id`; returns its commit."""
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for name, data in files.items():
        path = repo / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return commit


@pytest.fixture
def offline(monkeypatch):
    """The Hub library in offline mode (it reads HF_HUB_OFFLINE once, at import)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run_scored(questions: Path, out: Path, *models: str, controls: bool = True) -> tuple[int, dict]:
    """`vmevalkit run` (which scores with --scorer auto) then `vmevalkit report`; the exit code and report.json."""
    args = ["run", "--questions", str(questions), "--models", ",".join(models), "--experiment", "e",
            "--output-dir", str(out), "--no-progress"] + ([] if controls else ["--no-controls"])
    code = main(args)
    assert main(["report", "--experiment", "e", "--output-dir", str(out), "--resamples", "200"]) == 0
    return code, json.loads((out / "e" / "report" / "report.json").read_text())


def verdicts(report: dict) -> dict[tuple[str, str], tuple[bool | None, str | None]]:
    return {(i["model"], i["question"]): (i["verdict"], i["scorer"]) for i in report["items"]}


def scorers_by_task(report: dict, model: str) -> dict[str, dict[str, int]]:
    return {row["task"]: row["scorers"] for row in report["leaderboard"] if row["model"] == model}


def assert_oracle_solves_and_static_does_not(report: dict, keys: list[str]) -> None:
    found = verdicts(report)
    for key in keys:
        assert found[("oracle", key)] == (True, "similarity"), key
        assert found[("static", key)] == (False, "similarity"), key


# --- VBVR-Bench: read as it is --------------------------------------------------------------------------------

def vbvr_question(folder: Path, colour=(220, 30, 30)) -> None:
    folder.mkdir(parents=True)
    frames = solution_frames(colour)
    frames[0].save(folder / "first_frame.png")
    frames[-1].save(folder / "final_frame.png")
    (folder / "prompt.txt").write_text("Slide the square to the right edge.\n")
    write_solution_video(folder / "ground_truth.mp4", colour)


@pytest.fixture
def vbvr_root(tmp_path) -> Path:
    root = tmp_path / "VBVR-Bench"
    vbvr_question(root / "In-Domain_50" / "G-1_slide_square_data-generator" / "00000")
    vbvr_question(root / "In-Domain_50" / "G-1_slide_square_data-generator" / "00001", (30, 30, 220))
    vbvr_question(root / "Out-of-Domain_50" / "O-7_slide_block_data-generator" / "00000", (30, 160, 30))
    (root / "VBVR-Bench.json").write_text("{}")  # the set's own index, beside the splits: not a question
    (root / ".cache" / "huggingface").mkdir(parents=True)  # what `hf download --local-dir` leaves
    return root


def test_vbvr_root_and_split_folder_are_read_with_the_task_as_domain(vbvr_root):
    questions, problems = scan_questions(vbvr_root)
    assert problems == []
    assert [(q.key, q.metadata) for q in questions] == [
        ("G-1_slide_square_data-generator_task/00000", {"split": "In-Domain_50"}),
        ("G-1_slide_square_data-generator_task/00001", {"split": "In-Domain_50"}),
        ("O-7_slide_block_data-generator_task/00000", {"split": "Out-of-Domain_50"})]
    assert all(q.final_frame is not None and q.ground_truth is not None for q in questions)
    split, _ = scan_questions(vbvr_root / "Out-of-Domain_50")  # a split folder is the familiar <domain>/<id>
    assert [(q.key, q.metadata) for q in split] == [("O-7_slide_block_data-generator_task/00000", {})]


def test_vbvr_questions_run_and_are_scored_by_the_similarity_scorer_per_task(vbvr_root, tmp_path):
    code, report = run_scored(vbvr_root, tmp_path / "outputs", "static")
    assert code == 0
    keys = [q.key for q in scan_questions(vbvr_root)[0]]
    assert_oracle_solves_and_static_does_not(report, keys)
    assert scorers_by_task(report, "static") == {
        "all": {"similarity": 3}, "G-1_slide_square_data-generator": {"similarity": 2},
        "O-7_slide_block_data-generator": {"similarity": 1}}
    board = list(csv.DictReader(io.StringIO((tmp_path / "outputs/e/report/leaderboard.csv").read_text())))
    assert {(r["model"], r["task"], r["scorers"]) for r in board if r["task"] != "all"} >= {
        ("oracle", "O-7_slide_block_data-generator", "similarity=1")}
    sources = {item.metadata["question"]["source"] for item in iter_items(tmp_path / "outputs" / "e")}
    assert str(vbvr_root / "Out-of-Domain_50" / "O-7_slide_block_data-generator" / "00000") in sources


def test_a_task_in_two_splits_with_one_id_is_a_problem_not_an_overwrite(vbvr_root):
    vbvr_question(vbvr_root / "Out-of-Domain_50" / "G-1_slide_square_data-generator" / "00001")
    questions, problems = scan_questions(vbvr_root)
    assert len(questions) == 3 and len(problems) == 1
    assert "same question key G-1_slide_square_data-generator_task/00001" in problems[0].message


def test_a_domain_of_unreadable_questions_is_still_the_familiar_layout(tmp_path):
    (tmp_path / "set" / "maze_task" / "q1").mkdir(parents=True)  # neither first_frame.png nor prompt.txt
    questions, problems = scan_questions(tmp_path / "set")
    assert questions == [] and [p.path.name for p in problems] == ["q1"]
    assert "prompt.txt: missing" in problems[0].message


# --- VideoThinkBench: Parquet with the solved image ------------------------------------------------------------

def parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema([("task", pa.string()), ("id", pa.string()), ("prompt", pa.string()), ("image", image),
                        ("solution_image", image), ("difficulty", pa.string())])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


def vtb_row(qid: str, colour=(220, 30, 30), first: bytes | None = None) -> dict:
    frames = solution_frames(colour)
    return {"task": "maze_path", "id": qid, "prompt": f"Draw the path out of maze {qid}.",
            "image": {"bytes": first or encoded(frames[0]), "path": f"{qid}.png"},
            "solution_image": {"bytes": encoded(frames[-1]), "path": f"{qid}_solution.png"}, "difficulty": "hard"}


def videothinkbench_cache(cache: Path, mazes: int = 2) -> str:
    return hub_cache(cache, "OpenMOSS-Team/VideoThinkBench", {
        "Vision-Centric_Reasoning/Mazes.parquet": parquet([vtb_row(f"maze/{i}", (220, 30, 30 + 40 * i))
                                                           for i in range(mazes)]),
        "Vision-Centric_Reasoning/Eyeballing_Puzzles.parquet": parquet([
            vtb_row("eye_0", (30, 30, 220)), vtb_row("eye_broken", first=b"not an image")]),
        "Vision-Centric_Reasoning/Visual_Puzzles.parquet": b"PAR1 truncated",
        "README.md": b"---\nlicense: mit\n---\n"})


def test_videothinkbench_is_converted_with_source_licence_commit_and_answer(offline, tmp_path, capsys):
    commit = videothinkbench_cache(tmp_path / "hub")
    out = tmp_path / "questions"
    code = main(["tasks", "import", "videothinkbench", "--out", str(out), "--cache-dir", str(tmp_path / "hub")])
    printed = capsys.readouterr()
    assert code == 1  # two problems reported, the good rows imported
    assert "imported 3 question(s)" in printed.out and f"at commit {commit[:12]}" in printed.out
    assert "eye_broken: " in printed.err and "image: not a readable image" in printed.err
    assert "Visual_Puzzles.parquet: not a readable Parquet file" in printed.err
    questions, problems = scan_questions(out)
    assert problems == []
    assert [q.key for q in questions] == ["videothinkbench-eyeballing_puzzles_task/eye_0",
                                          "videothinkbench-mazes_task/maze_0", "videothinkbench-mazes_task/maze_1"]
    maze = questions[1]
    assert maze.prompt == "Draw the path out of maze maze/0."
    assert np.array_equal(np.asarray(maze.final_frame), np.asarray(solution_frames((220, 30, 30))[-1]))
    meta = maze.metadata
    assert meta["source"] == {"dataset": "VideoThinkBench", "name": "videothinkbench",
                              "repo_id": "OpenMOSS-Team/VideoThinkBench",
                              "url": "https://huggingface.co/datasets/OpenMOSS-Team/VideoThinkBench",
                              "revision": "main", "commit": commit, "licence": "MIT", "conversion_version": "1"}
    assert (meta["original_id"], meta["split"], meta["subset"]) == ("maze/0", "test", "Mazes")
    assert meta["original"] == {"task": "maze_path", "id": "maze/0", "prompt": "Draw the path out of maze maze/0.",
                                "difficulty": "hard"}
    assert meta["original_answer"] == "solution_image, kept as final_frame.png" and "task" not in meta

    code, report = run_scored(out, tmp_path / "outputs", "static")
    assert code == 0
    assert_oracle_solves_and_static_does_not(report, [q.key for q in questions])
    assert scorers_by_task(report, "oracle")["videothinkbench-mazes"] == {"similarity": 2}


def test_an_interrupted_import_resumes_without_redoing_finished_questions(offline, tmp_path, monkeypatch):
    videothinkbench_cache(tmp_path / "hub", mazes=4)
    out, source = tmp_path / "questions", get_source("videothinkbench")
    real_publish, published = importing_module._publish, []

    def killed_on_the_third(staged, final):
        if len(published) == 2:
            raise KeyboardInterrupt  # as a Ctrl-C (or a kill) between writing a question and moving it in
        real_publish(staged, final)
        published.append(final)

    monkeypatch.setattr(importing_module, "_publish", killed_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        import_set(source, out, cache_dir=tmp_path / "hub")
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*_task/*")) == [
        "videothinkbench-eyeballing_puzzles_task/eye_0", "videothinkbench-mazes_task/maze_0"]
    assert list((out / ".importing").iterdir())  # the half-made question stayed in staging, out of sight
    stamps = {p: p.stat().st_mtime_ns for f in published for p in f.iterdir()}

    monkeypatch.setattr(importing_module, "_publish", real_publish)
    summary = import_set(source, out, cache_dir=tmp_path / "hub")
    assert (summary.already, summary.imported, len(summary.problems)) == (2, 3, 2)
    assert {p: p.stat().st_mtime_ns for f in published for p in f.iterdir()} == stamps
    assert not (out / ".importing").exists()
    assert len(scan_questions(out)[0]) == 5
    again = import_set(source, out, cache_dir=tmp_path / "hub", limit=3)  # the set's first 3: one is broken
    assert (again.already, again.imported, len(again.problems)) == (2, 0, 1)


# --- MME-CoF: data.json and images, no answers ---------------------------------------------------------------

def test_mme_cof_is_converted_without_an_answer_and_judged_by_a_person(offline, tmp_path, capsys):
    entries = [{"idx": 0, "image": "visual_detail_reasoning/1.jpg", "category": "visual detail reasoning",
                "question": "What colour is the square?", "reasoning_prompt": "Zoom in on the square. Static shot."},
               {"idx": 1, "image": "../outside.jpg", "category": "visual detail reasoning", "question": "?",
                "reasoning_prompt": "Pan left."}]
    hub_cache(tmp_path / "hub", "ZiyuG/MME-CoF", {
        "data.json": json.dumps(entries).encode(),
        "visual_detail_reasoning/1.jpg": encoded(square_at(10), "JPEG")})
    out = tmp_path / "questions"
    assert main(["tasks", "import", "mme-cof", "--out", str(out), "--cache-dir", str(tmp_path / "hub")]) == 1
    assert "data.json entry 1: image '../outside.jpg' is not a path inside the data set" in capsys.readouterr().err
    (question,), _ = scan_questions(out)
    assert question.key == "mme-cof-visual_detail_reasoning_task/0000" and question.final_frame is None
    assert question.prompt == "Zoom in on the square. Static shot."
    assert question.metadata["question"] == "What colour is the square?"
    assert question.metadata["original_answer"] is None and question.metadata["source"]["repo_id"] == "ZiyuG/MME-CoF"

    code, report = run_scored(out, tmp_path / "outputs", "static", controls=False)
    assert code == 0
    assert verdicts(report) == {("static", question.key): (None, None)}  # the similarity scorer cannot judge it
    assert "no final_frame.png" in report["items"][0]["scores"]["similarity"]["error"]
    (item,) = iter_items(tmp_path / "outputs" / "e")
    append_row(tmp_path / "outputs" / "e", human_row(item, False, "tester"))  # what `vmevalkit review` records
    assert main(["report", "--experiment", "e", "--output-dir", str(tmp_path / "outputs"), "--resamples", "200"]) == 0
    report = json.loads((tmp_path / "outputs/e/report/report.json").read_text())
    assert verdicts(report) == {("static", question.key): (False, "human")}
    assert scorers_by_task(report, "static")["mme-cof-visual_detail_reasoning"] == {"human": 1}


# --- VR-Bench: a tarball of levels, states and solution videos -----------------------------------------------

def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def vr_level(tmp_path: Path, prefix: str, stem: str, game: str, videos: list[str], colour) -> dict[str, bytes]:
    video = tmp_path / f"{stem}.mp4"
    write_solution_video(video, colour)
    state = {"version": "1.0", "game_type": game, "grid": {"data": [[1, 0], [0, 1]]},
             "player": {"grid_pos": [0, 0]}, "goal": {"grid_pos": [1, 1]}}
    return {f"{prefix}/images/{stem}.png": encoded(solution_frames(colour)[0]),
            f"{prefix}/states/{stem}.json": json.dumps(state).encode(),
            **{f"{prefix}/videos/{name}": video.read_bytes() for name in videos}}


def test_vr_bench_is_unpacked_and_converted_with_its_solution_video(offline, tmp_path, capsys):
    files = {**vr_level(tmp_path, "eval/maze/1/easy", "easy_0000", "maze", ["easy_0000_0.mp4", "easy_0000_1.mp4"],
                        (220, 30, 30)),
             **vr_level(tmp_path, "eval/sokoban/2/hard", "hard_0003", "sokoban", ["hard_0003.mp4"], (30, 30, 220)),
             "eval/maze/1/easy/images/easy_0009.png": encoded(square_at(4))}  # a level without a solution video
    commit = hub_cache(tmp_path / "hub", "amagipeng/VR-Bench", {"eval.tar.gz": tarball(files)})
    out = tmp_path / "questions"
    assert main(["tasks", "import", "vr-bench", "--out", str(out), "--cache-dir", str(tmp_path / "hub")]) == 1
    assert "easy_0009.png: no solution video" in capsys.readouterr().err
    questions, problems = scan_questions(out)
    assert problems == [] and [q.key for q in questions] == ["vr-bench-maze_task/1_easy_0000",
                                                             "vr-bench-sokoban_task/2_hard_0003"]
    maze = questions[0]
    assert "maze" in maze.prompt
    assert "task" not in maze.metadata  # a built-in task's name there would send it to that task's exact scorer
    meta = maze.metadata
    assert (meta["split"], meta["game"], meta["skin"], meta["difficulty"]) == ("eval", "maze", "1", "easy")
    assert meta["original_answer"]["solution_videos"] == ["eval/maze/1/easy/videos/easy_0000_0.mp4",
                                                          "eval/maze/1/easy/videos/easy_0000_1.mp4"]
    assert meta["original_state"]["goal"] == {"grid_pos": [1, 1]} and meta["source"]["commit"] == commit
    assert maze.ground_truth.read_bytes() == files["eval/maze/1/easy/videos/easy_0000_0.mp4"]
    assert np.array_equal(np.asarray(maze.final_frame), read_mp4(maze.ground_truth).frames[-1])
    assert not (out / ".scratch").exists()  # the unpacked archive is removed once the import is complete

    code, report = run_scored(out, tmp_path / "outputs", "static")
    assert code == 0
    assert_oracle_solves_and_static_does_not(report, [q.key for q in questions])


def test_an_archive_member_that_would_land_outside_is_refused(offline, tmp_path):
    hub_cache(tmp_path / "hub", "amagipeng/VR-Bench", {"eval.tar.gz": tarball({"../../escaped.txt": b"x"})})
    out = tmp_path / "nested" / "questions"
    code = main(["tasks", "import", "vr-bench", "--out", str(out), "--cache-dir", str(tmp_path / "hub")])
    assert code == 2
    assert not list(tmp_path.rglob("escaped.txt"))


# --- without network ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SOURCES))
def test_without_network_and_cache_every_set_fails_with_one_clear_line(offline, tmp_path, capsys, name):
    out = tmp_path / "questions"
    assert main(["tasks", "import", name, "--out", str(out), "--cache-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: downloading the data set {get_source(name).repo_id} ")
    assert f"rerun `vmevalkit tasks import {name} --out {out} --cache-dir {tmp_path / 'empty'}`" in err[0]


def test_the_command_line_without_network_prints_one_error_line_and_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run([sys.executable, "-m", "vmevalkit", "tasks", "import", "videothinkbench", "--out",
                           str(tmp_path / "q")], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: downloading the data set OpenMOSS-Team/VideoThinkBench from the Hugging Face Hub "
                           "failed: LocalEntryNotFoundError")
    assert "Traceback" not in done.stderr


def test_a_set_index_that_is_not_an_array_is_one_problem(offline, tmp_path, capsys):
    hub_cache(tmp_path / "hub", "ZiyuG/MME-CoF", {"data.json": b'{"idx": 0}'})
    assert main(["tasks", "import", "mme-cof", "--out", str(tmp_path / "q"), "--cache-dir", str(tmp_path / "hub")]) == 1
    assert "data.json: must hold a JSON array, not an object" in capsys.readouterr().err
