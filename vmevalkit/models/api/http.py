"""The one HTTP layer of the hosted models: retries, Retry-After, a per-provider rate limit, failure kinds.

Retry policy: a request that got 429, 408, 425 or a 5xx, a network error, or (for reads) a 2xx whose body is
not JSON, is sent again after `backoff * 2**(attempt-1)` seconds (capped at `max_backoff`) times a random
factor in [0.5, 1.0], or after the server's Retry-After / retry-after-ms when it gives one. A create request
(`idempotent=False`) is resent only when the provider cannot have acted on it: a connection that never
opened, 429 or 503; otherwise the error is raised with `ambiguous=True` so the ledger can record that a job
may exist. Authorization headers go only to URLs under the provider's base URL, never to a CDN."""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import random
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from vmevalkit.models.api.errors import AUTH, INVALID_REQUEST, PROVIDER_ERROR, HostedError, clip
from vmevalkit.secrets import scrub

log = logging.getLogger("vmevalkit.hosted")

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
SAFE_TO_RESEND = frozenset({429, 503})  # the provider did not act on the request
# classify(status, body) -> (kind or None, message) or None. kind None: the default rules decide (and may retry).
Classifier = Callable[[int, Any], "tuple[str | None, str] | None"]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 2.0  # seconds before the first retry
    max_backoff: float = 60.0
    max_retry_after: float = 600.0  # a longer Retry-After is an error, not a wait

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), with jitter."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait a reply asks for: retry-after-ms, or Retry-After in seconds or as an HTTP date."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RateLimiter:
    """At most `rate` requests per second, shared by every thread that holds it."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def tighten(self, rate: float) -> None:
        if rate > 0:
            self.interval = max(self.interval, 1.0 / rate)

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(provider: str, rate: float) -> RateLimiter:
    """The process-wide limiter of a provider (every model of it shares one); the strictest rate asked wins."""
    with _limiters_lock:
        limiter = _limiters.get(provider)
        if limiter is None:
            limiter = _limiters[provider] = RateLimiter(rate)
        else:
            limiter.tighten(rate)
        return limiter


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client (loading the CA bundle takes a noticeable moment)."""
    return httpx.create_ssl_context()


def public_url(url: str) -> str:
    """`url` without user:password@, query or fragment: safe to record."""
    parts = urllib.parse.urlsplit(url)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def error_message(body: Any) -> str:
    """The human part of an error body: error.message, message, detail, error, else the text."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and inner.get("message"):
            return clip(inner["message"])
        for field in ("message", "detail", "error", "failure", "msg"):
            if body.get(field):
                value = body[field]
                return clip(value if isinstance(value, str) else json.dumps(value))
        return clip(json.dumps(body))
    return clip(body) if body else "(empty reply)"


def default_kind(status: int, not_found: str) -> str:
    if status in (401, 403):
        return AUTH
    if status == 404:
        return not_found
    if 400 <= status < 500 and status not in (408, 425, 429):
        return INVALID_REQUEST
    return PROVIDER_ERROR


class HTTPClient:
    """One provider's HTTP client: `base_url`, the key in `auth()` headers, one policy, one limiter."""

    def __init__(self, provider: str, base_url: str, *, auth: Callable[[], dict[str, str]],
                 policy: RetryPolicy, limiter: RateLimiter, timeout: float, classify: Classifier | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.policy = policy
        self.limiter = limiter
        self.classify = classify
        self._client = httpx.Client(timeout=timeout, headers=dict(headers or {}), follow_redirects=True,
                                    verify=_ssl_context())

    def url(self, path: str) -> str:
        """An absolute URL: `path` joined to the base URL (absolute URLs are kept)."""
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def rebase(self, url: str) -> str:
        """`url`'s path and query under this client's base URL: for URLs a provider returns for its own API
        (so that a proxy or test server set by VMEVALKIT_<PROVIDER>_BASE_URL stays in the loop)."""
        parts = urllib.parse.urlsplit(url)
        base_path = urllib.parse.urlsplit(self.base_url).path.rstrip("/")
        path = parts.path[len(base_path):] if base_path and parts.path.startswith(base_path + "/") else parts.path
        return self.url(path) + (f"?{parts.query}" if parts.query else "")

    def json(self, method: str, path: str, *, idempotent: bool = True, not_found: str = INVALID_REQUEST,
             **kwargs: Any) -> Any:
        """Send a request and return its JSON body; failures raise HostedError (see the module docstring)."""
        return self._send(method, path, idempotent, not_found, True, kwargs)

    def content(self, path: str, *, method: str = "GET", not_found: str = PROVIDER_ERROR, **kwargs: Any) -> bytes:
        """Send an idempotent request (GET a video, PUT an upload) and return the reply's bytes; a 404 is a
        provider_error by default (an expired or missing file)."""
        return self._send(method, path, True, not_found, False, kwargs)

    def _send(self, method: str, path: str, idempotent: bool, not_found: str, want_json: bool,
              kwargs: dict[str, Any]) -> Any:
        url = self.url(path)
        where = f"{self.provider}: {method} {urllib.parse.urlsplit(url).path}"
        headers = dict(kwargs.pop("headers", None) or {})
        if url.startswith(self.base_url + "/") or url == self.base_url:
            headers.update(self.auth())
        attempts = max(1, self.policy.attempts)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            self.limiter.wait()
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as e:
                never_sent = isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout))
                if (idempotent or never_sent) and not last:
                    self._pause(where, f"{type(e).__name__}", self.policy.delay(attempt))
                    continue
                raise HostedError(PROVIDER_ERROR, f"{where}: network error ({type(e).__name__}: {clip(e, 200)}) "
                                  f"after {attempt} attempt(s)", ambiguous=not (idempotent or never_sent)) from None
            status = response.status_code
            if status < 300:
                if not want_json:
                    return response.content
                try:
                    return response.json()
                except ValueError:
                    if idempotent and not last:
                        self._pause(where, "a reply that is not JSON", self.policy.delay(attempt))
                        continue
                    raise HostedError(PROVIDER_ERROR, f"{where}: HTTP {status} but the reply is not JSON: "
                                      f"{clip(response.text, 200)}", ambiguous=not idempotent) from None
            body = _body(response)
            verdict = self.classify(status, body) if self.classify else None
            kind, message = verdict if verdict is not None else (None, error_message(body))
            if kind is None and status in RETRY_STATUS:
                resend = idempotent or status in SAFE_TO_RESEND
                if resend and not last:
                    wait = retry_after(response.headers)
                    if wait is not None and wait > self.policy.max_retry_after:
                        raise HostedError(PROVIDER_ERROR, f"{where}: HTTP {status}, asked to wait {wait:.0f} s: "
                                          f"{message}")
                    self._pause(where, f"HTTP {status}", self.policy.delay(attempt) if wait is None else wait)
                    continue
                raise HostedError(PROVIDER_ERROR, f"{where}: HTTP {status} after {attempt} attempt(s): {message}",
                                  ambiguous=not resend)
            if status == 404 and not want_json:  # a file that is gone, whatever the body says
                kind = not_found
            raise HostedError(kind or default_kind(status, not_found), f"{where}: HTTP {status}: {message}")
        raise AssertionError("unreachable")

    @staticmethod
    def _pause(where: str, why: str, seconds: float) -> None:
        log.info(scrub(f"{where}: {why}; retrying in {seconds:.2f} s"))
        time.sleep(seconds)

    def close(self) -> None:
        self._client.close()


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
