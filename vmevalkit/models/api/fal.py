"""fal's queue: submit, poll the status, fetch the result; Seedance, and any fal video endpoint (`fal:<endpoint>`).

Protocol (fal-ai/fal, projects/fal_client/src/fal_client/client.py: submit, SyncRequestHandle.status / get,
_raise_for_status; https://fal.ai/docs/documentation/model-apis/errors):
  Authorization: Key <FAL_KEY>
  POST {base}/{endpoint} <the endpoint's input> -> {"request_id", "status_url", "response_url"}
  GET  status_url -> {"status": IN_QUEUE|IN_PROGRESS|COMPLETED, "queue_position", "error", "error_type"}
  GET  response_url -> the endpoint's output ({"video": {"url"}} for video endpoints), or an error body
       {"detail": [{"type": "content_policy_violation", "msg", "loc"}]} (422 for refused content).
The returned URLs are re-based onto the base URL (VMEVALKIT_FAL_BASE_URL may point elsewhere). Seedance's input
(https://fal.ai/models/fal-ai/bytedance/seedance/v1/pro/image-to-video/llms.txt): prompt, image_url (a URL or a
data URI), aspect_ratio, resolution, duration ("2".."12"), camera_fixed, seed, enable_safety_checker."""

from __future__ import annotations

import json
from typing import Any

from vmevalkit.errors import UserError
from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll, frame_size_for
from vmevalkit.models.api.errors import INVALID_REQUEST, REFUSED, clip

REFUSAL_TYPES = {"content_policy_violation"}


def _detail_types(body: Any) -> list[str]:
    detail = body.get("detail") if isinstance(body, dict) else None
    return [str(d.get("type")) for d in detail if isinstance(d, dict)] if isinstance(detail, list) else []


def parse_input(text: str, model_id: str = "fal") -> dict[str, Any]:
    """The `input` setting: a JSON object of extra endpoint inputs."""
    try:
        value = json.loads(text or "{}")
    except ValueError as e:
        raise UserError(f"--set input=...: {model_id} needs a JSON object of endpoint inputs ({e})") from None
    if not isinstance(value, dict):
        raise UserError(f"--set input=...: {model_id} needs a JSON object of endpoint inputs, not {text!r}")
    return value


class FalModel(HostedModel):
    """A fal queue endpoint (`provider_model`). Settings other than the operational ones and `image_field` /
    `input` are sent as inputs of the same name (duration as a string, as fal's enums are); `input` is a JSON
    object merged in; the frame goes as a data URI under `image_field` (default image_url)."""

    provider = "fal"
    base_env = "FAL"
    default_base_url = "https://queue.fal.run"
    key_env = ("FAL_KEY",)
    max_image_bytes = 10_000_000
    takes_seed = True
    protocol = "fal-ai/fal fal_client queue protocol, fal.ai/docs (model errors)"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.keys['FAL_KEY']}"}

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int] | None:
        aspect = settings.get("aspect_ratio")
        if aspect in (None, "auto") or "resolution" not in settings:
            return None
        return frame_size_for(aspect, settings["resolution"])

    def classify(self, status: int, body: Any) -> tuple[str | None, str] | None:
        types = _detail_types(body)
        if any(t in REFUSAL_TYPES for t in types):
            return REFUSED, clip(body.get("detail"))
        if status == 422:
            return INVALID_REQUEST, clip(body.get("detail") if isinstance(body, dict) else body)
        return None

    def inputs(self, job: Job) -> dict[str, Any]:
        s = dict(self.request_settings)
        image_field = s.pop("image_field", "image_url")
        extra = parse_input(s.pop("input", "{}"), self.id)
        if "duration" in s:
            s["duration"] = str(s["duration"])
        return {"prompt": job.prompt, image_field: job.frame.data_uri, "seed": job.seed, **s, **extra}

    def create(self, job: Job) -> str:
        reply = self.http.json("POST", self.provider_model, json=self.inputs(job), idempotent=False)
        request_id = str(self.need(reply, "request_id", "submit", ambiguous=True))
        base = f"{self.http.base_url}/{'/'.join(self.provider_model.split('/')[:2])}/requests/{request_id}"
        job.state["status_url"] = self.http.rebase(reply.get("status_url") or base + "/status")
        job.state["response_url"] = self.http.rebase(reply.get("response_url") or base)
        return request_id

    def poll(self, job: Job) -> Poll:
        status_reply = self.http.json("GET", job.state["status_url"])
        status = str(status_reply.get("status")) if isinstance(status_reply, dict) else "?"
        if status in ("IN_QUEUE", "IN_PROGRESS"):
            position = status_reply.get("queue_position")
            return Poll(RUNNING, status, f"queue position {position}" if position is not None else "")
        if status != "COMPLETED":
            return Poll(FAILED, status, f"unexpected status reply: {clip(status_reply)}")
        if status_reply.get("error"):
            detail = clip(f"{status_reply.get('error_type') or 'error'}: {status_reply['error']}")
            return Poll(REFUSED if status_reply.get("error_type") in REFUSAL_TYPES else FAILED, status, detail)
        result = self.http.json("GET", job.state["response_url"])
        url = _video_url(result)
        if url:
            return Poll(SUCCEEDED, status, video_url=url)
        return Poll(FAILED, status, f"no video in the result: {clip(result)}")


def _video_url(result: Any) -> str | None:
    """The video's URL in a fal result: {"video": {"url"}} or {"videos": [{"url"}]}."""
    if not isinstance(result, dict):
        return None
    video = result.get("video")
    if isinstance(video, dict) and video.get("url"):
        return str(video["url"])
    videos = result.get("videos")
    if isinstance(videos, list) and videos and isinstance(videos[0], dict) and videos[0].get("url"):
        return str(videos[0]["url"])
    return None
