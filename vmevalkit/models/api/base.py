"""The flow every hosted model shares: ledger, create, poll, download, decode.

`generate` encodes the first frame, keys the job by what is asked (vmevalkit.models.api.ledger), and then:
a job downloaded before is decoded from the workdir (no request); a job created before is polled and
downloaded; otherwise the record is written as "creating", the create request is sent, and the job id is
recorded the moment it comes back. The returned Video's info says what the call cost (`cost_usd`: the
estimate for a job it created, 0 for one an earlier run paid for), which the runner's --max-cost uses. A provider module
subclasses HostedModel and implements `create`, `poll` and, where needed, `auth_headers`, `classify`,
`prepare` (uploads), `find` (recovering a job whose create reply was lost), `download` and `frame_size`."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from vmevalkit.atomic import write_bytes
from vmevalkit.errors import JSONFileError, UserError
from vmevalkit.models.api.errors import (
    AUTH,
    INVALID_REQUEST,
    PROVIDER_ERROR,
    REFUSED,
    TIMEOUT,
    HostedError,
    clip,
)
from vmevalkit.models.api.http import HTTPClient, RetryPolicy, limiter_for, public_url
from vmevalkit.models.api.ledger import JOBS, VIDEOS, Ledger, job_key, now
from vmevalkit.models.api.media import Frame, encode_frame
from vmevalkit.models.api.operational import OPERATIONAL_DEFAULTS
from vmevalkit.models.api.prices import estimate
from vmevalkit.models.base import VideoModel
from vmevalkit.questions import Question
from vmevalkit.secrets import register_secret
from vmevalkit.video import Video, read_mp4

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


@dataclass
class Poll:
    """One status reply, in the kit's words: state is running, succeeded, failed or refused."""

    state: str
    status: str  # the provider's own word for it
    detail: str = ""
    video_url: str | None = None
    kind: str = PROVIDER_ERROR  # the failure kind of a failed job
    provider_prompt: str | None = None  # the prompt the provider says it used, when it says


@dataclass
class Job:
    key: str
    prompt: str
    seed: int
    frame: Frame
    record: dict[str, Any]

    @property
    def id(self) -> str:
        return self.record["job_id"]

    @property
    def state(self) -> dict[str, Any]:
        """The provider's own facts about the job (status URLs, an uploaded image's URL), kept in the ledger."""
        return self.record.setdefault("provider_state", {})


