"""The one retry policy: what is retried, how long to wait, and when to give up.

The engine runs its retry loop with tenacity; this module decides. Rules:
429 → wait the shared ``Retry-After`` (3 s when missing, doubled on repeats); 5xx,
timeouts and connection errors → exponential backoff with full jitter, or the
``Retry-After`` when given; 401 → one token refresh and one replay (the engine);
other 4xx → never. A non-idempotent call (creating a job) is retried only when it
provably never reached the server: the connection was refused or never opened, or
the server answered 429/503, which it does before processing.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass

import httpx

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryDecision",
    "backoff_delay",
    "decide_exception",
    "decide_status",
    "parse_retry_after",
]

#: Statuses retried for idempotent calls.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Statuses Genesys answers before processing a request: safe to retry any call.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})
#: Transport errors raised before a single byte of the request left this process.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryDecision:
    """Whether to retry one failed attempt, why, and what the server asked for."""

    retry: bool
    cause: str
    retry_after: float | None = None
    reason: str = ""


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, base: float, maximum: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(maximum, base × 2^(attempt-1))]."""
    ceiling = min(maximum, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def decide_status(status: int, retry_after: float | None, *, idempotent: bool) -> RetryDecision:
    """Decide on an HTTP error status (401 is handled by the engine before this)."""
    if status not in RETRYABLE_STATUSES:
        return RetryDecision(False, "client_error" if status < 500 else "server_error")
    cause = "429" if status == 429 else "5xx"
    if not idempotent and status not in _NOT_PROCESSED_STATUSES:
        return RetryDecision(
            False,
            cause,
            retry_after,
            f"HTTP {status} may have been answered after the server processed the call",
        )
    return RetryDecision(True, cause, retry_after)


def decide_exception(exc: httpx.HTTPError, *, idempotent: bool) -> RetryDecision:
    """Decide on a transport error: timeouts and connection errors are retried when safe."""
    cause = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
    if isinstance(exc, _NEVER_SENT):
        return RetryDecision(True, cause)
    if not idempotent:
        return RetryDecision(
            False, cause, None, "the request may have reached the server, so it is not sent again"
        )
    if isinstance(exc, httpx.TransportError):
        return RetryDecision(True, cause)
    return RetryDecision(False, cause)
