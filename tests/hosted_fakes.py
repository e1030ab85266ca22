"""Test-only: local stand-ins (127.0.0.1) for the hosted providers, each speaking its provider's documented
protocol (the shapes cited in vmevalkit/models/api/<provider>.py): create, poll states, download, error bodies.

A `Script` says what a server does: how many creates get 429 first (with Retry-After), how many polls say
"running", how the job ends (succeed, fail, refuse, never), how many polls answer broken JSON, whether the
download is 404, and whether error bodies echo the caller's key. Every request is kept in `requests`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np

VIDEO_FRAMES, VIDEO_SIZE, VIDEO_FPS = 6, (48, 32), 24  # what every fake returns: 6 frames of 48x32 at 24 fps


def make_mp4(tmp_dir) -> bytes:
    """A small real mp4 (frames that differ) to serve as the provider's video."""
    from vmevalkit.video import Video, write_mp4

    w, h = VIDEO_SIZE
    frames = np.stack([np.full((h, w, 3), 30 * i, dtype=np.uint8) for i in range(VIDEO_FRAMES)])
    write_mp4(Video(frames, VIDEO_FPS), tmp_dir / "fake.mp4")
    return (tmp_dir / "fake.mp4").read_bytes()


@dataclass
class Script:
    create_429: int = 0  # the first N creates are answered 429 with Retry-After
    retry_after: str = "1"
    polls_before_done: int = 1  # polls that answer "running" before the outcome
    outcome: str = "succeed"  # succeed | fail | refuse | never
    malformed_polls: int = 0  # the first N polls answer a body that is not JSON
    download_404: bool = False
    echo_key: bool = False  # error bodies and failure messages repeat the credentials the client sent


class FakeProvider:
    """One provider's API on 127.0.0.1. Subclasses map paths to create / poll / download and shape replies."""

    base_path = ""
    env = ""  # VMEVALKIT_<env>_BASE_URL

    def __init__(self, video: bytes, script: Script | None = None, key: str = "") -> None:
        self.video, self.script, self.key = video, script or Script(), key
        self.requests: list[dict] = []
        self.jobs: dict[str, dict] = {}
        self.creates = self.polls = self.downloads = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, payload = fake.handle(self.command, self.path, dict(self.headers),
                                                       self.rfile.read(length) if length else b"")
                data = payload if isinstance(payload, bytes) else (
                    payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + self.base_path

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- what subclasses say ------------------------------------------------------------------------------
    def route(self, method: str, path: str) -> tuple[str, str | None]:
        """("create" | "poll" | "download" | "other", job id or None) for a request path (without base)."""
        raise NotImplementedError

    def authorised(self, headers: dict) -> bool:
        return headers.get("Authorization") == f"Bearer {self.key}"

    def credentials(self, headers: dict) -> str:
        return headers.get("Authorization", "")

    def created(self, jid: str): ...
    def running(self, jid: str): ...
    def done(self, jid: str): ...
    def failed(self, jid: str, message: str): ...
    def refused(self, jid: str): ...

    def error_body(self, why: str, message: str):
        """The body of an error reply; `why` is auth, rate (429) or missing (404)."""
        return {"error": {"message": message}}

    def auth_failure(self, message: str):
        return 401, {}, self.error_body("auth", message)

    def other(self, method: str, path: str, body: bytes):
        return 404, {}, self.error_body("missing", f"no route {method} {path}")

    # --- the shared script --------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict, body: bytes):
        parts = urlsplit(raw_path)
        path = parts.path.removeprefix(self.base_path)
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": parse_qs(parts.query),
                                  "headers": headers, "body": body, "at": time.monotonic()})
            kind, jid = self.route(method, path)
            echo = f" (you sent {self.credentials(headers)})" if self.script.echo_key else ""
            if kind in ("create", "poll") and not self.authorised(headers):
                return self.auth_failure("invalid credentials" + echo)
            if kind == "create":
                self.creates += 1
                if self.creates <= self.script.create_429:
                    return 429, {"Retry-After": self.script.retry_after}, self.error_body("rate", "rate limited" + echo)
                jid = f"job{len(self.jobs) + 1}"
                self.jobs[jid] = {"polls": 0}
                return 200, {}, self.created(jid)
            if kind == "poll":
                self.polls += 1
                if self.polls <= self.script.malformed_polls:
                    return 200, {}, '{"status": "runn'
                job = self.jobs.get(jid)
                if job is None:
                    return 404, {}, self.error_body("missing", f"no job {jid}")
                job["polls"] += 1
                if self.script.outcome == "never" or job["polls"] <= self.script.polls_before_done:
                    return 200, {}, self.running(jid)
                if self.script.outcome == "fail":
                    return 200, {}, self.failed(jid, "the generation crashed" + echo)
                if self.script.outcome == "refuse":
                    return 200, {}, self.refused(jid)
                return 200, {}, self.done(jid)
            if kind == "download":
                self.downloads += 1
                if self.script.download_404:
                    return 404, {}, self.error_body("missing", "no such file" + echo)
                return 200, {"Content-Type": "video/mp4"}, self.video
            return self.other(method, path, body)

    def cdn(self, jid: str) -> str:
        return f"{self.root}/cdn/{jid}.mp4"

    def request_json(self, kind: str) -> dict:
        """The JSON body of the first request the client sent of `kind` (create)."""
        for r in self.requests:
            if self.route(r["method"], r["path"])[0] == kind and r["body"]:
                return json.loads(r["body"])
        raise AssertionError(f"no {kind} request with a JSON body")


