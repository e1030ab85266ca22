"""Secrets never land in any file or on the console: a judge endpoint (a local stand-in speaking the
chat-completions protocol, tests/chat_server.py) echoes the API key back in every kind of reply; after
score, report and the review page's API, the whole output tree, the cache and the console hold no trace."""

import json
import urllib.request

from chat_server import ChatServer, reply
from experiment_tree import card_questions, oracle_frames, static_frames, write_item

from vmevalkit.cli import main
from vmevalkit.review.server import ReviewServer

KEY = "sk-echoed-by-the-endpoint-5f3a9c1e"  # given by flag, so only the judge's registration can know it


def _echo(status: int, template: str):
    """A scripted answer that puts the request's own key (from its Authorization header) into the body."""
    def answer(headers: dict) -> str:
        key = headers.get("Authorization", "").removeprefix("Bearer ")
        return template.replace("KEY", key)
    return status, answer


def _rating_echo(value: int):
    content = json.dumps({"solution_correctness_score": value, "explanation": "you sent the key KEY"})
    _, body = reply(content)
    return _echo(200, json.dumps(body))


def test_a_judge_that_echoes_the_key_gets_it_into_no_file_and_no_console_line(tmp_path, capsys):
    out, cache = tmp_path / "outputs", tmp_path / "vlm-cache"
    exp = out / "exp"
    questions = card_questions(2)
    for q in questions:
        write_item(exp, "oracle", q, oracle_frames(q, 2))
        write_item(exp, "static", q, static_frames(q, 2))
    score = ["score", "--experiment", "exp", "--output-dir", str(out), "--scorer", "vlm", "--vlm-model", "judge",
             "--vlm-api-key", KEY, "--vlm-cache", str(cache), "--vlm-attempts", "1", "--workers", "1"]
    script = [
        _echo(500, '{"error": {"message": "upstream said: KEY"}}'),  # an error body
        (200, "not json at all, but the key: KEY"),  # a reply that is not JSON
        _echo(200, json.dumps(reply("no rating here, only KEY")[1])),  # a reply without a rating
        _rating_echo(5),  # a rating whose explanation and raw reply hold the key
    ]
    consoles = []
    with ChatServer(script) as server:
        assert main([*score, "--vlm-base-url", server.base_url]) == 1  # three items failed, one scored
        consoles.append(capsys.readouterr())
        assert main([*score, "--vlm-base-url", server.base_url]) == 0  # the three are retried and rated
        consoles.append(capsys.readouterr())
    with ChatServer([_echo(401, '{"error": "bad key KEY"}')]) as server:  # a key refused: the CLI's error line
        (exp / "scores.jsonl").unlink()
        assert main([*score, "--vlm-base-url", server.base_url, "--vlm-cache", str(tmp_path / "empty")]) == 2
        consoles.append(capsys.readouterr())
        assert all(r["headers"]["Authorization"] == f"Bearer {KEY}" for r in server.requests)
    assert "HTTP 401" in consoles[-1].err
    with ChatServer([_rating_echo(4)]) as server:
        assert main([*score, "--vlm-base-url", server.base_url]) == 0  # from the cache: nothing asked
        assert not server.requests
    assert main(["report", "--experiment", "exp", "--output-dir", str(out), "--resamples", "100"]) == 0
    consoles.append(capsys.readouterr())

    def assert_no_trace() -> None:
        written = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert {"scores.jsonl", "report.html", "report.json"} <= {p.name for p in written}
        assert len([p for p in written if cache in p.parents]) == 4  # every answer was cached
        for path in written:
            assert KEY.encode() not in path.read_bytes(), path
        for console in consoles:
            assert KEY not in console.out and KEY not in console.err

    assert_no_trace()
    review = ReviewServer(exp).start()
    try:
        pages = []
        for path in ("/", "/api/items"):
            with urllib.request.urlopen(review.url.rstrip("/") + path, timeout=10) as resp:
                pages.append(resp.read())
        items = json.loads(pages[1])
        assert {entry["scores"].get("vlm:judge") for entry in items} == {True}
        verdict = json.dumps({"id": items[0]["id"], "correct": True}).encode()
        request = urllib.request.Request(review.url + "api/verdict", data=verdict, headers={
            "X-Review-Token": review.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            pages.append(resp.read())
    finally:
        review.stop()

    assert_no_trace()
    for page in pages:
        assert KEY.encode() not in page
    assert b"you sent the key [REDACTED]" in (exp / "scores.jsonl").read_bytes()  # scrubbed, not dropped
    assert "bad key [REDACTED]" in consoles[2].err
