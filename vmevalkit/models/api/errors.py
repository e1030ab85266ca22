"""The failure kinds of hosted models, carried by one exception class whose message is already scrubbed."""

from __future__ import annotations

import re

from vmevalkit.errors import UserError
from vmevalkit.secrets import scrub

REFUSED = "refused"  # content policy / moderation: the model declined; counts as wrong
TIMEOUT = "timeout"  # the poll limit passed; the job may still finish: a rerun polls it again
PROVIDER_ERROR = "provider_error"  # 5xx after retries, a failed job, a broken reply: retryable
INVALID_REQUEST = "invalid_request"  # 4xx: the kit sent something the provider cannot use
AUTH = "auth"  # missing, invalid or unfunded key: no further request is sent for that model
KINDS = (REFUSED, TIMEOUT, PROVIDER_ERROR, INVALID_REQUEST, AUTH)
RETRYABLE_KINDS = frozenset({TIMEOUT, PROVIDER_ERROR})
MAX_DETAIL = 400  # characters of a provider's own message kept in an error
# Words providers use when a job failed because its content was refused (for those with no machine code).
_REFUSAL_WORDS = re.compile(r"(?i)safety|moderat|content[ _-]?polic|policy[ _-]?violation|usage guidelines|"
                            r"responsible ai|nsfw|risk control|sensitive content|prohibited content|flagged")


def looks_like_refusal(text: object) -> bool:
    """True when a provider's failure message says the content was refused (moderation, safety, policy)."""
    return bool(_REFUSAL_WORDS.search(str(text or "")))


def clip(text: object, limit: int = MAX_DETAIL) -> str:
    """A provider's message on one line, scrubbed and cut to `limit` characters."""
    line = " ".join(str(text).split())
    return scrub(line if len(line) <= limit else line[: limit - 1] + "…")


class HostedError(UserError):
    """A hosted model's call failed; `kind` is one of KINDS. `ambiguous` is True when a create request may
    have reached the provider although no job id came back (a rerun then records a possible duplicate)."""

    def __init__(self, kind: str, message: str, *, ambiguous: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; use one of {', '.join(KINDS)}")
        super().__init__(scrub(f"{message} [{kind}]"))
        self.kind = kind
        self.ambiguous = ambiguous

    @property
    def retryable(self) -> bool:
        """True for kinds a rerun may fix without any change (timeout, provider_error)."""
        return self.kind in RETRYABLE_KINDS
