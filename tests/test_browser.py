"""End to end in headless Chromium: the HTML report and the review page."""

import os
import shutil
from pathlib import Path

import pytest
from experiment_tree import card_questions, write_controls, write_item

from vmevalkit.hashing import sha256_file
from vmevalkit.report import write_report
from vmevalkit.report.leaderboard import build_leaderboard
from vmevalkit.results import iter_items
from vmevalkit.review.server import ReviewServer
from vmevalkit.scoring.pipeline import score_experiment
from vmevalkit.scoring.rows import read_rows

CHROMIUM = os.environ.get("VMEVALKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    missing = None
    if not shutil.which(CHROMIUM):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set VMEVALKIT_CHROMIUM)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("VMEVALKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def experiment(tmp_path):
    exp = tmp_path / "outputs" / "exp"
    questions = card_questions(3) + card_questions(2, domain="boards")
    write_controls(exp, questions)
    for i, q in enumerate(questions):
        write_item(exp, "model-a", q, [q.first_frame, q.final_frame if i % 2 == 0 else q.first_frame])
    score_experiment(exp, "auto")
    return exp


def test_html_report_shows_the_table_the_plot_and_playable_videos(browser, experiment, tmp_path):
    _, paths = write_report(experiment, resamples=1000)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(paths["html"].as_uri())
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").first.inner_text() == "model-a"
    assert "60.0%" in rows.nth(0).inner_text() and "3/5" in rows.nth(0).inner_text()
    assert page.locator("#leaderboard tr.control").count() == 2
    assert page.locator("#plot").evaluate("img => img.complete && img.naturalWidth > 100")
    videos = page.locator("video")
    assert videos.count() == 15
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=10_000)
    assert videos.first.evaluate("v => v.duration > 0 && v.videoWidth > 0")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


def test_a_verdict_clicked_in_the_review_page_lands_in_scores(browser, experiment, tmp_path):
    server = ReviewServer(experiment, reviewer="tester").start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url)
        page.wait_for_selector("body[data-ready='1']")
        first = server.items[0]
        assert page.locator("#prompt").inner_text() == first.question().prompt
        assert first.model in page.locator("#title").inner_text()
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=10_000)
        assert page.locator("#expected").evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=str(tmp_path / "review.png"))
        assert (tmp_path / "review.png").stat().st_size > 10_000

        page.fill("#note", "card missing")
        page.click("#wrong")
        page.wait_for_function("document.getElementById('saved').textContent.startsWith('saved: not solved')")
        assert page.locator("#progress").inner_text().startswith("1 / 15")
        page.keyboard.press("y")  # the page moved on to the second item; a key press records it as solved
        page.wait_for_function("document.getElementById('progress').textContent.startsWith('2 /')")
    finally:
        server.stop()

    human = [r for r in read_rows(experiment) if r["scorer"] == "human"]
    assert [(r["model"], r["question"], r["correct"]) for r in human] == [
        (first.model, first.question_key, False), (server.items[1].model, server.items[1].question_key, True)]
    assert human[0]["details"] == {"reviewer": "tester", "note": "card missing"}
    assert human[0]["video_sha256"] == sha256_file(first.video_path)
    # the human verdict now decides that item on the leaderboard, and agreement with the similarity scorer shows
    board = build_leaderboard(experiment, resamples=200)
    decided = {(i.model, i.question): i.chosen["scorer"] for i in board.items}
    assert decided[(first.model, first.question_key)] == "human"
    assert [(a.first, a.second, a.items) for a in board.agreements] == [("human", "similarity", 2)]


def test_blind_review_hides_models_and_automatic_verdicts(browser, experiment):
    server = ReviewServer(experiment, blind=True).start()
    try:
        page = browser.new_page()
        page.goto(server.url)
        page.wait_for_selector("body[data-ready='1']")
        models = {item.model for item in iter_items(experiment)}
        text = page.locator("body").inner_text()
        assert not any(m in text for m in models) and "similarity" not in text
    finally:
        server.stop()