def frame_size_for(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """(width, height) of a frame with `aspect_ratio` ("16:9") whose short side is `resolution` ("720p")."""
    w, h = (int(v) for v in aspect_ratio.split(":"))
    name = resolution.lower()
    short = 2160 if name == "4k" else int(name[:-1]) if name.endswith("p") and name[:-1].isdigit() else 720
    if w >= h:
        return 2 * round(short * w / h / 2), short
    return short, 2 * round(short * h / w / 2)


def base_url_for(env_name: str, default: str) -> str:
    """The provider's base URL: VMEVALKIT_<env_name>_BASE_URL when set (proxies, tests), else `default`."""
    return (os.environ.get(f"VMEVALKIT_{env_name}_BASE_URL") or default).rstrip("/")


class HostedModel(VideoModel):
    """A model behind a provider's API; see the module docstring. Thread-safe: up to `concurrency` calls of
    `generate` run at once, and calls for the same job wait for each other."""

    provider: ClassVar[str] = ""  # in messages, the ledger, and the name of the shared rate limiter
    base_env: ClassVar[str] = ""  # VMEVALKIT_<base_env>_BASE_URL overrides default_base_url
    default_base_url: ClassVar[str] = ""
    key_env: ClassVar[tuple[str, ...]] = ()  # the environment variables holding the key
    max_image_bytes: ClassVar[int] = 10_000_000
    takes_seed: ClassVar[bool] = False  # whether the request carries the kit's seed
    prompt_rewriting: ClassVar[str] = "none documented"
    protocol: ClassVar[str] = ""  # where the request and reply shapes come from
    own_operational: ClassVar[tuple[str, ...]] = ()  # the provider's settings that are not part of a job's key

    def __init__(self, model_id: str, provider_model: str, settings: dict[str, Any], *,
                 base_url: str | None = None, takes_seed: bool | None = None) -> None:
        self.id = model_id
        if takes_seed is not None:
            self.takes_seed = takes_seed
        self.provider_model = provider_model
        operational = {**OPERATIONAL_DEFAULTS, **{k: settings.get(k) for k in self.own_operational}}
        self.operational = {k: settings.get(k, v) for k, v in operational.items()}
        self.request_settings = {k: v for k, v in settings.items() if k not in operational}
        self.resolution = self.frame_size(self.request_settings)
        self.keys = {name: os.environ.get(name, "") for name in self.key_env}
        for value in self.keys.values():
            register_secret(value)
        ops = self.operational
        self.http = HTTPClient(
            self.provider, base_url or base_url_for(self.base_env, self.default_base_url), auth=self.auth_headers,
            policy=RetryPolicy(attempts=int(ops["retries"]) + 1, backoff=float(ops["retry_backoff"])),
            limiter=limiter_for(self.provider, float(ops["rate_limit"])), timeout=float(ops["request_timeout"]),
            classify=self.classify, headers=self.extra_headers())
        self._slots = threading.BoundedSemaphore(max(1, int(ops["concurrency"])))
        self._auth_failure: str | None = None
        self._ledger: Ledger | None = None
        self._ledger_lock = threading.Lock()

    # --- what a provider module implements ----------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        key = next(iter(self.keys.values()), "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def extra_headers(self) -> dict[str, str]:
        return {}

    def classify(self, status: int, body: Any) -> tuple[str | None, str] | None:
        """The failure kind of an error reply, when the provider's body says more than its HTTP status."""
        return None

    def frame_size(self, settings: dict[str, Any]) -> tuple[int, int] | None:
        """The (width, height) the first frame is fitted to; None: the question's own size."""
        return None

    def prepare(self, job: Job) -> None:
        """Work before the create request (an upload); store what it made in `job.state`."""

    def find(self, job: Job) -> str | None:
        """The id of a job an earlier run created but whose reply was lost, when the provider can tell."""
        return None

    def create(self, job: Job) -> str:
        raise NotImplementedError

    def poll(self, job: Job) -> Poll:
        raise NotImplementedError

    def download(self, job: Job, poll: Poll) -> bytes:
        assert poll.video_url
        return self.http.content(poll.video_url)

    def need(self, reply: Any, field: str, what: str, *, ambiguous: bool = False) -> Any:
        """`reply[field]` of a JSON object reply, or a provider_error saying that the `what` reply lacks it
        (`ambiguous` for a create: the job may exist)."""
        value = reply.get(field) if isinstance(reply, dict) else None
        if value is None or value == "":
            raise HostedError(PROVIDER_ERROR, f"{self.id}: the {what} reply has no {field}: {clip(reply)}",
                              ambiguous=ambiguous)
        return value

    # --- the shared flow ---------------------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.request_settings)

    def describe(self) -> dict[str, Any]:
        return {"provider": self.provider, "provider_model": self.provider_model,
                "base_url": public_url(self.http.base_url), "protocol": self.protocol,
                "prompt_rewriting": self.prompt_rewriting, "operational": dict(self.operational)}

    @property
    def ledger(self) -> Ledger:
        if self.workdir is None:
            raise UserError(f"{self.id}: set the model's workdir before generate (the runner sets it to "
                            "<experiment>/.models/<model>/): the job ledger lives there")
        with self._ledger_lock:
            if self._ledger is None or self._ledger.folder != Path(self.workdir):
                self._ledger = Ledger(self.workdir)
            return self._ledger

    def job_identity(self, prompt: str, frame: Frame, seed: int) -> dict[str, Any]:
        """What a job is: a rerun asking the same finds the same job."""
        return {"model": self.id, "provider": self.provider, "provider_model": self.provider_model, "prompt": prompt,
                "image_sha256": frame.sha256, "settings": self.request_settings, "seed": seed}

    def generate(self, question: Question, image: Image.Image, *, seed: int, progress: bool = True) -> Video:
        if self._auth_failure is not None:
            raise HostedError(AUTH, f"{self.id}: no request sent: the provider refused the key earlier in this run "
                              f"({self._auth_failure})")
        frame = encode_frame(image, self.max_image_bytes, self.provider)
        job = Job(job_key(self.job_identity(question.prompt, frame, seed)), question.prompt, seed, frame, {})
        with self.ledger.hold(job.key), self._slots:  # a call waiting for the same job holds no slot
            try:
                return self._run(job)
            except HostedError as e:
                if e.kind == AUTH:
                    self._auth_failure = str(e)
                raise

    def _run(self, job: Job) -> Video:
        record = self._load(job.key)
        resumed = bool(record and record.get("job_id"))
        job.record = record or self._new_record(job)
        status = job.record["status"]
        if status == "downloaded":
            video = self._read_video(job.key)
            if video is not None:
                return self._finish(job, video, resumed=True)
            self.ledger.note(job.record, SUCCEEDED, "the downloaded video is missing or broken; downloading again")
        if status == REFUSED:
            raise HostedError(REFUSED, f"{self.id}: job {job.record.get('job_id')} was refused before: "
                              f"{self._last_detail(job)} (recorded in {self.ledger.path(job.key)}; delete that file "
                              "to ask again)")
        if status in (FAILED, "rejected"):
            self._start_over(job)
            resumed = False
        if not job.record.get("job_id"):
            self._submit(job)
        poll = self._wait(job)
        return self._finish(job, self._download(job, poll), resumed=resumed)

    def _load(self, key: str) -> dict[str, Any] | None:
        try:
            return self.ledger.load(key)
        except JSONFileError as e:
            raise UserError(f"{e}; repair or delete it (deleting it makes the kit create that job again, which is "
                            "paid again)") from None

    def _new_record(self, job: Job) -> dict[str, Any]:
        return {"key": job.key, "provider": self.provider, "model": self.id, "provider_model": self.provider_model,
                "request": {"prompt": job.prompt, "first_frame": job.frame.describe(), "seed": job.seed,
                            "seed_sent": self.takes_seed, "settings": self.request_settings},
                "status": "new", "job_id": None, "created": now(), "history": [], "attempts": [],
                "cost_estimate_usd": estimate(self.id, self.request_settings)}

    def _last_detail(self, job: Job) -> str:
        history = job.record.get("history") or [{}]
        return history[-1].get("detail", "")

    def _start_over(self, job: Job) -> None:
        """Keep a failed or rejected job in the record's attempts and clear the way for a new one."""
        rec = job.record
        rec["attempts"].append({k: rec.get(k) for k in ("job_id", "status", "history", "provider_state")})
        rec.update(job_id=None, status="new", history=[], provider_state={}, provider_status=None)

    def _submit(self, job: Job) -> None:
        rec = job.record
        if rec["status"] == "creating":  # an earlier run died between sending the create and recording its reply
            found = self.find(job)
            if found:
                rec["job_id"] = found
                self.ledger.note(rec, "submitted", f"job {found}, found again after an interrupted create")
                return
            rec["possible_duplicate"] = True
        try:
            self.prepare(job)
            self.ledger.note(rec, "creating", "possibly a second create: an earlier one got no reply"
                             if rec.get("possible_duplicate") else "")
            job_id = self.create(job)
        except HostedError as e:
            if not e.ambiguous:  # the provider made no job: nothing was paid
                self.ledger.note(rec, REFUSED if e.kind == REFUSED else "rejected", str(e))
            raise
        rec["job_id"] = job_id
        self.ledger.note(rec, "submitted", f"job {job_id}")

    def _wait(self, job: Job) -> Poll:
        rec, ops = job.record, self.operational
        interval, limit = float(ops["poll_interval"]), float(ops["poll_timeout"])
        deadline = time.monotonic() + limit
        while True:
            try:
                poll = self.poll(job)
            except HostedError as e:
                if e.kind in (REFUSED, INVALID_REQUEST):
                    self.ledger.note(rec, REFUSED if e.kind == REFUSED else FAILED, str(e))
                raise
            if poll.status != rec.get("provider_status") or poll.state != rec["status"]:
                rec["provider_status"] = poll.status
                self.ledger.note(rec, poll.state, clip(f"{poll.status}: {poll.detail}" if poll.detail else poll.status))
            if poll.state == SUCCEEDED:
                if poll.provider_prompt is not None:
                    rec["provider_prompt"] = poll.provider_prompt
                return poll
            if poll.state == REFUSED:
                raise HostedError(REFUSED, f"{self.id}: {self.provider} refused job {job.id}: {poll.detail}")
            if poll.state == FAILED:
                raise HostedError(poll.kind, f"{self.id}: job {job.id} failed on {self.provider}: {poll.detail}")
            if time.monotonic() + interval > deadline:
                self.ledger.note(rec, rec["status"], f"stopped polling after {limit:g} s")
                raise HostedError(TIMEOUT, f"{self.id}: job {job.id} not finished after {limit:g} s (provider status "
                                  f"{poll.status}); a rerun polls it again (more time: --set poll_timeout=SECONDS)")
            time.sleep(interval)

    def _download(self, job: Job, poll: Poll) -> Video:
        data = self.download(job, poll)
        path = self.ledger.video_path(job.key)
        write_bytes(path, data)
        video = self._read_video(job.key)
        if video is None:
            path.unlink(missing_ok=True)
            raise HostedError(PROVIDER_ERROR, f"{self.id}: the file downloaded for job {job.id} ({len(data)} bytes) is "
                              "not a readable video; a rerun downloads it again")
        job.record["video"] = {"file": f"{VIDEOS}/{path.name}", "bytes": len(data),
                               "sha256": hashlib.sha256(data).hexdigest()}
        self.ledger.note(job.record, "downloaded")
        return video

    def _read_video(self, key: str) -> Video | None:
        path = self.ledger.video_path(key)
        if not path.is_file():
            return None
        try:
            return read_mp4(path)
        except UserError:
            return None

    def _finish(self, job: Job, video: Video, *, resumed: bool) -> Video:
        rec = job.record
        provider_prompt = rec.get("provider_prompt")
        info = {
            "provider": self.provider, "provider_model": self.provider_model, "job_id": rec["job_id"],
            "job_key": job.key, "ledger": f"{JOBS}/{job.key}.json", "resumed": resumed,
            "status_history": rec["history"], "cost_estimate_usd": rec["cost_estimate_usd"],
            "cost_usd": 0.0 if resumed else rec["cost_estimate_usd"],  # what this call spent (the runner's budget)
            "returned_video": {"fps": video.fps, "num_frames": video.num_frames, "width": video.size[0],
                               "height": video.size[1], **{k: v for k, v in rec.get("video", {}).items() if k != "file"}},
            "first_frame": job.frame.describe(), "seed_sent": self.takes_seed, "prompt_rewriting": self.prompt_rewriting,
            "prompt_rewritten": None if provider_prompt is None else provider_prompt.strip() != job.prompt.strip(),
            "earlier_attempts": len(rec.get("attempts", [])),
        }
        if rec.get("possible_duplicate"):
            info["possible_duplicate"] = True
        return Video(video.frames, video.fps, info=info)
