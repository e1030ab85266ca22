import json
import shutil

import numpy as np
import pytest
from PIL import Image

from vmevalkit.errors import QuestionError
from vmevalkit.questions import Question, read_question, scan_questions, write_question


def test_reads_the_older_kits_folder(test_questions):
    questions, problems = scan_questions(test_questions)
    assert problems == []
    assert [q.id for q in questions] == [f"test_{i:04d}" for i in range(5)]
    q = questions[3]
    assert q.domain == "vmevalkit-test" and q.first_frame.mode == "RGB"
    assert q.final_frame is not None and q.ground_truth.name == "ground_truth.mp4"
    assert "sculpture" in q.prompt
    assert questions[0].first_frame.mode == "RGB"  # RGBA on disk


def test_write_then_read_round_trip(tmp_path):
    img = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    q = Question(id="q1", domain="maze", prompt="go", first_frame=img, final_frame=img, metadata={"a": 1})
    folder = write_question(q, tmp_path)
    assert folder == tmp_path / "maze_task" / "q1"
    back = read_question(folder)
    assert back.domain == "maze" and back.prompt == "go" and back.metadata == {"a": 1}
    assert back.fingerprint == q.fingerprint


def test_the_fingerprint_follows_the_ground_truth_video(tmp_path, test_questions):
    shutil.copytree(test_questions / "test_0003", tmp_path / "q")
    before = read_question(tmp_path / "q").fingerprint
    assert read_question(tmp_path / "q").fingerprint == before
    video = tmp_path / "q" / "ground_truth.mp4"
    video.write_bytes(video.read_bytes() + b"\0")  # another solution video: the oracle's result must not be reused
    assert read_question(tmp_path / "q").fingerprint != before


@pytest.mark.parametrize("breakage, fragment", [
    (lambda d: (d / "first_frame.png").unlink(), "first_frame.png: missing"),
    (lambda d: (d / "first_frame.png").write_bytes(b"not a png"), "first_frame.png: not a readable image"),
    (lambda d: (d / "prompt.txt").write_text("  \n"), "prompt.txt: empty"),
    (lambda d: (d / "question_metadata.json").write_text("{broken"), "question_metadata.json: broken JSON"),
])
def test_bad_questions_are_reported_and_the_rest_read(tmp_path, test_questions, breakage, fragment):
    root = tmp_path / "set"
    shutil.copytree(test_questions, root)
    breakage(root / "test_0001")
    questions, problems = scan_questions(root)
    assert len(questions) == 4 and len(problems) == 1
    assert fragment in problems[0].message
    with pytest.raises(QuestionError, match=fragment.split(":")[0]):
        read_question(root / "test_0001")


def test_metadata_domain_wins(tmp_path):
    img = Image.new("RGB", (4, 4))
    q = Question(id="x", domain="chess", prompt="mate", first_frame=img, metadata={"domain": "chess"})
    folder = write_question(q, tmp_path / "any")
    (folder.parent).rename(tmp_path / "renamed")
    assert read_question(tmp_path / "renamed" / "x").domain == "chess"
    assert json.loads((tmp_path / "renamed" / "x" / "question_metadata.json").read_text())["domain"] == "chess"
