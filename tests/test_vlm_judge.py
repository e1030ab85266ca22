import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chat_server import ChatServer, rating, reply
from experiment_tree import card_questions, oracle_frames, static_frames, write_item
from PIL import Image

from vmevalkit.errors import UserError
from vmevalkit.results import read_item
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import latest_rows, read_rows
from vmevalkit.scoring.vlm import (
    RUBRIC,
    RUBRIC_VERSION,
    EndpointError,
    MalformedAnswer,
    VLMConfig,
    VLMJudge,
    parse_rating,
)
from vmevalkit.secrets import REDACTED
from vmevalkit.video import Video

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-test-7f3c9a1e-DO-NOT-LEAK"


def _judge(server, tmp_path, sleeps=None, **options) -> VLMJudge:
    config = VLMConfig.from_options(server.base_url, "judge-model", SECRET, cache_dir=tmp_path / "cache",
                                    backoff=0.5, **options)
    return VLMJudge(config, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def _item():
    q = card_questions(2)[1]
    return q, Video.from_images(oracle_frames(q), fps=8)


def _images(request) -> list[Image.Image]:
    parts = request["body"]["messages"][1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert all(u.startswith("data:image/png;base64,") for u in urls)
    return [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))).convert("RGB") for u in urls]


def test_request_carries_rubric_prompt_and_all_three_images(tmp_path):
    q, video = _item()
    with ChatServer([rating(5, "all slots filled")]) as server:
        score = _judge(server, tmp_path).score(q, video)
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    body = request["body"]
    assert body["model"] == "judge-model" and body["temperature"] == 0
    assert body["messages"][0] == {"role": "system", "content": RUBRIC}
    assert "1-5" in RUBRIC and "solution_correctness_score" in RUBRIC
    text = " ".join(p["text"] for p in body["messages"][1]["content"] if p["type"] == "text")
    assert q.prompt in text and "Expected final frame" in text
    first, expected, last = _images(request)
    assert first.tobytes() == q.first_frame.tobytes() and expected.tobytes() == q.final_frame.tobytes()
    assert last.tobytes() == video.last_frame.tobytes()
    assert score.correct is True and score.score == 1.0 and score.version == RUBRIC_VERSION
    assert score.details["rating"] == 5 and score.details["explanation"] == "all slots filled"


@pytest.mark.parametrize("rated, correct", [(1, False), (3, False), (4, True)])
def test_success_is_a_rating_of_four_or_more(tmp_path, rated, correct):
    q, video = _item()
    with ChatServer([rating(rated)]) as server:
        score = _judge(server, tmp_path).score(q, video)
    assert score.correct is correct and score.score == (rated - 1) / 4


def test_more_frames_and_large_images_are_sent_downscaled(tmp_path):
    q, video = _item()
    big = Video.from_images([im.resize((1600, 800)) for im in oracle_frames(q)], fps=8)
    with ChatServer([rating(4)]) as server:
        _judge(server, tmp_path, frames=3, max_side=400).score(q, big)
    images = _images(server.requests[0])
    assert len(images) == 5 and images[-1].size == (400, 200) and images[0].size == q.first_frame.size


def test_malformed_answers_and_server_errors_are_retried_with_backoff(tmp_path):
    q, video = _item()
    sleeps = []
    script = [reply("It looks fine to me."), (500, "overloaded"), (200, "{not json"), (429, {"error": "slow down"}),
              rating("4")]
    with ChatServer(script) as server:
        score = _judge(server, tmp_path, sleeps, attempts=5).score(q, video)
    assert len(server.requests) == 5
    assert score.correct is True and score.details["attempts"] == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_an_answer_that_never_parses_is_an_error_not_a_score_and_is_not_cached(tmp_path):
    q, video = _item()
    with ChatServer([rating(7)]) as server:
        score = _judge(server, tmp_path, attempts=3).score(q, video)
    assert len(server.requests) == 3
    assert score.correct is None and score.score is None and "after 3 attempts" in score.error
    assert "integer from 1 to 5" in score.error
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_a_rejected_request_is_not_retried(tmp_path):
    q, video = _item()
    with ChatServer([(400, {"error": "images not supported"})]) as server:
        score = _judge(server, tmp_path).score(q, video)
    assert len(server.requests) == 1 and score.correct is None and "HTTP 400" in score.error


