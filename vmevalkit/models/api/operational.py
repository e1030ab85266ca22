"""The settings of every hosted model that change how it is asked, not what it makes: they are not part of a
job's key, so changing them never pays for a job again. Kept free of HTTP code so the catalog can import it."""

from __future__ import annotations

from typing import Any

OPERATIONAL_DEFAULTS: dict[str, Any] = {
    "concurrency": 4,  # jobs in flight at once (the runner may call generate from this many threads)
    "poll_interval": 10.0,  # seconds between status requests
    "poll_timeout": 1800.0,  # seconds one call polls before giving up with `timeout` (a rerun polls again)
    "retries": 4,  # resends of one request after 429 / 5xx / network errors
    "retry_backoff": 2.0,  # seconds before the first resend, doubled each time (with jitter)
    "rate_limit": 2.0,  # requests per second to the provider, shared by all its models in the process
    "request_timeout": 120.0,  # seconds one HTTP request may take
}


def operational_problems(settings: dict[str, Any]) -> list[str]:
    """What is wrong with the operational settings (concurrency and retries whole, the rest positive)."""
    problems = []
    for key in ("concurrency", "retries"):
        value = settings.get(key, OPERATIONAL_DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "concurrency" else 0):
            problems.append(f"{key} must be a whole number >= {1 if key == 'concurrency' else 0} (got {value!r})")
    for key in ("poll_interval", "poll_timeout", "rate_limit", "request_timeout", "retry_backoff"):
        value = settings.get(key, OPERATIONAL_DEFAULTS[key])
        smallest_ok = 0 if key == "retry_backoff" else 1e-9
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < smallest_ok:
            unit = "requests per second" if key == "rate_limit" else "seconds"
            problems.append(f"{key} must be a {'non-negative' if key == 'retry_backoff' else 'positive'} number of "
                            f"{unit} (got {value!r})")
    return problems

