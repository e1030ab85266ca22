"""A VLM judge on any OpenAI-compatible chat-completions endpoint (OpenAI, a local vLLM or lmdeploy).

For each item it sends the prompt, the first frame, the expected final frame and the video's last
frame(s) as PNG data URLs with a fixed, versioned rubric (1-5, success at >= 4, as the older
VMEvalKit judges, so results compare). Answers that cannot be parsed, timeouts, 429 and 5xx are
retried with exponential backoff and then recorded as an error, never as a score. Parsed answers
are cached on disk by (rubric version, judge model, image hashes, prompt), so an item is never paid
for twice. The API key is sent only in the Authorization header and registered with vmevalkit.secrets,
and every text that comes back from the endpoint (replies, error bodies) is scrubbed before it is kept,
so an endpoint that echoes the key cannot get it into a file, a row, a log or an error message.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from vmevalkit import limits
from vmevalkit.atomic import write_json
from vmevalkit.errors import UserError
from vmevalkit.jsonfile import json_object_or_none
from vmevalkit.questions import Question
from vmevalkit.scoring.base import Score
from vmevalkit.secrets import register_secret, scrub
from vmevalkit.video import Video

ENV_BASE_URL = "VMEVALKIT_VLM_BASE_URL"
ENV_MODEL = "VMEVALKIT_VLM_MODEL"
ENV_API_KEY = "VMEVALKIT_VLM_API_KEY"
ENV_CACHE = "VMEVALKIT_VLM_CACHE"

RUBRIC_VERSION = "1"
SUCCESS_RATING = 4  # ratings >= this count as solved, as in the older kit's judges
RATING_KEY = "solution_correctness_score"
RUBRIC = f"""You grade whether a video generation model solved a visual reasoning task.
You receive the task prompt the model was given, then three kinds of images in this order:
1. the first frame the model started from (the task as posed);
2. the expected final frame (the correct solution);
3. the last frame(s) of the video the model generated.
Judge only whether the final state shown in the video reaches the expected solution in every respect
the task asks for. Ignore image quality, blur and style unless they hide the answer.
Rate solution correctness on a 1-5 scale:
5 = the final state matches the expected solution.
4 = mostly correct: the solution is reached, with minor errors that do not change the answer.
3 = partly correct: about half of what the task asks is right.
2 = mostly wrong: little progress toward the solution.
1 = wrong: no progress, the first frame unchanged, or an unrelated scene.
Reply with exactly one JSON object and nothing else:
{{"{RATING_KEY}": <integer 1-5>, "explanation": "<one or two sentences>"}}"""

SCRUB_WINDOW = 1 << 16  # bytes of an error body read and scrubbed before it is cut short for a message
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
CONFIG_STATUS = {401: "the endpoint refused the API key; set " + ENV_API_KEY,
                 403: "the API key is not allowed to use this model; check " + ENV_API_KEY,
                 404: "no such endpoint or model; check the base URL (up to /v1) and the model name"}


class JudgeFailure(Exception):
    """One attempt got no usable rating; `retry` says whether another attempt may do better."""

    def __init__(self, message: str, retry: bool = True, wait: float | None = None):
        super().__init__(message)
        self.retry = retry
        self.wait = wait


class MalformedAnswer(JudgeFailure):
    """The judge answered, but not with a usable rating."""


class EndpointError(UserError):
    """The endpoint is misconfigured (bad URL, model or key): every further item would fail too."""


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get(ENV_CACHE) or Path(root) / "vmevalkit" / "vlm")


@dataclass(frozen=True)
class VLMConfig:
    """Where and how to ask the judge. `api_key` is kept out of repr() and never written anywhere."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    frames: int = 1  # how many of the video's last frames to send
    max_side: int = 1024  # images are downscaled so that their longest side is at most this
    max_tokens: int = 512
    timeout: float = 120.0
    attempts: int = 4
    backoff: float = 2.0  # seconds before the first retry, doubled for each further one
    cache_dir: Path | None = None

    @classmethod
    def from_options(cls, base_url: str | None = None, model: str | None = None, api_key: str | None = None,
                     **options: Any) -> "VLMConfig":
        """Fill unset base URL, model and key from VMEVALKIT_VLM_* variables; complain clearly if missing."""
        base_url = base_url or os.environ.get(ENV_BASE_URL)
        model = model or os.environ.get(ENV_MODEL)
        api_key = api_key or os.environ.get(ENV_API_KEY) or None
        if not base_url:
            raise UserError(f"the VLM judge needs an endpoint: pass --vlm-base-url URL or set {ENV_BASE_URL} "
                            "(e.g. http://127.0.0.1:8000/v1 for a local vLLM server)")
        if not model:
            raise UserError(f"the VLM judge needs a model name: pass --vlm-model NAME or set {ENV_MODEL}")
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise UserError(f"VLM base URL {base_url!r} must start with http:// or https://")
        if options.get("frames", 1) < 1:
            raise UserError("--vlm-frames must be at least 1")
        timeout = options.get("timeout", 1.0)
        if not (timeout > 0 and math.isfinite(timeout)):
            raise UserError(f"--vlm-timeout must be a number of seconds above 0, got {timeout}")
        return cls(base_url=base_url, model=model, api_key=api_key,
                   **{k: v for k, v in options.items() if v is not None})

    @property
    def endpoint(self) -> str:
        url = self.base_url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"

    @property
    def public_endpoint(self) -> str:
        """The endpoint with any user:password@ removed, safe to record."""
        parts = urllib.parse.urlsplit(self.endpoint)
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def png_data_url(image: Image.Image, max_side: int) -> tuple[str, str]:
    """The image as a PNG data URL (downscaled to `max_side`) and the sha256 of the PNG bytes."""
    image = image.convert("RGB")
    scale = max_side / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    data = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), hashlib.sha256(data).hexdigest()