def test_bad_key_or_model_stops_with_a_clear_message(tmp_path):
    q, video = _item()
    with ChatServer([(401, {"error": "bad key"})]) as server, pytest.raises(EndpointError, match="API key"):
        _judge(server, tmp_path).score(q, video)
    with ChatServer([(404, {"error": "model not found"})]) as server, pytest.raises(EndpointError, match="model"):
        _judge(server, tmp_path).score(q, video)


def test_the_same_item_is_never_paid_for_twice(tmp_path):
    q, video = _item()
    with ChatServer([rating(2)]) as server:
        first = _judge(server, tmp_path).score(q, video)
        again = _judge(server, tmp_path).score(q, video)
        other_video = _judge(server, tmp_path).score(q, Video.from_images(static_frames(q), fps=8))
    assert len(server.requests) == 2
    assert first.details["cached"] is False and again.details["cached"] is True
    assert again.correct is first.correct is False and other_video.details["cached"] is False


@pytest.mark.parametrize("broken", [b'{"rating": 5, "explanation": "\xff"}', b"[5]", b'{"rating": "5"}',
                                    b'{"rating": 9, "explanation": "x"}', b'{"rating": 5, "expl'])
def test_a_broken_cache_entry_is_asked_again_and_overwritten(tmp_path, broken):
    q, video = _item()
    with ChatServer([rating(2), rating(2)]) as server:
        judge = _judge(server, tmp_path)
        judge.score(q, video)
        (entry,) = (tmp_path / "cache").rglob("*.json")
        entry.write_bytes(broken)
        again = judge.score(q, video)
    assert len(server.requests) == 2
    assert again.error is None and again.details["cached"] is False and again.details["rating"] == 2
    assert json.loads(entry.read_text())["rating"] == 2


