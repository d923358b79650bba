"""The request path of every ``/api/v2`` endpoint: gate, fault responses, latency, handler, stats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .endpoints import Endpoint
from .errors import ApiError
from .gate import Ticket
from .responses import DroppedResponse, error_response, json_response, new_correlation_id, nonjson_response
from .state import Sandbox
from .validate import parse_json_body

__all__ = ["Call", "Handler", "serve_api"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """What a handler gets: the sandbox, the request and its admission ticket."""

    sandbox: Sandbox
    request: Request
    ticket: Ticket

    async def json(self) -> object:
        return parse_json_body(await self.request.body())

    async def stall(self, seconds: float) -> None:
        """Sleep ``seconds`` on the sandbox clock, ending early if the client hangs up (``slow`` fault)."""
        await self.request.body()  # buffered first, so watching for a disconnect cannot swallow it
        sleeper = asyncio.ensure_future(self.sandbox.clock.sleep(seconds))
        watcher = asyncio.ensure_future(_disconnect(self.request))
        try:
            await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            watcher.cancel()

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


Handler = Callable[[Call], Awaitable[tuple[int, Any]]]


async def serve_api(sandbox: Sandbox, request: Request, endpoint: Endpoint, handler: Handler) -> Response:
    """Admit, then answer with a fault or the handler's result; count the status either way."""
    correlation_id = new_correlation_id()
    try:
        ticket = sandbox.gate.admit(request.headers.get("authorization"), endpoint)
    except ApiError as error:
        return _counted(sandbox, endpoint, error_response(error, correlation_id))
    if ticket.fault_is("nonjson"):
        return _counted(sandbox, endpoint, nonjson_response(correlation_id))
    if ticket.fault_is("drop"):
        await request.body()  # consumed first: closing on unread bytes would make it a reset, not a cut
        return _counted(sandbox, endpoint, DroppedResponse(correlation_id))
    try:
        response = await _process(Call(sandbox, request, ticket), handler, correlation_id)
    finally:
        sandbox.gate.release(ticket)
    return _counted(sandbox, endpoint, response)


async def _process(call: Call, handler: Handler, correlation_id: str) -> Response:
    config, clock = call.sandbox.config, call.sandbox.clock
    try:
        if config.latency > 0:
            await clock.sleep(config.latency)
        if call.ticket.fault_is("slow") and not call.ticket.endpoint.slow_after:
            await call.stall(config.slow_seconds)
        status, body = await handler(call)
    except ApiError as error:
        return error_response(error, correlation_id)
    except Exception:
        logger.exception("sandbox handler failed (correlation id %s)", correlation_id)
        failure = ApiError(500, "internal.server.error", "The sandbox failed to handle the request.")
        return error_response(failure, correlation_id)
    return json_response(status, body, correlation_id)


def _counted(sandbox: Sandbox, endpoint: Endpoint, response: Response) -> Response:
    with sandbox.lock:
        sandbox.counters.record(endpoint.name, response.status_code)
    return response
