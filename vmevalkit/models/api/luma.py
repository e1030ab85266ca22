"""Luma Ray: Ray 2 through the Dream Machine API, Ray 3.2 through the Luma Agents API.

Dream Machine (lumalabs/lumaai-python, types/generations/video_create_params.py, types/generation.py;
https://docs.lumalabs.ai/docs/video-generation), base https://api.lumalabs.ai/dream-machine/v1:
  POST /generations/video {"model": "ray-2", "prompt", "aspect_ratio", "resolution", "duration": "5s",
       "loop": false, "keyframes": {"frame0": {"type": "image", "url"}}} -> a Generation {"id", "state"}
  GET  /generations/{id} -> {"state": queued|dreaming|completed|failed, "failure_reason", "assets": {"video"}}
  The keyframe is a URL ("the URL of the image"); the kit sends a data URI unless the `uploader` setting names
  an uploader (vmevalkit.models.api.media), which puts the frame at a public URL first.
Agents API (lumalabs/luma-agents-python, types/generation_create_params.py, image_ref_param.py,
generation.py, generation_failure_code.py; https://docs.agents.lumalabs.ai/api/), base
https://agents.lumalabs.ai/v1:
  POST /generations {"model": "ray-3.2", "type": "video", "prompt", "aspect_ratio", "video": {"resolution",
       "duration": "5s"|"10s", "start_frame": {"data": <base64>, "media_type"}}} -> {"id", "state"}
  GET  /generations/{id} -> {"state": queued|processing|completed|failed, "failure_code", "failure_reason",
       "output": [{"type", "url"}]}
Both take the key as a Bearer token from LUMAAI_API_KEY (for Ray 3.2, put the Agents API key there), and
VMEVALKIT_LUMA_BASE_URL replaces the base of either. Neither takes a seed."""

from __future__ import annotations

from typing import Any

from vmevalkit.models.api.base import FAILED, RUNNING, SUCCEEDED, HostedModel, Job, Poll, frame_size_for
from vmevalkit.models.api.errors import (
    AUTH,
    INVALID_REQUEST,
    PROVIDER_ERROR,
    REFUSED,
    clip,
    looks_like_refusal,
)
from vmevalkit.models.api.media import make_uploader

# Agents API failure codes -> failure kinds (content_moderated is a refusal; budget_exhausted needs the account)
_AGENT_FAILURES = {"content_moderated": REFUSED, "budget_exhausted": AUTH, "image_too_large": INVALID_REQUEST,
                   "unsupported_format": INVALID_REQUEST, "corrupt_input": INVALID_REQUEST,
                   "invalid_request": INVALID_REQUEST}


class _LumaModel(HostedModel):
    provider = "luma"
    base_env = "LUMA"
    key_env = ("LUMAAI_API_KEY",)
    max_image_bytes = 10_000_000

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        return frame_size_for(settings["aspect_ratio"], settings["resolution"])

    def _create(self, path: str, body: dict[str, Any]) -> str:
        return str(self.need(self.http.json("POST", path, json=body, idempotent=False), "id", "create", ambiguous=True))


class DreamMachineModel(_LumaModel):
    """Ray 2. Settings: aspect_ratio, resolution (540p, 720p, 1080p, 4k), duration (5, 9), uploader."""

    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"
    protocol = "lumalabs/lumaai-python (generations.video), docs.lumalabs.ai/docs/video-generation"
    own_operational = ("uploader",)  # where the frame is put does not change the video

    def prepare(self, job: Job) -> None:
        if "image_url" not in job.state:
            uploader = self.operational.get("uploader")
            job.state["image_url"] = make_uploader(uploader)(job.frame) if uploader else None

    def create(self, job: Job) -> str:
        s = self.request_settings
        body = {"model": self.provider_model, "prompt": job.prompt, "aspect_ratio": s["aspect_ratio"],
                "resolution": s["resolution"], "duration": f"{int(s['duration'])}s", "loop": False,
                "keyframes": {"frame0": {"type": "image", "url": job.state.get("image_url") or job.frame.data_uri}}}
        return self._create("generations/video", body)

    def poll(self, job: Job) -> Poll:
        gen = self.http.json("GET", f"generations/{job.id}")
        state = str(gen.get("state")) if isinstance(gen, dict) else "?"
        if state in ("queued", "dreaming"):
            return Poll(RUNNING, state)
        if state == "completed":
            url = (gen.get("assets") or {}).get("video")
            return Poll(SUCCEEDED, state, video_url=url) if url else Poll(FAILED, state, "completed without a video")
        reason = clip(gen.get("failure_reason") or "failed") if isinstance(gen, dict) else clip(gen)
        return Poll(REFUSED if looks_like_refusal(reason) else FAILED, state, reason)


class AgentsModel(_LumaModel):
    """Ray 3.2. Settings: aspect_ratio, resolution (540p, 720p, 1080p), duration (5, 10)."""

    default_base_url = "https://agents.lumalabs.ai/v1"
    protocol = "lumalabs/luma-agents-python (generations), docs.agents.lumalabs.ai/api"

    def create(self, job: Job) -> str:
        s = self.request_settings
        body = {"model": self.provider_model, "type": "video", "prompt": job.prompt, "aspect_ratio": s["aspect_ratio"],
                "video": {"resolution": s["resolution"], "duration": f"{int(s['duration'])}s",
                          "start_frame": {"data": job.frame.base64, "media_type": job.frame.mime}}}
        return self._create("generations", body)

    def poll(self, job: Job) -> Poll:
        gen = self.http.json("GET", f"generations/{job.id}")
        state = str(gen.get("state")) if isinstance(gen, dict) else "?"
        if state in ("queued", "processing"):
            return Poll(RUNNING, state)
        if state == "completed":
            outputs = [o for o in gen.get("output") or [] if isinstance(o, dict) and o.get("url")]
            videos = [o for o in outputs if o.get("type") == "video"] or outputs
            if videos:
                return Poll(SUCCEEDED, state, video_url=str(videos[0]["url"]))
            return Poll(FAILED, state, "completed without a video")
        code = str(gen.get("failure_code") or "") if isinstance(gen, dict) else ""
        reason = clip(f"{code}: {gen.get('failure_reason', '')}" if code else gen.get("failure_reason") or "failed")
        kind = _AGENT_FAILURES.get(code, PROVIDER_ERROR)
        return Poll(REFUSED, state, reason) if kind == REFUSED else Poll(FAILED, state, reason, kind=kind)