def test_endpoint_and_model_come_from_flags_or_environment(monkeypatch):
    for name in ("VMEVALKIT_VLM_BASE_URL", "VMEVALKIT_VLM_MODEL", "VMEVALKIT_VLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UserError, match="VMEVALKIT_VLM_BASE_URL"):
        VLMConfig.from_options()
    monkeypatch.setenv("VMEVALKIT_VLM_BASE_URL", "http://user:pw@127.0.0.1:9/v1/")
    monkeypatch.setenv("VMEVALKIT_VLM_MODEL", "qwen")
    monkeypatch.setenv("VMEVALKIT_VLM_API_KEY", SECRET)
    config = VLMConfig.from_options()
    assert config.endpoint == "http://user:pw@127.0.0.1:9/v1/chat/completions"
    assert config.public_endpoint == "http://127.0.0.1:9/v1/chat/completions"
    assert config.api_key == SECRET and SECRET not in repr(config)
    assert VLMConfig.from_options(model="other").model == "other"
    with pytest.raises(UserError, match="http"):
        VLMConfig.from_options(base_url="localhost:8000/v1")


@pytest.mark.parametrize("text, expected", [
    ('{"solution_correctness_score": 4, "explanation": "ok"}', 4),
    ('```json\n{"solution_correctness_score": "5", "explanation": "exact"}\n```', 5),
    ('Here is my verdict: {"solution_correctness_score": 2.0, "explanation": "no"} Thanks.', 2),
    ('{"solution_correctness_score": "3/5"}', 3),
    ('solution_correctness_score: 1 because nothing moved', 1),
])
def test_parse_rating_reads_the_usual_answer_shapes(text, expected):
    assert parse_rating(text)[0] == expected


@pytest.mark.parametrize("text", [
    "I would give it a four.", '{"score": 4}', '{"solution_correctness_score": 4.5}',
    '{"solution_correctness_score": 0}', '{"solution_correctness_score": true}', ""])
def test_parse_rating_rejects_anything_else(text):
    with pytest.raises(MalformedAnswer):
        parse_rating(text)


def test_pipeline_records_failures_as_errors_and_retries_them_next_run(tmp_path):
    exp = tmp_path / "outputs" / "exp"
    q = card_questions(1)[0]
    write_item(exp, "oracle", q, oracle_frames(q))
    write_item(exp, "static", q, static_frames(q))
    with ChatServer([(503, "down")]) as server:
        summary = score_experiment(exp, "vlm", _judge(server, tmp_path, attempts=2))
    assert summary.scored == 2 and len(summary.errors) == 2
    assert all(r["correct"] is None and r["error"] and r["scorer"] == "vlm:judge-model" for r in read_rows(exp))
    with ChatServer([rating(5), rating(1)]) as server:
        summary = score_experiment(exp, "vlm", _judge(server, tmp_path))
    assert summary.scored == 2 and not summary.errors
    latest = latest_rows(read_rows(exp))
    assert latest[("oracle", q.key, 0, "vlm:judge-model")]["correct"] is True
    assert latest[("static", q.key, 0, "vlm:judge-model")]["correct"] is False
    with ChatServer([rating(5)]) as server:
        assert score_experiment(exp, "vlm", _judge(server, tmp_path)).already_scored == 2
    assert not server.requests


def test_several_items_are_judged_at_once_with_workers(tmp_path):
    exp = tmp_path / "exp"
    for q in card_questions(4):
        write_item(exp, "oracle", q, oracle_frames(q))
        write_item(exp, "static", q, static_frames(q))
    with ChatServer([rating(4)], delay=0.3) as server:
        summary = score_experiment(exp, "vlm", _judge(server, tmp_path), workers=4)
    assert summary.scored == 8 and server.max_in_flight >= 2
    assert sorted((r["model"], r["question"]) for r in read_rows(exp)) == sorted(
        (m, q.key) for q in card_questions(4) for m in ("oracle", "static"))


def test_the_api_key_is_never_written_anywhere(tmp_path):
    exp = tmp_path / "outputs" / "exp"
    for q in card_questions(2):
        write_item(exp, "oracle", q, oracle_frames(q))
    echo_key = (500, lambda headers: {"error": f"bad header {headers.get('Authorization')}"})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VMEVALKIT_VLM_API_KEY": SECRET, "HOME": str(tmp_path / "home"),
           "VMEVALKIT_VLM_CACHE": str(tmp_path / "vlm-cache"), "VMEVALKIT_VLM_MODEL": "judge-model"}
    outputs = []
    for script in ([echo_key], [rating(4)]):  # first every attempt fails, echoing the key; then it answers
        with ChatServer(script) as server:
            done = subprocess.run(
                [sys.executable, "-m", "vmevalkit.cli", "score", "--experiment", "exp", "--output-dir",
                 str(tmp_path / "outputs"), "--scorer", "vlm", "--vlm-base-url", server.base_url,
                 "--vlm-attempts", "1"], env=env, capture_output=True, text=True, timeout=120)
        outputs.append(done.stdout + done.stderr)
        assert all(r["headers"]["Authorization"] == f"Bearer {SECRET}" for r in server.requests)
    assert "HTTP 500" in outputs[0] and REDACTED in outputs[0]
    assert "scored 2 item(s)" in outputs[1]
    rows = latest_rows(read_rows(exp)).values()
    assert [r["correct"] for r in rows] == [True, True]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" and "vlm-cache" in p.parts for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    for output in outputs:
        assert SECRET not in output


def test_question_without_expected_frame_is_skipped_by_the_judge(tmp_path):
    exp = tmp_path / "exp"
    q = card_questions(1)[0]
    bare = type(q)(id="bare", domain="cards", prompt=q.prompt, first_frame=q.first_frame)
    write_item(exp, "oracle", bare, [q.first_frame])
    with ChatServer([rating(5)]) as server:
        summary = score_experiment(exp, "vlm", _judge(server, tmp_path))
    assert summary.scored == 0 and "no final_frame.png" in summary.not_applicable[0] and not server.requests
    assert read_item(exp / "oracle" / "cards_task" / "bare").ok
