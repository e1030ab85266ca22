import json
import shutil
from pathlib import Path

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
    (lambda d: (d / "question_metadata.json").write_text("[1]"), "question_metadata.json: must hold a JSON object"),
    (lambda d: (d / "question_metadata.json").write_text("null"), "question_metadata.json: must hold a JSON object"),
    (lambda d: (d / "question_metadata.json").write_bytes(b'{"a": "\xff"}'), "question_metadata.json: not UTF-8"),
    (lambda d: (d / "question_metadata.json").write_text("[" * 100_000), "question_metadata.json: broken JSON"),
    (lambda d: (d / "question_metadata.json").mkdir(), "question_metadata.json: cannot be read"),
    (lambda d: (d / "prompt.txt").write_bytes(b"\xff\xfego"), "prompt.txt: not UTF-8 text"),
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


def test_an_unreadable_prompt_is_a_question_error(tmp_path, test_questions, monkeypatch):
    folder = tmp_path / "test_0001"
    shutil.copytree(test_questions / "test_0001", folder)
    read_bytes = Path.read_bytes

    def denied(path):
        if path.name == "prompt.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(QuestionError, match="prompt.txt: cannot be read \\(Permission denied\\)"):
        read_question(folder)


@pytest.mark.parametrize("domain", ["../../escaped", "a/b", ["chess"], ".hidden"])
def test_a_metadata_domain_that_is_not_a_plain_name_is_a_question_error(tmp_path, domain):
    q = Question(id="x", domain="chess", prompt="mate", first_frame=Image.new("RGB", (4, 4)),
                 metadata={"domain": domain})
    folder = write_question(q, tmp_path)
    with pytest.raises(QuestionError, match="question_metadata.json: domain .* must be letters"):
        read_question(folder)
