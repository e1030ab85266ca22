"""Blind review is blind: neither the order of the items nor their ids (in /api/items, /media/<id>/ and the
verdict's answer) tell which model made a video."""

import json
import re
import urllib.request

import pytest
from experiment_tree import card_questions, static_frames, write_item

from vmevalkit.review.server import ReviewServer
from vmevalkit.scoring.rows import read_rows

MODELS = ("alpha-net", "beta-net", "gamma-net")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    exp = tmp_path_factory.mktemp("blind") / "exp"
    for q in card_questions(2):
        for model in MODELS:
            write_item(exp, model, q, static_frames(q, 2))
    return exp


def _get(server: ReviewServer, path: str) -> bytes:
    with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=10) as resp:
        return resp.read()


def test_blind_items_are_shuffled_per_review_within_each_question(experiment):
    orders = set()
    for seed in range(12):
        server = ReviewServer(experiment, blind=True, seed=seed)
        try:
            entries = server.item_list()
            assert [e["question"] for e in entries] == sorted(e["question"] for e in entries)  # still grouped
            models = [item.model for item in server.items]
            orders.add(tuple(models[:len(MODELS)]))
            assert not any("model" in e or "index" in e or "scores" in e for e in entries)
        finally:
            server.httpd.server_close()
    assert len(orders) >= 3  # the models' order within a question differs from one review to another
    again = [ReviewServer(experiment, blind=True, seed=5) for _ in range(2)]
    assert [i.model for i in again[0].items] == [i.model for i in again[1].items] and again[0].ids == again[1].ids
    for server in again:
        server.httpd.server_close()


def test_blind_ids_are_opaque_and_the_api_speaks_only_them(experiment):
    server = ReviewServer(experiment, blind=True).start()
    try:
        entries = json.loads(_get(server, "/api/items"))
        ids = [e["id"] for e in entries]
        assert len(set(ids)) == len(ids) == len(MODELS) * 2
        assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
        other = ReviewServer(experiment, blind=True)
        other.httpd.server_close()
        assert not set(other.ids) & set(ids)  # drawn anew for every review: an id tells nothing across reviews
        for entry in entries:
            assert set(entry["media"]) >= {"video.mp4", "first.png"}
            assert all(url.startswith(f"/media/{entry['id']}/") for url in entry["media"].values())
        index = {item.model: n for n, item in enumerate(server.items)}
        target = server.ids[index["beta-net"]]
        video = _get(server, f"/media/{target}/video.mp4")
        assert video == server.items[index["beta-net"]].video_path.read_bytes()
        body = json.dumps({"id": target, "correct": False}).encode()
        request = urllib.request.Request(server.url + "api/verdict", data=body, headers={
            "X-Review-Token": server.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            answer = resp.read()
        assert json.loads(answer) == {"ok": True} and not any(m.encode() in answer for m in MODELS)
        human = [r for r in read_rows(experiment) if r["scorer"] == "human"]
        assert [(r["model"], r["correct"]) for r in human] == [("beta-net", False)]
        page = _get(server, "/")
        assert not any(m.encode() in page for m in MODELS) and b"const BLIND = true;" in page
    finally:
        server.stop()
