"""Typed errors built from Genesys error bodies: one mapping, messages that say what to do.

Every error that reaches a caller carries the data needed to act on it (status, Genesys
``code``, ``ININ-Correlation-Id``, the permission to grant, the field to fix, the
``Retry-After`` the server asked for) instead of a string to pattern-match. None of
them ever holds a token or a client secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "RESULT_CAP_PATTERN",
    "GenesysAPIError",
    "GenesysAuthError",
    "GenesysBadRequestError",
    "GenesysConfigError",
    "GenesysDataNotAvailableError",
    "GenesysError",
    "GenesysJobError",
    "GenesysNotFoundError",
    "GenesysPermissionError",
    "GenesysRateLimitError",
    "GenesysResultCapError",
    "GenesysServerError",
    "GenesysTransportError",
    "error_from_response",
]

#: How a "result set too large" answer is recognised (the exact code is UNVERIFIED;
#: the message text is what users report). Overridable per engine.
RESULT_CAP_PATTERN = r"(?i)result set is larger than result limit"

_PERMISSION_RE = re.compile(r"[A-Za-z]+:[A-Za-z]+:[A-Za-z*]+")


class GenesysError(Exception):
    """Base class of every error raised by this provider."""


class GenesysConfigError(GenesysError, ValueError):
    """Bad input or configuration, raised before any request; names the field and the fix."""

    def __init__(self, field: str, problem: str, fix: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        text = f"{field}: {problem}"
        if fix:
            text += f" ({fix})"
        super().__init__(text)


class GenesysAPIError(GenesysError):
    """An API call failed for good; carries what the server said and how long we tried."""

    advice = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        details: list[dict[str, Any]] | None = None,
        attempts: int = 1,
        waited: float = 0.0,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        self.details = details or []
        self.attempts = attempts
        self.waited = waited
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method else "Genesys Cloud request"
        parts = [f"{where} failed"]
        if self.status is not None:
            parts.append(f"with HTTP {self.status}")
        if self.code:
            parts.append(f"({self.code})")
        text = " ".join(parts) + f": {self.message}"
        if self.advice:
            text += f". {self.advice}"
        extras = [f"attempts={self.attempts}", f"waited={self.waited:.1f}s"]
        if self.correlation_id:
            extras.append(f"correlation_id={self.correlation_id}")
        return text + " [" + ", ".join(extras) + "]"


class GenesysAuthError(GenesysAPIError):
    """The OAuth client could not authenticate (bad credentials, revoked or expired token)."""

    advice = "Check the connection's client id and secret and the region or host they belong to"


class GenesysPermissionError(GenesysAPIError):
    """The OAuth client lacks a permission; ``permissions`` lists what to grant."""

    def __init__(self, message: str, *, permissions: list[str] | None = None, **kwargs: Any) -> None:
        self.permissions = permissions or []
        super().__init__(message, **kwargs)

    @property
    def advice(self) -> str:  # type: ignore[override]
        if self.permissions:
            return "Grant the OAuth client's role " + " or ".join(self.permissions)
        return "Grant the OAuth client's role the permission named above"


class GenesysBadRequestError(GenesysAPIError):
    """The request was rejected as invalid; ``field_names`` lists the fields Genesys named."""

    @property
    def field_names(self) -> list[str]:
        return [str(d["fieldName"]) for d in self.details if d.get("fieldName")]

    @property
    def advice(self) -> str:  # type: ignore[override]
        if self.field_names:
            return "Fix the query field(s): " + ", ".join(self.field_names)
        return "Fix the query; it is not retried"


class GenesysResultCapError(GenesysBadRequestError):
    """The result set is larger than Genesys returns for one query: use a shorter interval."""

    advice = "Use a shorter chunk, a coarser granularity or a narrower filter"


class GenesysNotFoundError(GenesysAPIError):
    """The resource (for example an async job) does not exist or has expired."""


class GenesysRateLimitError(GenesysAPIError):
    """Still rate limited when the attempts or the deadline ran out, or asked to wait longer than
    ``max_retry_wait``; ``retry_after`` is the server's wait in seconds (or what remained of it)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    @property
    def advice(self) -> str:  # type: ignore[override]
        if self.retry_after is not None:
            return (
                f"The server asked to wait {self.retry_after:g}s; raise max_retry_wait or lower "
                "requests_per_minute"
            )
        return "Lower requests_per_minute or max_concurrency"


class GenesysServerError(GenesysAPIError):
    """Genesys answered with a 5xx (or an unreadable body) until the retry budget ran out."""

    advice = "Genesys Cloud is failing; the task can be retried later"


class GenesysTransportError(GenesysAPIError):
    """No usable answer: timeout, refused or dropped connection."""

    advice = "Check network access to Genesys Cloud, or raise timeout"


class GenesysJobError(GenesysError):
    """An async details job ended FAILED, CANCELLED or EXPIRED."""

    def __init__(self, job_id: str, state: str, error_message: str | None) -> None:
        self.job_id = job_id
        self.state = state
        self.error_message = error_message
        super().__init__(f"Analytics job {job_id} ended {state}: {error_message or 'no errorMessage given'}")


class GenesysDataNotAvailableError(GenesysError):
    """The interval ends after Genesys's ``dataAvailabilityDate``: data may still be incomplete."""


def _permissions_from(body: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    params = body.get("messageParams")
    if isinstance(params, Mapping):
        for value in params.values():
            found.extend(_PERMISSION_RE.findall(str(value)))
    found.extend(_PERMISSION_RE.findall(str(body.get("message", ""))))
    return list(dict.fromkeys(found))


def error_from_response(
    status: int,
    body: Any,
    *,
    correlation_id: str | None = None,
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
    result_cap_pattern: str = RESULT_CAP_PATTERN,
    attempts: int = 1,
    waited: float = 0.0,
) -> GenesysAPIError:
    """Turn one HTTP error answer into the matching typed error (the one error mapping)."""
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    message = str(data.get("message") or data.get("error_description") or "") or _fallback_message(
        status, body
    )
    code = data.get("code") or data.get("error")
    details = [d for d in data.get("details") or [] if isinstance(d, dict)]
    common: dict[str, Any] = {
        "status": status,
        "code": str(code) if code else None,
        "correlation_id": correlation_id or data.get("contextId"),
        "method": method,
        "path": path,
        "details": details,
        "attempts": attempts,
        "waited": waited,
    }
    if status == 429:
        return GenesysRateLimitError(message, retry_after=retry_after, **common)
    if status == 401 or code in ("invalid_client", "bad.credentials", "credentials.expired"):
        return GenesysAuthError(message, **common)
    if status == 403:
        return GenesysPermissionError(message, permissions=_permissions_from(data), **common)
    if status == 404:
        return GenesysNotFoundError(message, **common)
    if status >= 500 or status < 400:
        return GenesysServerError(message, **common)
    if re.search(result_cap_pattern, message):
        return GenesysResultCapError(message, **common)
    return GenesysBadRequestError(message, **common)


def _fallback_message(status: int, body: Any) -> str:
    if isinstance(body, str) and body.strip():
        snippet = " ".join(body.split())[:200]
        return f"unexpected non-JSON answer: {snippet!r}"
    return f"HTTP {status} with no error message"
