"""Runway image-to-video: a task, polled until it succeeds.

Protocol (runwayml/sdk-python, src/runwayml/types/image_to_video_create_params.py, task_retrieve_response.py,
_client.py; https://docs.dev.runwayml.com/api/):
  headers Authorization: Bearer <RUNWAYML_API_SECRET>, X-Runway-Version: 2024-11-06
  POST {base}/v1/image_to_video {"model": gen4.5|gen4_turbo, "promptImage": <HTTPS URL or data URI up to
       5 MB>, "promptText", "ratio": "1280:720"|..., "duration", "seed"} -> {"id"}
  GET  {base}/v1/tasks/{id} -> {"status": PENDING|THROTTLED|RUNNING|SUCCEEDED|FAILED|CANCELLED,
       "output": [url], "failure", "failureCode"} (failure codes: docs.dev.runwayml.com/errors/task-failures)"""

from __future__ import annotations

from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll
from vmevalkit.models.api.errors import INVALID_REQUEST, PROVIDER_ERROR, REFUSED, clip

API_VERSION = "2024-11-06"
RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
SEED_RANGE = 2**32


class RunwayModel(HostedModel):
    """Settings: ratio (the output size, one of RATIOS), duration (seconds)."""

    provider = "runway"
    base_env = "RUNWAY"
    default_base_url = "https://api.dev.runwayml.com"
    key_env = ("RUNWAYML_API_SECRET",)
    max_image_bytes = 3_700_000  # a data URI of up to 5 MB: the base64 of 3.75 MB
    takes_seed = True
    protocol = "runwayml/sdk-python (image_to_video, tasks), docs.dev.runwayml.com/api"

    def extra_headers(self) -> dict[str, str]:
        return {"X-Runway-Version": API_VERSION}

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        w, h = settings["ratio"].split(":")
        return int(w), int(h)

    def create(self, job: Job) -> str:
        s = self.request_settings
        body = {"model": self.provider_model, "promptImage": job.frame.data_uri, "promptText": job.prompt,
                "ratio": s["ratio"], "duration": int(s["duration"]), "seed": job.seed % SEED_RANGE}
        reply = self.http.json("POST", "v1/image_to_video", json=body, idempotent=False)
        return str(self.need(reply, "id", "create", ambiguous=True))

    def poll(self, job: Job) -> Poll:
        task = self.http.json("GET", f"v1/tasks/{job.id}")
        status = str(task.get("status")) if isinstance(task, dict) else "?"
        if status in ("PENDING", "THROTTLED", "RUNNING"):
            progress = task.get("progress")
            return Poll(RUNNING, status, f"{float(progress):.0%}" if isinstance(progress, (int, float)) else "")
        if status == "SUCCEEDED":
            output = task.get("output") or []
            if output:
                return Poll(SUCCEEDED, status, video_url=str(output[0]))
            return Poll(FAILED, status, "succeeded without output")
        if status == "FAILED":
            code = str(task.get("failureCode") or "")
            detail = clip(f"{code}: {task.get('failure', '')}" if code else task.get("failure", "failed"))
            if "SAFETY" in code:
                return Poll(REFUSED, status, detail)
            return Poll(FAILED, status, detail, kind=INVALID_REQUEST if code.startswith("ASSET") else PROVIDER_ERROR)
        if status == "CANCELLED":
            return Poll(FAILED, status, "the task was cancelled or deleted")
        return Poll(FAILED, status, f"unexpected task reply: {clip(task)}")
