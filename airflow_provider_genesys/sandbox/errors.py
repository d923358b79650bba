"""Genesys-shaped API errors: one exception type, rendered as the real error body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ApiError",
    "bad_field",
    "bad_request",
    "error_body",
    "missing_permission",
    "not_found",
    "result_too_large",
    "too_many_requests",
    "unauthorized",
]


class ApiError(Exception):
    """An error the sandbox answers with a Genesys error body and the given status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Mapping[str, str]] = (),
        message_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [dict(d) for d in details]
        self.message_params = dict(message_params) if message_params else None
        self.headers = dict(headers) if headers else {}


def error_body(error: ApiError, correlation_id: str) -> dict[str, Any]:
    """The JSON body Genesys sends for ``error``; ``contextId`` equals the correlation id."""
    body: dict[str, Any] = {
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "contextId": correlation_id,
        "details": error.details,
        "errors": [],
    }
    if error.message_params:
        body["messageParams"] = error.message_params
    return body


def bad_request(message: str, code: str = "bad.request") -> ApiError:
    """A plain 400 without a field."""
    return ApiError(400, code, message)


def bad_field(
    field: str, message: str, *, code: str = "bad.request", error_code: str = "invalid.value"
) -> ApiError:
    """A 400 naming the offending body field in ``details``."""
    return ApiError(400, code, message, details=[{"fieldName": field, "errorCode": error_code}])


def unauthorized(code: str, message: str) -> ApiError:
    """A 401 (``authentication.required`` or ``credentials.expired``)."""
    return ApiError(401, code, message)


def missing_permission(permission: str) -> ApiError:
    """The 403 Genesys sends when the OAuth client's roles lack ``permission``."""
    listed = f"[{permission}]"
    return ApiError(
        403,
        "missing.any.permissions",
        f"You must have at least one of the following permissions assigned: {listed}",
        message_params={"permissions": listed},
    )


def not_found(message: str) -> ApiError:
    """A 404 ``not.found``."""
    return ApiError(404, "not.found", message)


def too_many_requests(retry_after: int, header: str | None) -> ApiError:
    """The 429 Genesys sends since 2021; ``header`` is the ``Retry-After`` value (None omits it)."""
    return ApiError(
        429,
        "too.many.requests.retry.after",
        f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
        message_params={"retryAfter": str(retry_after)},
        headers={"Retry-After": header} if header is not None else None,
    )


def result_too_large(cap: int) -> ApiError:
    """The 400 Genesys sends when a query would return more than its result limit."""
    return bad_request(
        f"Result set is larger than result limit of {cap}. Use a smaller interval or a more specific filter."
    )
