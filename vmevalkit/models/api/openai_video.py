"""The OpenAI Videos API: OpenAI's Sora 2 (retired by OpenAI on 2026-09-24), and any server that speaks the same
API (`openai-video:<base_url>#<model>`).

Protocol (openai/openai-python 3.3.1, src/openai/resources/videos.py: create, retrieve, download_content;
types/video.py, video_create_params.py, video_create_error.py; the SDK marks the Sora API "scheduled to
permanently shut down on September 24, 2026"):
  POST {base}/videos  multipart/form-data: model, prompt, seconds ("4"|"8"|"12"), size ("1280x720"|...),
       input_reference (the image file; it must have the output's size) -> a Video {"id", "status"}
  GET  {base}/videos/{id} -> {"status": queued|in_progress|completed|failed, "progress", "prompt",
       "error": {"code", "message"}}
  GET  {base}/videos/{id}/content?variant=video -> the MP4 bytes
The Videos API takes no seed."""

from __future__ import annotations

from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll
from vmevalkit.models.api.errors import REFUSED, clip, looks_like_refusal

SIZES = ("1280x720", "720x1280", "1792x1024", "1024x1792")
SECONDS = (4, 8, 12)


class OpenAIVideoModel(HostedModel):
    """Settings: size (one of SIZES; the first frame is sent at that size), duration (4, 8, 12 seconds)."""

    provider = "openai"
    base_env = "OPENAI"
    default_base_url = "https://api.openai.com/v1"
    key_env = ("OPENAI_API_KEY",)
    max_image_bytes = 20_000_000
    prompt_rewriting = "no switch in the API; recorded when the reply's prompt differs from the one sent"
    protocol = "openai/openai-python resources/videos.py (create, retrieve, download_content)"

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        w, h = str(settings["size"]).lower().split("x")
        return int(w), int(h)

    def classify(self, status: int, body: Any) -> tuple[str | None, str] | None:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = clip(f"{error.get('code') or error.get('type') or 'error'}: {error.get('message', '')}")
            if "moderation" in str(error.get("code", "")) or looks_like_refusal(error.get("message")):
                return REFUSED, message
            return None, message
        return None

    def create(self, job: Job) -> str:
        s = self.request_settings
        fields = {"model": self.provider_model, "prompt": job.prompt, "seconds": str(int(s["duration"])),
                  "size": s["size"]}
        files = {"input_reference": (f"first_frame{job.frame.extension}", job.frame.data, job.frame.mime)}
        video = self.http.json("POST", "videos", data=fields, files=files, idempotent=False)
        return str(self.need(video, "id", "create", ambiguous=True))

    def poll(self, job: Job) -> Poll:
        video = self.http.json("GET", f"videos/{job.id}")
        status = str(video.get("status")) if isinstance(video, dict) else "?"
        prompt = video.get("prompt") if isinstance(video, dict) else None
        if status in ("queued", "in_progress"):
            progress = video.get("progress")
            return Poll(RUNNING, status, f"{progress}%" if progress is not None else "")
        if status == "completed":
            return Poll(SUCCEEDED, status, video_url=f"videos/{job.id}/content", provider_prompt=prompt)
        error = video.get("error") if isinstance(video, dict) else None
        code = str((error or {}).get("code") or "")
        detail = clip(f"{code}: {(error or {}).get('message', '')}" if error else f"status {status}")
        refused = "moderation" in code or looks_like_refusal(detail)
        return Poll(REFUSED if refused else FAILED, status, detail)

    def download(self, job: Job, poll: Poll) -> bytes:
        return self.http.content(f"videos/{job.id}/content", params={"variant": "video"})


class OpenAICompatibleVideoModel(OpenAIVideoModel):
    """A self-hosted server speaking the OpenAI Videos API. OPENAI_API_KEY goes to it only with
    `--set send_key=true` (a key meant for OpenAI should not reach another server by default)."""

    provider = "openai-video"
    key_env = ("OPENAI_API_KEY",)
    prompt_rewriting = "unknown (a self-hosted server); recorded when the reply's prompt differs"
    own_operational = ("send_key",)

    def auth_headers(self) -> dict[str, str]:
        if not self.operational.get("send_key"):
            return {}
        return super().auth_headers()
