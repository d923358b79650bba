"""HTTP responses: compact JSON with the correlation id, error bodies, and the two broken ones.

``nonjson`` answers a 502 HTML page, as a gateway in front of Genesys would.
``drop`` sends the status line, headers (announcing a longer body) and a first
chunk, then raises :class:`DroppedConnectionError`; uvicorn logs the exception (the
sandbox's log filter hides it) and closes the socket, so a client sees a
truncated body: ``httpx.RemoteProtocolError`` over a real socket. In-process,
``httpx.ASGITransport`` re-raises the exception itself instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .errors import ApiError, error_body
from .faults import DroppedConnectionError

__all__ = [
    "CORRELATION_HEADER",
    "DroppedResponse",
    "error_response",
    "json_response",
    "new_correlation_id",
    "nonjson_response",
]

CORRELATION_HEADER = "ININ-Correlation-Id"
_DROPPED_HEAD = b'{"conversations":[{"conversationId":"'
_DROPPED_LENGTH = 4096


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def json_response(
    status: int, body: object | None, correlation_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A compact JSON response (no body for ``None``, e.g. 204), tagged with the correlation id."""
    all_headers = {CORRELATION_HEADER: correlation_id, **(headers or {})}
    if body is None:
        return Response(status_code=status, headers=all_headers)
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, headers=all_headers, media_type="application/json")


def error_response(error: ApiError, correlation_id: str) -> Response:
    """The Genesys error body for ``error``, with its headers (``Retry-After``)."""
    return json_response(error.status, error_body(error, correlation_id), correlation_id, error.headers)


def nonjson_response(correlation_id: str) -> Response:
    """The ``nonjson`` fault: a gateway's HTML error page."""
    headers = {CORRELATION_HEADER: correlation_id}
    return Response(b"<html>Bad gateway</html>", status_code=502, headers=headers, media_type="text/html")


class DroppedResponse(Response):
    """The ``drop`` fault: a 200 whose body stops part-way and whose connection is then aborted."""

    def __init__(self, correlation_id: str) -> None:
        super().__init__(status_code=200, media_type="application/json")
        self.correlation_id = correlation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(_DROPPED_LENGTH).encode()),
            (CORRELATION_HEADER.lower().encode(), self.correlation_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": _DROPPED_HEAD, "more_body": True})
        raise DroppedConnectionError("sandbox fault 'drop': connection aborted mid-body")
