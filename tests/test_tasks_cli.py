"""`vmevalkit tasks list|generate` end to end, and generate_questions' resume behaviour."""

import json
import os
import subprocess
import sys
from pathlib import Path

from vmevalkit.questions import read_question, scan_questions
from vmevalkit.tasks import all_tasks, generate_questions
from vmevalkit.video import read_mp4

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-m", "vmevalkit.cli", *args], capture_output=True, text=True, env=env, check=False)


def test_tasks_list_shows_every_registered_task():
    out = run_cli("tasks", "list")
    assert out.returncode == 0, out.stderr
    for name, task in all_tasks().items():
        assert any(line.split()[:2] == [name, task.version] for line in out.stdout.splitlines())
    assert {"maze", "sudoku", "chess"} <= set(all_tasks())


def test_tasks_generate_writes_vmevalkit_question_folders(tmp_path):
    out = run_cli("tasks", "generate", "--tasks", "maze,chess", "--n", "2", "--seed", "4", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    questions, problems = scan_questions(tmp_path)
    assert not problems
    assert [q.key for q in questions] == ["chess_task/chess_0004", "chess_task/chess_0005",
                                         "maze_task/maze_0004", "maze_task/maze_0005"]
    for q in questions:
        assert q.final_frame is not None and q.ground_truth is not None and q.prompt
        meta = json.loads((q.source / "question_metadata.json").read_text())
        assert {"task", "task_version", "seed", "difficulty", "solution"} <= set(meta)
        assert meta["difficulty"] == ["easy", "medium"][meta["seed"] - 4]  # difficulties take turns
        video = read_mp4(q.ground_truth)
        assert video.size == q.first_frame.size and video.num_frames > 5


def test_generate_resumes_and_replaces_only_what_differs(tmp_path):
    folders = generate_questions(["sudoku"], 2, 0, "easy", tmp_path)
    stamps = {p: p.stat().st_mtime_ns for f in folders for p in f.iterdir()}
    assert generate_questions(["sudoku"], 2, 0, "easy", tmp_path) == folders
    assert {p: p.stat().st_mtime_ns for f in folders for p in f.iterdir()} == stamps
    (folders[0] / "ground_truth.mp4").unlink()  # an interrupted folder is made again
    generate_questions(["sudoku"], 2, 0, "easy", tmp_path)
    assert (folders[0] / "ground_truth.mp4").is_file()
    generate_questions(["sudoku"], 1, 0, "hard", tmp_path)  # same id, other difficulty: replaced
    assert read_question(folders[0]).metadata["difficulty"] == "hard"


def test_a_task_named_twice_is_generated_once(tmp_path):
    assert len(generate_questions(["sudoku", "sudoku"], 2, 0, "easy", tmp_path)) == 2
    out = run_cli("tasks", "generate", "--tasks", "sudoku,sudoku", "--n", "1", "--out", str(tmp_path / "cli"))
    assert out.returncode == 0 and "1 question folders in" in out.stdout and "(sudoku)" in out.stdout


def test_generate_remakes_a_folder_whose_metadata_is_broken(tmp_path):
    folders = generate_questions(["sudoku"], 2, 0, "easy", tmp_path)
    (folders[0] / "question_metadata.json").write_bytes(b"[1]")
    (folders[1] / "question_metadata.json").write_bytes(b'{"task": "sudoku\xff"}')
    assert generate_questions(["sudoku"], 2, 0, "easy", tmp_path) == folders
    assert [read_question(f).metadata["seed"] for f in folders] == [0, 1]


def test_bad_arguments_exit_2_with_a_message_and_no_traceback(tmp_path):
    for args, words in [(("--tasks", "nonsense"), "unknown task 'nonsense'"),
                        (("--tasks", "maze", "--difficulty", "extreme"), "no difficulty 'extreme'"),
                        (("--tasks", "maze", "--n", "0"), "--n must be at least 1"),
                        (("--tasks", "maze", "--seed", "-5"), "the seed must be 0 or more")]:
        out = run_cli("tasks", "generate", *args, "--out", str(tmp_path / "x"))
        assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = run_cli("tasks", "generate", "--tasks", "maze", "--n", "1", "--out", str(blocker / "sub"))
    assert out.returncode == 2 and "cannot create the output folder" in out.stderr
