"""A local web page for checking items by eye; each verdict becomes a `human` row in scores.jsonl.

The server binds to 127.0.0.1 by default. There it answers only requests whose Host header names
the loopback address it serves (against DNS rebinding). It serves only the files of known items (by an
opaque per-session id, never by path), and records a verdict only with the per-session token embedded in
its page (against cross-site requests from other pages in the same browser). A blind review hides the
model: no names or automatic verdicts, items shuffled within each question with a per-review seed, and
ids that say nothing about the order of the models.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import random
import re
import secrets
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.hashing import sha256_file
from vmevalkit.questions import FINAL_FRAME, FIRST_FRAME, PROMPT
from vmevalkit.results import LAST_FRAME, QUESTION_DIR, VIDEO, ResultItem, iter_items
from vmevalkit.scoring.base import Score
from vmevalkit.scoring.rows import about_video, append_row, latest_rows, make_row, read_rows, scorer_kind

HUMAN = "human"
HUMAN_VERSION = "1"
MEDIA = {"video.mp4": (VIDEO, "video/mp4"), "first.png": (f"{QUESTION_DIR}/{FIRST_FRAME}", "image/png"),
         "expected.png": (f"{QUESTION_DIR}/{FINAL_FRAME}", "image/png"), "last.png": (LAST_FRAME, "image/png")}
TOKEN_HEADER = "X-Review-Token"
MAX_NOTE = 2000
MAX_BODY = 1 << 16  # bytes: a verdict with the longest note fits easily
REQUEST_TIMEOUT = 60.0  # seconds a client may take to send a request, so a stalled one holds no thread forever


def human_row(item: ResultItem, correct: bool, reviewer: str, note: str = "") -> dict[str, Any]:
    """The scores.jsonl row for one reviewer's verdict on the item's current video."""
    score = Score(HUMAN, HUMAN_VERSION, correct, 1.0 if correct else 0.0,
                  details={"reviewer": reviewer, **({"note": note} if note else {})})
    task = item.question().metadata.get("task")
    return make_row(item, HUMAN, HUMAN_VERSION, score, sha256_file(item.video_path), task)


def body_length(header: str | None) -> int:
    """The Content-Length of a verdict: a number of bytes from 0 to MAX_BODY, else ValueError."""
    try:
        length = int(header or "0")
    except ValueError:
        raise ValueError(f"Content-Length {header!r} is not a number") from None
    if not 0 <= length <= MAX_BODY:
        raise ValueError(f"Content-Length must be 0..{MAX_BODY}, got {length}")
    return length


def parse_verdict(raw: bytes, ids: dict[str, int]) -> tuple[int, bool, str]:
    """(item index, correct, note) from a verdict's JSON body, whose `id` is one of `ids` (id -> index);
    ValueError saying what is wrong."""
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    item_id, correct, note = body.get("id"), body.get("correct"), body.get("note", "")
    if not isinstance(item_id, str) or item_id not in ids:
        raise ValueError("id must be the id of an item, as /api/items lists them")
    if not isinstance(correct, bool):
        raise ValueError("correct must be true or false")
    if not isinstance(note, str):
        raise ValueError("note must be a string")
    return ids[item_id], correct, note[:MAX_NOTE]


def _http_server(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A threading HTTP server on `host`, over IPv6 when `host` is an IPv6 address such as ::1. A client that
    hangs up or stalls mid-request costs one line on stderr at most, never a traceback."""
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def handle_error(self, request: Any, client_address: Any) -> None:
            error = sys.exc_info()[1]
            if isinstance(error, (ConnectionError, TimeoutError)):
                return  # the browser went away (closed the tab, skipped a video): nothing to report
            print(f"warning: review request from {client_address[0]} failed: {type(error).__name__}: {error}",
                  file=sys.stderr)

    return Server((host, port), handler)


