"""Test-only: a tiny local server that speaks OpenAI chat-completions and answers from a script."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply(content: str) -> tuple[int, dict]:
    """A well-formed chat-completions response whose message is `content`."""
    return 200, {"id": "cmpl-test", "object": "chat.completion", "model": "judge",
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}]}


def rating(value, explanation: str = "looks right") -> tuple[int, dict]:
    return reply(json.dumps({"solution_correctness_score": value, "explanation": explanation}))


class ChatServer:
    """Answers each POST /v1/chat/completions with the next scripted (status, body); the last one repeats.

    A body that is a dict is sent as JSON; a str is sent as is. `requests` keeps every request's
    headers and parsed JSON body."""

    def __init__(self, script: list[tuple[int, dict | str]], delay: float = 0.0):
        self.script = list(script)
        self.requests: list[dict] = []
        self.delay = delay  # seconds each answer takes
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status, answer = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(server.delay)
                with server._lock:
                    server.in_flight -= 1
                if callable(answer):
                    answer = answer(dict(self.headers))
                data = answer if isinstance(answer, str) else json.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
