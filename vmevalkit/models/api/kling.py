"""Kling image-to-video, authorised by a JWT made from an access key and a secret key.

Protocol (Kling API reference, app.klingai.com/global/dev/document-api: "Image to Video", "API
authentication" and "Error codes"; transcribed in inference-sh/grid api/klingai/docs/00-general.md and
04-video-image2video.md):
  Authorization: Bearer <JWT HS256 {"iss": access key, "exp": now+1800, "nbf": now-5}, signed with the secret>
  POST {base}/v1/videos/image2video {"model_name", "image": <base64, no data: prefix>, "prompt",
       "negative_prompt", "mode": std|pro, "duration": "5"|"10", "external_task_id"}
       -> {"code": 0, "data": {"task_id", "task_status"}}
  GET  {base}/v1/videos/image2video/{task_id or external_task_id}
       -> {"code": 0, "data": {"task_status": submitted|processing|succeed|failed, "task_status_msg",
           "task_result": {"videos": [{"url", "duration"}]}}}
Every create carries external_task_id = the job's key, so a run killed before it saw the task id finds the
task again by that id instead of paying for a second one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll
from vmevalkit.models.api.errors import (
    AUTH,
    INVALID_REQUEST,
    PROVIDER_ERROR,
    REFUSED,
    HostedError,
    clip,
    looks_like_refusal,
)
from vmevalkit.secrets import register_secret

TOKEN_SECONDS = 1800
_AUTH_CODES = {1000, 1001, 1002, 1003, 1004, 1100, 1101, 1102, 1103, 1304}  # key, account, balance, IP list
_INVALID_CODES = {1200, 1201, 1202, 1203}
_REFUSED_CODES = {1300, 1301}
# 1302 (rate limit), 1303 (concurrency limit), 5000-5002 (server): retried by the HTTP layer
# The frame sizes by mode: std makes 720p, pro 1080p; the output follows the image's aspect ratio.
_SHORT_SIDE = {"std": 720, "pro": 1080}
_ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_hs256(payload: dict[str, Any], secret: str) -> str:
    """A compact JWT signed with HMAC-SHA256 (RFC 7519), as Kling's authentication asks."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64url(signature)}"


class KlingModel(HostedModel):
    """Settings: mode (std, pro), duration (5, 10), aspect_ratio of the frame sent (16:9, 9:16, 1:1),
    negative_prompt, cfg_scale (kling-v1.x only)."""

    provider = "kling"
    base_env = "KLING"
    default_base_url = "https://api-singapore.klingai.com"
    key_env = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")
    max_image_bytes = 10_000_000  # "the image file size cannot exceed 10MB"
    protocol = "Kling API reference (image2video, JWT authentication, error codes)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def token(self) -> str:
        """A valid JWT, made anew when less than five minutes of the current one are left."""
        with self._token_lock:
            now = time.time()
            if self._token is None or self._token[1] - now < 300:
                payload = {"iss": self.keys["KLING_ACCESS_KEY"], "exp": int(now) + TOKEN_SECONDS, "nbf": int(now) - 5}
                token = jwt_hs256(payload, self.keys["KLING_SECRET_KEY"])
                register_secret(token)
                self._token = (token, now + TOKEN_SECONDS)
            return self._token[0]

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        short = _SHORT_SIDE[settings["mode"]]
        w, h = _ASPECTS[settings["aspect_ratio"]]
        return (short * w // h, short) if w >= h else (short, short * h // w)

    def classify(self, status: int, body: Any) -> tuple[str | None, str] | None:
        if not isinstance(body, dict) or "code" not in body:
            return None
        code, message = body.get("code"), clip(f"code {body.get('code')}: {body.get('message', '')}")
        if code in _AUTH_CODES:
            return AUTH, message
        if code in _REFUSED_CODES:
            return REFUSED, message
        if code in _INVALID_CODES:
            return INVALID_REQUEST, message
        return None, message

    def _data(self, reply: Any, what: str, *, ambiguous: bool = False) -> dict[str, Any]:
        """The `data` of a reply whose `code` is 0 (a non-zero code in a 2xx reply fails like an error reply)."""
        if isinstance(reply, dict) and reply.get("code") not in (0, None):
            kind, message = self.classify(200, reply) or (None, clip(reply))
            raise HostedError(kind or PROVIDER_ERROR, f"{self.id}: {what}: {message}")
        return self.need(reply, "data", what, ambiguous=ambiguous)

    def _external_id(self, job: Job) -> str:
        return f"vmevalkit-{job.key}-{len(job.record.get('attempts', []))}"

    def create(self, job: Job) -> str:
        s = self.request_settings
        body: dict[str, Any] = {"model_name": self.provider_model, "image": job.frame.base64, "prompt": job.prompt,
                                "mode": s["mode"], "duration": str(s["duration"]),
                                "external_task_id": self._external_id(job)}
        if s.get("negative_prompt"):
            body["negative_prompt"] = s["negative_prompt"]
        if self.provider_model.startswith("kling-v1"):
            body["cfg_scale"] = float(s.get("cfg_scale", 0.5))  # "Kling-v2.x model does not support this"
        data = self._data(self.http.json("POST", "v1/videos/image2video", json=body, idempotent=False), "create",
                          ambiguous=True)
        return str(self.need(data, "task_id", "create", ambiguous=True))

    def find(self, job: Job) -> str | None:
        try:
            reply = self.http.json("GET", f"v1/videos/image2video/{self._external_id(job)}")
        except HostedError as e:
            if e.kind == INVALID_REQUEST:  # no such task (404, code 1203): it was never created
                return None
            raise
        task_id = (reply.get("data") or {}).get("task_id") if isinstance(reply, dict) else None
        return str(task_id) if task_id else None

    def poll(self, job: Job) -> Poll:
        data = self._data(self.http.json("GET", f"v1/videos/image2video/{job.id}"), "status")
        status, message = str(data.get("task_status")), clip(data.get("task_status_msg") or "")
        if status in ("submitted", "processing"):
            return Poll(RUNNING, status, message)
        if status == "succeed":
            videos = (data.get("task_result") or {}).get("videos") or []
            url = (videos[0] if videos else {}).get("url")
            if url:
                return Poll(SUCCEEDED, status, video_url=url)
            return Poll(FAILED, status, f"succeeded without a video: {clip(data)}")
        if status == "failed":
            return Poll(REFUSED if looks_like_refusal(message) else FAILED, status, message or "failed")
        return Poll(FAILED, status, f"unknown task status: {clip(data)}")