def _cdn_route(method: str, path: str) -> tuple[str, str | None] | None:
    if method == "GET" and path.startswith("/cdn/"):
        return "download", path[5:-4]
    return None


class FakeGemini(FakeProvider):
    base_path, env = "/v1beta", "GEMINI"

    def route(self, method, path):
        if method == "POST" and path.endswith(":predictLongRunning"):
            return "create", None
        if method == "GET" and "/operations/" in path:
            return "poll", path.rsplit("/", 1)[1]
        if method == "GET" and path.startswith("/files/") and path.endswith(":download"):
            return "download", path[7:-9]
        return "other", None

    def authorised(self, headers):
        return headers.get("x-goog-api-key") == self.key

    def credentials(self, headers):
        return headers.get("x-goog-api-key", "")

    def error_body(self, why, message):
        status = {"rate": "RESOURCE_EXHAUSTED", "missing": "NOT_FOUND"}.get(why, "INVALID_ARGUMENT")
        return {"error": {"code": {"rate": 429, "missing": 404}.get(why, 400), "message": message, "status": status}}

    def auth_failure(self, message):  # the Gemini API answers a bad key with 400 API_KEY_INVALID
        body = self.error_body("auth", message)
        body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
        return 400, {}, body

    def created(self, jid):
        return {"name": f"models/veo-3.1-generate-preview/operations/{jid}"}

    def running(self, jid):
        return {"name": jid, "done": False, "metadata": {"progressPercent": 40}}

    def done(self, jid):
        uri = f"{self.base_url}/files/{jid}:download?alt=media"
        return {"name": jid, "done": True, "response": {"@type": "type.googleapis.com/GenerateVideoResponse",
                                                         "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}}

    def failed(self, jid, message):
        return {"name": jid, "done": True, "error": {"code": 13, "message": message}}

    def refused(self, jid):
        reason = "The image could not be used: it violates the usage guidelines."
        return {"name": jid, "done": True, "response": {"generateVideoResponse": {
            "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}}}


def kling_token_ok(token: str, access: str, secret: str) -> bool:
    try:
        header, body, signature = token.split(".")
        expected = base64.urlsafe_b64encode(hmac.new(secret.encode(), f"{header}.{body}".encode(),
                                                     hashlib.sha256).digest()).rstrip(b"=").decode()
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return False
    return hmac.compare_digest(signature, expected) and claims["iss"] == access and claims["nbf"] <= time.time() < claims["exp"]


class FakeKling(FakeProvider):
    env = "KLING"

    def __init__(self, video, script=None, key="", secret=""):
        super().__init__(video, script, key)
        self.secret = secret

    def route(self, method, path):
        if path == "/v1/videos/image2video" and method == "POST":
            return "create", None
        if path.startswith("/v1/videos/image2video/") and method == "GET":
            jid = path.rsplit("/", 1)[1]
            external = {j["external"]: k for k, j in self.jobs.items() if "external" in j}
            return "poll", external.get(jid, jid)
        return _cdn_route(method, path) or ("other", None)

    def authorised(self, headers):
        auth = headers.get("Authorization", "")
        return auth.startswith("Bearer ") and kling_token_ok(auth[7:], self.key, self.secret)

    def error_body(self, why, message):
        return {"code": {"auth": 1004, "rate": 1302, "missing": 1203}[why], "message": message, "request_id": "r1"}

    def handle(self, method, raw_path, headers, body):
        reply = super().handle(method, raw_path, headers, body)
        if method == "POST" and reply[0] == 200 and body:
            jid = reply[2]["data"]["task_id"]
            self.jobs[jid]["external"] = json.loads(body).get("external_task_id")
        return reply

    def _task(self, jid, status, **extra):
        return {"code": 0, "message": "SUCCEED", "request_id": "r1",
                "data": {"task_id": jid, "task_status": status, "created_at": 1, "updated_at": 2, **extra}}

    def created(self, jid):
        return self._task(jid, "submitted")

    def running(self, jid):
        return self._task(jid, "processing")

    def done(self, jid):
        return self._task(jid, "succeed", task_result={"videos": [{"id": "v1", "url": self.cdn(jid), "duration": "5"}]})

    def failed(self, jid, message):
        return self._task(jid, "failed", task_status_msg=message)

    def refused(self, jid):
        return self._task(jid, "failed", task_status_msg="Failure to pass the risk control system")


class FakeRunway(FakeProvider):
    env = "RUNWAY"

    def route(self, method, path):
        if method == "POST" and path == "/v1/image_to_video":
            return "create", None
        if method == "GET" and path.startswith("/v1/tasks/"):
            return "poll", path.rsplit("/", 1)[1]
        return _cdn_route(method, path) or ("other", None)

    def authorised(self, headers):
        return super().authorised(headers) and headers.get("X-Runway-Version") == "2024-11-06"

    def created(self, jid):
        return {"id": jid}

    def running(self, jid):
        return {"id": jid, "createdAt": "2026-12-01T00:00:00Z", "status": "RUNNING", "progress": 0.4}

    def done(self, jid):
        return {"id": jid, "createdAt": "2026-12-01T00:00:00Z", "status": "SUCCEEDED", "output": [self.cdn(jid)]}

    def failed(self, jid, message):
        return {"id": jid, "createdAt": "2026-12-01T00:00:00Z", "status": "FAILED", "failure": message,
                "failureCode": "INTERNAL"}

    def refused(self, jid):
        return {"id": jid, "createdAt": "2026-12-01T00:00:00Z", "status": "FAILED",
                "failure": "Input image failed moderation", "failureCode": "SAFETY.INPUT.IMAGE"}


class FakeLumaAgents(FakeProvider):
    base_path, env = "/v1", "LUMA"

    def route(self, method, path):
        if method == "POST" and path == "/generations":
            return "create", None
        if method == "GET" and path.startswith("/generations/"):
            return "poll", path.rsplit("/", 1)[1]
        return _cdn_route(method, path) or ("other", None)

    def _gen(self, jid, state, **extra):
        return {"id": jid, "created_at": "2026-12-01T00:00:00Z", "model": "ray-3.2", "type": "video", "state": state,
                **extra}

    def created(self, jid):
        return self._gen(jid, "queued")

    def running(self, jid):
        return self._gen(jid, "processing")

    def done(self, jid):
        return self._gen(jid, "completed", output=[{"type": "video", "url": self.cdn(jid)}])

    def failed(self, jid, message):
        return self._gen(jid, "failed", failure_code="generation_failed", failure_reason=message)

    def refused(self, jid):
        return self._gen(jid, "failed", failure_code="content_moderated", failure_reason="moderated")


class FakeLumaDreamMachine(FakeProvider):
    """Ray 2, with a folder that accepts PUT and serves what was put (the `put:` uploader's other end)."""

    base_path, env = "/dream-machine/v1", "LUMA"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploads: dict[str, bytes] = {}

    def route(self, method, path):
        if method == "POST" and path == "/generations/video":
            return "create", None
        if method == "GET" and path.startswith("/generations/"):
            return "poll", path.rsplit("/", 1)[1]
        return _cdn_route(method, path) or ("other", None)

    def other(self, method, path, body):
        if method == "PUT" and path.startswith("/uploads/"):
            self.uploads[path] = body
            return 201, {}, b""
        return super().other(method, path, body)

    def _gen(self, jid, state, **extra):
        return {"id": jid, "generation_type": "video", "state": state, "model": "ray-2", **extra}

    def created(self, jid):
        return self._gen(jid, "queued")

    def running(self, jid):
        return self._gen(jid, "dreaming")

    def done(self, jid):
        return self._gen(jid, "completed", assets={"video": self.cdn(jid)})

    def failed(self, jid, message):
        return self._gen(jid, "failed", failure_reason=message)

    def refused(self, jid):
        return self._gen(jid, "failed", failure_reason="The prompt or image failed moderation")


class FakeFal(FakeProvider):
    env = "FAL"
    endpoint = "/fal-ai/bytedance/seedance/v1/pro/image-to-video"

    def route(self, method, path):
        if method == "POST" and path == self.endpoint:
            return "create", None
        if method == "GET" and path.startswith("/fal-ai/bytedance/requests/") and path.endswith("/status"):
            return "poll", path.split("/")[-2]
        if method == "GET" and path.startswith("/fal-ai/bytedance/requests/"):
            return "result", path.rsplit("/", 1)[1]
        return _cdn_route(method, path) or ("other", None)

    def authorised(self, headers):
        return headers.get("Authorization") == f"Key {self.key}"

    def error_body(self, why, message):
        return {"detail": message}

    def created(self, jid):
        url = f"https://queue.fal.run/fal-ai/bytedance/requests/{jid}"  # as fal answers: its own host
        return {"request_id": jid, "status_url": url + "/status", "response_url": url, "cancel_url": url + "/cancel"}

    def running(self, jid):
        return {"status": "IN_PROGRESS", "logs": []}

    def done(self, jid):
        return {"status": "COMPLETED", "logs": [], "metrics": {}}

    def failed(self, jid, message):
        return {"status": "COMPLETED", "logs": [], "error": message, "error_type": "runner_failed"}

    def refused(self, jid):
        self.jobs[jid]["refused"] = True
        return self.done(jid)

    def other(self, method, path, body):
        kind, jid = self.route(method, path)
        if kind == "result" and jid in self.jobs:
            if self.jobs[jid].get("refused"):
                return 422, {}, {"detail": [{"loc": ["body", "image_url"], "msg": "The content was flagged by a "
                                             "content checker.", "type": "content_policy_violation"}]}
            return 200, {}, {"video": {"url": self.cdn(jid), "content_type": "video/mp4"}, "seed": 7}
        return super().other(method, path, body)


class FakeWaveSpeed(FakeProvider):
    base_path, env = "/api/v3", "WAVESPEED"
    model = "/wavespeed-ai/wan-2.2/i2v-480p"

    def route(self, method, path):
        if method == "POST" and path == self.model:
            return "create", None
        if method == "GET" and path.startswith("/predictions/"):
            return "poll", path.rsplit("/", 1)[1]
        return _cdn_route(method, path) or ("other", None)

    def other(self, method, path, body):
        if method == "POST" and path == "/media/upload/binary" and b'name="file"' in body:
            return 200, {}, {"code": 200, "message": "success", "data": {"type": "image", "filename": "f.png",
                                                                         "download_url": f"{self.root}/files/f.png"}}
        return super().other(method, path, body)

    def error_body(self, why, message):
        return {"code": {"auth": 401, "rate": 429, "missing": 404}[why], "message": message}

    def _data(self, jid, status, **extra):
        return {"code": 200, "message": "success", "data": {"id": jid, "model": self.model[1:], "status": status,
                                                             "outputs": [], "created_at": "2026-12-01T00:00:00Z", **extra}}

    def created(self, jid):
        return self._data(jid, "created", urls={"get": f"{self.base_url}/predictions/{jid}/result"})

    def running(self, jid):
        return self._data(jid, "processing")

    def done(self, jid):
        return self._data(jid, "completed", outputs=[self.cdn(jid)], has_nsfw_contents=[False])

    def failed(self, jid, message):
        return self._data(jid, "failed", error=message)

    def refused(self, jid):
        return self._data(jid, "completed", outputs=[self.cdn(jid)], has_nsfw_contents=[True])


class FakeOpenAI(FakeProvider):
    base_path, env = "/v1", "OPENAI"
    require_key = True

    def route(self, method, path):
        if method == "POST" and path == "/videos":
            return "create", None
        if method == "GET" and path.startswith("/videos/") and path.endswith("/content"):
            return "download", path.split("/")[2]
        if method == "GET" and path.startswith("/videos/"):
            return "poll", path.rsplit("/", 1)[1]
        return "other", None

    def authorised(self, headers):
        return super().authorised(headers) if self.require_key else "Authorization" not in headers

    def _video(self, jid, status, **extra):
        return {"id": jid, "object": "video", "model": "sora-2", "status": status, "progress": 0,
                "created_at": 1, "size": "1280x720", "seconds": "4", **extra}

    def created(self, jid):
        return self._video(jid, "queued")

    def running(self, jid):
        return self._video(jid, "in_progress", progress=50)

    def done(self, jid):
        return self._video(jid, "completed", progress=100, prompt="walk the dot to the flag, cinematic")

    def failed(self, jid, message):
        return self._video(jid, "failed", error={"code": "internal_error", "message": message})

    def refused(self, jid):
        return self._video(jid, "failed", error={"code": "moderation_blocked", "message": "blocked by moderation"})


class FakeOpenAICompatible(FakeOpenAI):
    """A self-hosted server speaking the OpenAI Videos API; it takes no key (and the kit sends none)."""

    require_key = False
