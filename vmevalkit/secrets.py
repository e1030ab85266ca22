"""Secret scrubbing: the one mechanism that keeps API keys and Authorization values out of every file and log.

Every secret the kit handles is registered here (`register_secret`), and the values of the environment
variables in `SECRET_ENV_VARS` are registered on first use. `scrub` replaces each registered value, and any
value that follows an `Authorization` / `api-key` header, a `Bearer` / `Key` token word or a `key=` URL
parameter, with `[REDACTED]`. The kit's text writers (vmevalkit.atomic) and its console errors pass through
`scrub`, so a provider that echoes a key in a reply or an error body cannot get it written anywhere."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words; no real key is this short
# The API keys the kit or its providers' SDKs read from the environment.
SECRET_ENV_VARS = ("VMEVALKIT_VLM_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "KLING_ACCESS_KEY",
                   "KLING_SECRET_KEY", "RUNWAYML_API_SECRET", "LUMAAI_API_KEY", "FAL_KEY", "WAVESPEED_API_KEY",
                   "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

_lock = threading.Lock()
_secrets: set[str] = set()
_env_seen: dict[str, str] = {}

# Values that follow a credential's name: `Authorization: Bearer x`, `"x-api-key": "x"`, `?key=x`, `Key x`.
_PATTERNS = (
    re.compile(r"""(?i)((?:authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|x-key)"""
               r"""["']?\s*[:=]\s*["']?)((?:bearer|basic|key|token)\s+)?([^\s"',;}]+)"""),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"(?i)([?&](?:key|api_key|apikey|access_token|token)=)([^&\s\"'#]+)"),
)


def register_secret(value: str | None) -> None:
    """Remember `value` (an API key, a token) so that `scrub` removes it from any text; short values are ignored."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def _register_environment() -> None:
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value and _env_seen.get(name) != value:
            _env_seen[name] = value
            register_secret(value)


def _redact_match(match: re.Match) -> str:
    groups = match.groups()
    return "".join(g or "" for g in groups[:-1]) + REDACTED


def scrub(text: str) -> str:
    """`text` with every registered secret and every credential value replaced by [REDACTED]."""
    _register_environment()
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_redact_match, text)
    return text


def scrub_value(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)) if isinstance(k, str) else k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v) for v in value]
    return value