def test_the_review_server_refuses_foreign_hosts_and_requests_without_its_token(experiment):
    import json
    import urllib.error
    import urllib.request

    server = ReviewServer(experiment).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")

        def call(path, data=None, headers=None):
            req = urllib.request.Request(server.url.rstrip("/") + path, data=data, headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        first = server.ids[0]
        verdict = json.dumps({"id": first, "correct": True}).encode()
        assert call("/api/verdict", verdict)[0] == 403
        assert call("/api/verdict", verdict, {"X-Review-Token": "guess"})[0] == 403
        assert call("/", headers={"Host": "attacker.example:80"})[0] == 403
        assert call(f"/media/{first}/../../scores.jsonl")[0] == 404
        assert call("/media/0/video.mp4")[0] == 404 and call("/media/00000000000z/video.mp4")[0] == 404
        token = {"X-Review-Token": server.token, "Content-Type": "application/json"}
        assert call("/api/verdict", json.dumps({"id": "0" * 12, "correct": True}).encode(), token)[0] == 400
        assert call("/api/verdict", json.dumps({"index": 0, "correct": True}).encode(), token)[0] == 400
        assert call("/api/verdict", json.dumps({"id": first, "correct": "yes"}).encode(), token)[0] == 400
        assert not [r for r in read_rows(experiment) if r["scorer"] == "human"]
        status, body = call(f"/media/{first}/video.mp4", headers={"Range": "bytes=10-19"})
        assert status == 206 and body == Path(server.items[0].video_path).read_bytes()[10:20]
        assert call("/api/verdict", verdict, token)[0] == 200
        assert [r["correct"] for r in read_rows(experiment) if r["scorer"] == "human"] == [True]
    finally:
        server.stop()


def test_host_names_are_checked_only_when_serving_loopback(experiment):
    local = ReviewServer(experiment)
    network = ReviewServer(experiment, host="0.0.0.0")
    try:
        port = local.httpd.server_address[1]
        assert local.host_allowed(f"localhost:{port}") and local.host_allowed(f"127.0.0.1:{port}")
        assert not local.host_allowed(f"rebound.example:{port}") and not local.host_allowed(None)
        assert network.host_allowed("my-workstation.lan:8765")
    finally:
        local.httpd.server_close()
        network.httpd.server_close()


def test_the_review_server_serves_ipv6_loopback(experiment):
    import socket
    import urllib.request

    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        pytest.skip("this machine has no IPv6")
    server = ReviewServer(experiment, host="::1").start()
    try:
        assert server.url.startswith("http://[::1]:")
        with urllib.request.urlopen(server.url, timeout=5) as resp:  # Host: [::1]:port, allowed on loopback
            assert resp.status == 200 and b"<html" in resp.read().lower()
    finally:
        server.stop()


def test_review_lists_a_human_row_without_details_and_skips_broken_rows(experiment, capsys):
    item = next(i for i in iter_items(experiment) if i.model == "model-a")
    with open(experiment / "scores.jsonl", "ab") as f:
        f.write(b'{"model": "model-a", "question": "%s", "scorer": "human", "correct": true}\n'
                % item.question_key.encode())
        f.write(b'{"model": "model-a", "question": "x\xff", "scorer": "human"}\n')
    server = ReviewServer(experiment)
    try:
        entry = next(e for e in server.item_list() if e.get("model") == "model-a")
        assert entry["human"] == {"correct": True, "note": ""}
        assert "skipped a broken line (not UTF-8 text" in capsys.readouterr().err
    finally:
        server.httpd.server_close()


def test_review_ignores_verdicts_about_an_earlier_video_of_the_item(experiment):
    server = ReviewServer(experiment)
    try:
        index = next(i for i, item in enumerate(server.items) if item.model == "model-a")
        server.record(index, True, "looked fine")
        entry = next(e for e in server.item_list() if e["id"] == server.ids[index])
        assert entry["human"] == {"correct": True, "note": "looked fine"} and entry["scores"]
        question = next(q for q in card_questions(3) + card_questions(2, domain="boards")
                        if q.key == server.items[index].question_key)
        write_item(experiment, "model-a", question, [question.first_frame] * 3)  # regenerated
        entry = next(e for e in server.item_list() if e["id"] == server.ids[index])
        assert entry["human"] is None and entry["scores"] == {}
    finally:
        server.httpd.server_close()


@pytest.mark.parametrize("body, length", [
    (b"", "-1"),  # would make the server read until the client hangs up
    (b"x" * 10, str(1 << 20)),
    (b"[" * 60_000, None),
    (b'{"id": true, "correct": true}', None),
    (b'{"id": 0, "correct": true}', None),  # an item number is not an id
    (b'{"id": "FIRST", "correct": true, "note": null}', None),
    (b'{"id": "FIRST", "correct": true, "note": {"a": 1}}', None),
    (b'"id"', None),
])
def test_a_bad_verdict_body_is_answered_400_and_records_nothing(experiment, body, length):
    import http.client

    server = ReviewServer(experiment).start()
    body = body.replace(b"FIRST", server.ids[0].encode())  # a known id, so only the other field is wrong
    try:
        host, port = server.httpd.server_address[:2]
        connection = http.client.HTTPConnection(host, port, timeout=5)
        connection.putrequest("POST", "/api/verdict", skip_host=True)
        for name, value in {"Host": f"127.0.0.1:{port}", "X-Review-Token": server.token,
                            "Content-Length": length or str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        assert connection.getresponse().status == 400
        assert not [r for r in read_rows(experiment) if r["scorer"] == "human"]
    finally:
        server.stop()