def _json_candidates(text: str) -> list[str]:
    fenced = re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.S | re.I)
    braces = re.findall(r"\{[^{}]*\}", text)
    return [text.strip(), *fenced, *braces]


def _as_rating(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedAnswer(f"rating {value!r} is not a number")
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.0+)?)\s*(?:/\s*5)?\s*", value)
        if not match:
            raise MalformedAnswer(f"rating {value!r} is not a number")
        value = float(match.group(1))
    if not isinstance(value, (int, float)) or value != int(value) or not 1 <= value <= 5:
        raise MalformedAnswer(f"rating {value!r} is not an integer from 1 to 5")
    return int(value)


def _cached_answer(path: Path) -> tuple[int, str] | None:
    """(rating, explanation) stored in a cache entry; None when it is missing or broken (then the judge is
    asked again and the entry overwritten)."""
    answer = json_object_or_none(path)
    if answer is None:
        return None
    rating, explanation = answer.get("rating"), answer.get("explanation")
    valid = type(rating) is int and 1 <= rating <= 5 and isinstance(explanation, str)
    return (rating, explanation) if valid else None


def parse_rating(content: str) -> tuple[int, str]:
    """(rating 1-5, explanation) from a judge's reply: a JSON object, possibly fenced or in prose."""
    for candidate in _json_candidates(content):
        try:
            obj = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and RATING_KEY in obj:
            return _as_rating(obj[RATING_KEY]), str(obj.get("explanation", ""))
    match = re.search(rf'"?{RATING_KEY}"?\s*[:=]\s*"?([0-9]+)\b', content)
    if match:
        return _as_rating(match.group(1)), ""
    raise MalformedAnswer(f"no {RATING_KEY} in the reply: {content[:200]!r}")


