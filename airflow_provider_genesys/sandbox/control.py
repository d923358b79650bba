"""``/sandbox/*``: ground truth and test control. Not Genesys endpoints; no auth, not counted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, bad_request
from .responses import error_response, json_response, new_correlation_id
from .state import Sandbox
from .timefmt import parse_instant
from .validate import parse_json_body

__all__ = ["control_routes"]

Control = Callable[[Sandbox, Request], Awaitable[Any]]


def _route(path: str, method: str, action: Control) -> Route:
    async def endpoint(request: Request) -> Response:
        correlation_id = new_correlation_id()
        try:
            body = await action(request.app.state.sandbox, request)
        except ApiError as error:
            return error_response(error, correlation_id)
        except ValueError as exc:
            return error_response(bad_request(str(exc)), correlation_id)
        return json_response(200, body, correlation_id)

    return Route(path, endpoint, methods=[method])


async def _truth(sandbox: Sandbox, request: Request) -> Any:
    params = request.query_params
    if "start" not in params or "end" not in params:
        raise ValueError("start and end query parameters are required (ISO-8601 with offset)")
    return sandbox.truth(parse_instant(params["start"]), parse_instant(params["end"]))


async def _reset(sandbox: Sandbox, request: Request) -> Any:
    sandbox.reset()
    return {"reset": True}


async def _revoke(sandbox: Sandbox, request: Request) -> Any:
    return {"revoked": sandbox.revoke(request.query_params.get("client_id"))}


async def _stats(sandbox: Sandbox, request: Request) -> Any:
    return sandbox.stats()


async def _faults(sandbox: Sandbox, request: Request) -> Any:
    body = await _object(request)
    kind, count = body.get("kind"), body.get("count", 1)
    endpoint, retry_after = body.get("endpoint"), body.get("retry_after")
    if not isinstance(kind, str) or not isinstance(count, int):
        raise ValueError("kind (string) is required; count must be an integer")
    if endpoint is not None and not isinstance(endpoint, str):
        raise ValueError("endpoint must be a string")
    if retry_after is not None and not isinstance(retry_after, int):
        raise ValueError("retry_after must be an integer")
    fmt = body.get("retry_after_format", "seconds")
    if not isinstance(fmt, str):
        raise ValueError("retry_after_format must be a string")
    sandbox.inject_fault(kind, count, endpoint, retry_after, retry_after_format=fmt)
    return {
        "injected": {**body, "count": count, "retry_after_format": fmt},
        "pending": sandbox.faults.pending,
    }


async def _job_state(sandbox: Sandbox, request: Request) -> Any:
    body = await _object(request)
    state, message = body.get("state"), body.get("errorMessage")
    if not isinstance(state, str) or (message is not None and not isinstance(message, str)):
        raise ValueError("state (string) is required; errorMessage must be a string")
    return sandbox.set_job_state(str(request.path_params["jobId"]), state, message)


async def _object(request: Request) -> dict[str, Any]:
    body = parse_json_body(await request.body())
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def control_routes() -> list[Route]:
    """The ``/sandbox`` routes."""
    return [
        _route("/sandbox/truth", "GET", _truth),
        _route("/sandbox/reset", "POST", _reset),
        _route("/sandbox/revoke", "POST", _revoke),
        _route("/sandbox/stats", "GET", _stats),
        _route("/sandbox/faults", "POST", _faults),
        _route("/sandbox/jobs/{jobId}/state", "POST", _job_state),
    ]
