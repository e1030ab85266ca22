"""Google Veo through the Gemini API: a long-running operation (predictLongRunning), polled, then downloaded.

Protocol (googleapis/python-genai 2.19.0, google/genai/models.py: _GenerateVideosParameters_to_mldev,
_GenerateVideosConfig_to_mldev, _GenerateVideosOperation_from_mldev; files.py: download; and
https://ai.google.dev/gemini-api/docs/video):
  POST {base}/models/{model}:predictLongRunning  header x-goog-api-key
       {"instances": [{"prompt", "image": {"bytesBase64Encoded", "mimeType"}}],
        "parameters": {"aspectRatio", "durationSeconds", "resolution", "negativePrompt", "enhancePrompt"}}
       -> {"name": "models/.../operations/..."}
  GET  {base}/{name} -> {"done": true, "response": {"generateVideoResponse": {"generatedSamples": [{"video":
       {"uri"}}], "raiMediaFilteredCount", "raiMediaFilteredReasons"}}} or {"done": true, "error": {...}}
  GET  the video's uri (files/{id}:download?alt=media, under the same base, with the key).
The Gemini API takes no seed for Veo (the SDK refuses one outside Vertex)."""

from __future__ import annotations

from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll, frame_size_for
from vmevalkit.models.api.errors import (
    AUTH,
    INVALID_REQUEST,
    PROVIDER_ERROR,
    REFUSED,
    HostedError,
    clip,
    looks_like_refusal,
)

# google.rpc status codes of a failed operation -> failure kind
_RPC_KINDS = {3: INVALID_REQUEST, 7: AUTH, 16: AUTH, 9: INVALID_REQUEST, 11: INVALID_REQUEST}


class VeoModel(HostedModel):
    """Veo 2 / 3 / 3.1 image-to-video. Settings: aspect_ratio (16:9, 9:16), resolution (720p, 1080p; Veo 3+),
    duration (seconds), negative_prompt."""

    provider = "gemini"
    base_env = "GEMINI"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    key_env = ("GEMINI_API_KEY",)
    max_image_bytes = 14_000_000  # base64 in a JSON body the API accepts up to about 20 MB
    protocol = "googleapis/python-genai models.py (mldev converters), ai.google.dev/gemini-api/docs/video"

    @property
    def is_veo2(self) -> bool:
        return self.provider_model.startswith("veo-2")

    @property
    def prompt_rewriting(self) -> str:  # type: ignore[override]
        if self.is_veo2:
            return "turned off (enhancePrompt=false)"
        return "cannot be turned off through the Gemini API for Veo 3; the provider may rewrite"

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.keys["GEMINI_API_KEY"]}

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        return frame_size_for(settings["aspect_ratio"], settings.get("resolution") or "720p")

    def classify(self, status: int, body: Any) -> tuple[str | None, str] | None:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        message = clip(error.get("message", ""))
        text = str(error)
        if "API_KEY_INVALID" in text or error.get("status") in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return AUTH, message
        if status == 400 and looks_like_refusal(message):
            return REFUSED, message
        return None, message

    def create(self, job: Job) -> str:
        s = self.request_settings
        parameters: dict[str, Any] = {"aspectRatio": s["aspect_ratio"], "durationSeconds": int(s["duration"])}
        if s.get("resolution") and not self.is_veo2:
            parameters["resolution"] = s["resolution"]
        if s.get("negative_prompt"):
            parameters["negativePrompt"] = s["negative_prompt"]
        if self.is_veo2:
            parameters["enhancePrompt"] = False
        body = {"instances": [{"prompt": job.prompt, "image": {"bytesBase64Encoded": job.frame.base64,
                                                                "mimeType": job.frame.mime}}],
                "parameters": parameters}
        reply = self.http.json("POST", f"models/{self.provider_model}:predictLongRunning", json=body, idempotent=False)
        return str(self.need(reply, "name", "create", ambiguous=True))

    def poll(self, job: Job) -> Poll:
        op = self.http.json("GET", job.id)
        if not isinstance(op, dict):
            raise HostedError(PROVIDER_ERROR, f"{self.id}: unexpected operation reply {clip(op)}")
        if not op.get("done"):
            progress = (op.get("metadata") or {}).get("progressPercent")
            return Poll(RUNNING, "running", f"{progress}%" if progress is not None else "")
        error = op.get("error")
        if isinstance(error, dict):
            message = clip(error.get("message", error))
            if looks_like_refusal(message):
                return Poll(REFUSED, "done with error", message)
            return Poll(FAILED, "done with error", message, kind=_RPC_KINDS.get(error.get("code"), PROVIDER_ERROR))
        response = (op.get("response") or {}).get("generateVideoResponse") or {}
        samples = response.get("generatedSamples") or []
        uri = ((samples[0] if samples else {}).get("video") or {}).get("uri")
        if uri:
            return Poll(SUCCEEDED, "done", video_url=uri)
        if response.get("raiMediaFilteredCount"):
            reasons = "; ".join(map(str, response.get("raiMediaFilteredReasons") or [])) or "filtered"
            return Poll(REFUSED, "done, filtered", clip(reasons))
        return Poll(FAILED, "done", f"no video in the reply: {clip(op)}")

    def download(self, job: Job, poll: Poll) -> bytes:
        assert poll.video_url
        return self.http.content(self.http.rebase(poll.video_url))  # an API URL: the key goes with it
