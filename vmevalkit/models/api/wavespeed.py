"""WaveSpeedAI: upload the frame, submit a prediction, poll it.

Protocol (https://wavespeed.ai/docs/submit-task, /docs/get-result, /docs/upload-files-api,
/docs/shared/api-result; model pages such as /docs/docs-api/wavespeed-ai/wan-2.2/image-to-video):
  Authorization: Bearer <WAVESPEED_API_KEY>
  POST {base}/media/upload/binary  multipart "file" -> {"code": 200, "data": {"download_url"}}
  POST {base}/{model id} {"image": <url>, "prompt", "duration", "seed", ...} -> {"data": {"id", "status"}}
  GET  {base}/predictions/{id} -> {"data": {"status": created|processing|completed|failed, "outputs": [url],
       "error", "has_nsfw_contents"}}"""

from __future__ import annotations

from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll
from vmevalkit.models.api.errors import REFUSED, clip, looks_like_refusal


class WaveSpeedModel(HostedModel):
    """A WaveSpeed model id (`provider_model`). Settings other than the operational ones and `width` /
    `height` (the frame sent) are sent as inputs of the same name; the seed when the model takes one."""

    provider = "wavespeed"
    base_env = "WAVESPEED"
    default_base_url = "https://api.wavespeed.ai/api/v3"
    key_env = ("WAVESPEED_API_KEY",)
    max_image_bytes = 20_000_000  # the upload limit for images
    protocol = "wavespeed.ai/docs (submit-task, get-result, upload-files-api)"

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        return int(settings["width"]), int(settings["height"])

    def prepare(self, job: Job) -> None:
        if not job.state.get("image_url"):
            files = {"file": (f"first_frame{job.frame.extension}", job.frame.data, job.frame.mime)}
            data = self.need(self.http.json("POST", "media/upload/binary", files=files), "data", "upload")
            job.state["image_url"] = str(self.need(data, "download_url", "upload"))

    def create(self, job: Job) -> str:
        inputs = {k: v for k, v in self.request_settings.items() if k not in ("width", "height") and v != ""}
        body = {"image": job.state["image_url"], "prompt": job.prompt, **inputs}
        if self.takes_seed:
            body["seed"] = job.seed
        data = self.need(self.http.json("POST", self.provider_model, json=body, idempotent=False), "data", "submit",
                         ambiguous=True)
        return str(self.need(data, "id", "submit", ambiguous=True))

    def poll(self, job: Job) -> Poll:
        data = self.need(self.http.json("GET", f"predictions/{job.id}"), "data", "status")
        status = str(data.get("status"))
        if status in ("created", "processing"):
            return Poll(RUNNING, status)
        if status == "completed":
            outputs = data.get("outputs") or []
            if any(data.get("has_nsfw_contents") or []):
                return Poll(REFUSED, status, "the output was flagged as NSFW")
            if outputs:
                return Poll(SUCCEEDED, status, video_url=str(outputs[0]))
            return Poll(FAILED, status, "completed without outputs")
        error = clip(data.get("error") or "failed")
        return Poll(REFUSED if looks_like_refusal(error) else FAILED, status, error)