class ReviewServer:
    """Serves the review page for one experiment; `start()` runs it in a background thread."""

    def __init__(self, experiment_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
                 reviewer: str = "reviewer", blind: bool = False, seed: int | None = None):
        if not 0 <= port <= 65535:
            raise UserError(f"--port must be from 0 to 65535 (0 picks a free one), got {port}")
        self.root = Path(experiment_dir)
        items = [i for i in iter_items(self.root) if i.ok and i.video_path.is_file()]
        if not items:
            raise UserError(f"{self.root}: no finished videos to review")
        self.reviewer = reviewer
        self.blind = blind
        self.token = secrets.token_urlsafe(24)
        rng = random.Random(secrets.randbits(64) if seed is None else seed)  # this review's own seed
        if blind:  # grouped by question, the models in a random order within each
            shuffle = {id(item): rng.random() for item in items}
            items.sort(key=lambda item: (item.question_key, shuffle[id(item)]))
        self.items = items  # in the order the page shows them
        self.ids = [f"{n:012x}" for n in rng.sample(range(16**12), len(items))]  # opaque: no order, no model
        self.index_of = {item_id: index for index, item_id in enumerate(self.ids)}
        self._lock = threading.Lock()
        try:
            self.httpd = _http_server(host, port, self._handler())
        except OSError as e:
            raise UserError(f"cannot listen on {host}:{port} ({e}); pick another --port or --host") from e
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def host_allowed(self, header: str | None) -> bool:
        """On loopback, only requests addressed to this machine by name or number (not a rebound domain)."""
        host, port = self.httpd.server_address[:2]
        if not ipaddress.ip_address(host).is_loopback:
            return True  # served to the network on purpose: any name that reaches it is fine
        return header in {f"{name}:{port}" for name in ("localhost", "127.0.0.1", "[::1]")}

    def item_list(self) -> list[dict[str, Any]]:
        """What the page shows for each item, with the verdicts recorded so far about its current video."""
        by_item: dict[tuple[str, str, int], dict[str, dict[str, Any]]] = {}
        for (model, question, sample, scorer), row in latest_rows(read_rows(self.root)).items():
            by_item.setdefault((model, question, sample), {})[scorer] = row
        out = []
        for item_id, item in zip(self.ids, self.items, strict=True):
            folder = item.folder / QUESTION_DIR
            prompt = (folder / PROMPT).read_text(encoding="utf-8", errors="replace").strip() \
                if (folder / PROMPT).is_file() else ""
            sha = sha256_file(item.video_path)
            rows = {scorer: row for scorer, row in by_item.get(item.key, {}).items() if about_video(row, sha)}
            human = rows.get(HUMAN)
            entry = {"id": item_id, "question": item.question_key, "sample": item.sample, "samples": item.samples,
                     "prompt": prompt,
                     "media": {name: f"/media/{item_id}/{name}" for name, (rel, _) in MEDIA.items()
                               if (item.folder / rel).is_file()},
                     "human": None if human is None else {"correct": human["correct"],
                                                          "note": human.get("details", {}).get("note", "")}}
            if not self.blind:
                entry["model"] = item.model
                entry["scores"] = {s: r["correct"] for s, r in sorted(rows.items()) if scorer_kind(s) != HUMAN}
            out.append(entry)
        return out

    def record(self, index: int, correct: bool, note: str) -> dict[str, Any]:
        row = human_row(self.items[index], correct, self.reviewer, note)
        with self._lock:
            append_row(self.root, row)
        return row

    def page(self) -> bytes:
        template = resources.files("vmevalkit.review").joinpath("page.html").read_text(encoding="utf-8")
        return (template.replace("{{TOKEN}}", self.token).replace("{{EXPERIMENT}}", html.escape(self.root.name))
                .replace("{{BLIND}}", "true" if self.blind else "false").encode("utf-8"))

    def start(self) -> "ReviewServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        try:
            self.httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.httpd.server_close()

    def stop(self) -> None:
        """Stop a server started with `start()`."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, status: int, obj: Any) -> None:
                self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

            def _host_ok(self) -> bool:
                if server.host_allowed(self.headers.get("Host")):
                    return True
                self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
                return False

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if not self._host_ok():
                    return
                path = self.path.split("?", 1)[0]
                if path == "/":
                    self._send(HTTPStatus.OK, server.page(), "text/html; charset=utf-8")
                elif path == "/api/items":
                    self._json(HTTPStatus.OK, server.item_list())
                elif match := re.fullmatch(r"/media/([0-9a-f]{12})/([a-z0-9_.]+)", path):
                    self._media(match.group(1), match.group(2))
                else:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

            do_HEAD = do_GET

            def _media(self, item_id: str, name: str) -> None:
                if item_id not in server.index_of or name not in MEDIA:
                    return self._json(HTTPStatus.NOT_FOUND, {"error": "no such item file"})
                rel, content_type = MEDIA[name]
                path = server.items[server.index_of[item_id]].folder / rel
                if not path.is_file():
                    return self._json(HTTPStatus.NOT_FOUND, {"error": "no such item file"})
                data = path.read_bytes()
                match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
                if match and data and (match.group(1) or match.group(2)):  # media players ask for byte ranges
                    start_s, end_s = match.groups()
                    start = int(start_s) if start_s else max(0, len(data) - int(end_s))
                    end = min(int(end_s), len(data) - 1) if start_s and end_s else len(data) - 1
                    if start > end:
                        return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", content_type,
                                          {"Content-Range": f"bytes */{len(data)}"})
                    return self._send(HTTPStatus.PARTIAL_CONTENT, data[start:end + 1], content_type,
                                      {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"})
                self._send(HTTPStatus.OK, data, content_type, {"Accept-Ranges": "bytes"})

            def do_POST(self) -> None:  # noqa: N802
                if not self._host_ok():
                    return
                if self.path != "/api/verdict":
                    return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                if not secrets.compare_digest(self.headers.get(TOKEN_HEADER, ""), server.token):
                    return self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong review token"})
                try:
                    length = body_length(self.headers.get("Content-Length"))
                    index, correct, note = parse_verdict(self.rfile.read(length), server.index_of)
                except (ValueError, RecursionError) as e:  # RecursionError: JSON nested too deep
                    return self._json(HTTPStatus.BAD_REQUEST, {"error": f"bad verdict: {e}"})
                try:
                    row = server.record(index, correct, note)
                except (UserError, OSError) as e:
                    return self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(e)})
                self._json(HTTPStatus.OK, {"ok": True} if server.blind else {"ok": True, "row": row})

        return Handler