def _reply_text(response: Any) -> str:
    try:
        content = response["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as e:
        raise MalformedAnswer(f"not a chat-completions response ({type(e).__name__}: {e})") from e
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        raise MalformedAnswer("empty reply")
    return content


class VLMJudge:
    """Asks a VLM to rate one video against the expected final frame; see the module docstring."""

    version = RUBRIC_VERSION
    retry_errors = True  # an error here is a failed request, worth retrying on the next run

    def __init__(self, config: VLMConfig, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.name = f"vlm:{config.model}"
        self.last_frames = config.frames
        self.cache_dir = config.cache_dir or default_cache_dir()
        self._sleep = sleep
        register_secret(config.api_key)

    def request(self, question: Question, video: Video) -> tuple[dict[str, Any], str]:
        """The chat-completions payload for one item, and its cache key."""
        if question.final_frame is None:
            raise UserError(f"question {question.key} has no final_frame.png; the judge compares against it")
        c = self.config
        first, first_sha = png_data_url(question.first_frame, c.max_side)
        expected, expected_sha = png_data_url(question.final_frame, c.max_side)
        shown = [png_data_url(video.frame(i), c.max_side) for i in range(max(0, video.num_frames - c.frames),
                                                                       video.num_frames)]
        task = question.metadata.get("task") or question.domain
        content: list[dict[str, Any]] = [
            {"type": "text", "text": f"Task: {task}\nPrompt given to the model: {question.prompt}\n\n1. First frame:"},
            {"type": "image_url", "image_url": {"url": first}},
            {"type": "text", "text": "2. Expected final frame:"},
            {"type": "image_url", "image_url": {"url": expected}},
            {"type": "text", "text": f"3. Last {len(shown)} frame(s) of the generated video, in order:"},
            *({"type": "image_url", "image_url": {"url": url}} for url, _ in shown),
            {"type": "text", "text": "Rate the video now."},
        ]
        payload = {"model": c.model, "temperature": 0, "max_tokens": c.max_tokens,
                   "messages": [{"role": "system", "content": RUBRIC}, {"role": "user", "content": content}]}
        key_material = {"rubric": RUBRIC_VERSION, "model": c.model, "prompt": question.prompt, "task": task,
                        "images": [first_sha, expected_sha, *(sha for _, sha in shown)], "max_tokens": c.max_tokens}
        return payload, hashlib.sha256(json.dumps(key_material, sort_keys=True).encode()).hexdigest()

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        req = urllib.request.Request(self.config.endpoint, data=json.dumps(payload).encode(), headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.config.timeout) as resp:
                body = resp.read(limits.REPLY_BYTES.value + 1)
        except urllib.error.HTTPError as e:
            detail = scrub(e.read(SCRUB_WINDOW).decode("utf-8", "replace"))[:500]  # scrubbed whole, then cut
            message = f"HTTP {e.code} from {self.config.public_endpoint}: {detail}"
            if e.code in CONFIG_STATUS:
                raise EndpointError(f"{message}\n{CONFIG_STATUS[e.code]}") from None
            if e.code in RETRY_STATUS:
                retry_after = e.headers.get("Retry-After", "")
                raise JudgeFailure(message, wait=float(retry_after) if retry_after.isdigit() else None) from None
            raise JudgeFailure(message, retry=False) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            raise JudgeFailure(f"{self.config.public_endpoint} unreachable: {scrub(str(e))}") from None
        if len(body) > limits.REPLY_BYTES.value:
            raise JudgeFailure(f"the reply from {self.config.public_endpoint} is over {limits.REPLY_BYTES.value:,} "
                               f"bytes; check the endpoint, or raise the limit with {limits.REPLY_BYTES.env}",
                               retry=False)
        try:
            return json.loads(body)
        except json.JSONDecodeError as e:
            snippet = scrub(body[:SCRUB_WINDOW].decode("utf-8", "replace"))[:200]
            raise MalformedAnswer(f"reply is not JSON ({e}): {snippet!r}") from None

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def score(self, question: Question, video: Video) -> Score:
        payload, key = self.request(question, video)
        details: dict[str, Any] = {"judge_model": self.config.model, "endpoint": self.config.public_endpoint,
                                   "rubric_version": RUBRIC_VERSION, "frames_sent": min(self.config.frames,
                                                                                        video.num_frames)}
        cached = self._cache_path(key)
        answer = _cached_answer(cached)
        if answer is not None:
            return self._verdict(*answer, {**details, "cached": True})
        errors: list[str] = []
        for attempt in range(self.config.attempts):
            if attempt:
                self._sleep(self.config.backoff * 2 ** (attempt - 1))
            try:
                content = scrub(_reply_text(self._post(payload)))
                rating, explanation = parse_rating(content)
            except JudgeFailure as e:
                errors.append(scrub(str(e)))
                if not e.retry:
                    break
                if e.wait:
                    self._sleep(min(e.wait, 60.0))
                continue
            write_json(cached, {"rating": rating, "explanation": explanation, "reply": content,
                                "judge_model": self.config.model, "rubric_version": RUBRIC_VERSION,
                                "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            return self._verdict(rating, explanation, {**details, "cached": False, "attempts": attempt + 1})
        return Score(self.name, RUBRIC_VERSION, None, details={**details, "attempts": len(errors)},
                     error=f"no usable answer after {len(errors)} attempts; last: {errors[-1]}")

    def _verdict(self, rating: int, explanation: str, details: dict[str, Any]) -> Score:
        return Score(self.name, RUBRIC_VERSION, rating >= SUCCESS_RATING, (rating - 1) / 4,
                     details={**details, "rating": rating, "explanation": explanation})
