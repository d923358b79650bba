"""Handlers of the analytics endpoints and the OAuth token endpoint."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .aggregate import AggregateEntity, parse_aggregate_query, run_aggregate_query
from .api import Call, Handler
from .details import run_details_query
from .endpoints import TOKEN
from .errors import bad_field
from .responses import json_response, new_correlation_id
from .state import Sandbox

__all__ = [
    "aggregates_handler",
    "details",
    "jobs_availability",
    "jobs_create",
    "jobs_delete",
    "jobs_results",
    "jobs_status",
    "token",
]


def aggregates_handler(entity: AggregateEntity) -> Handler:
    """The aggregates query handler for one entity of the registry."""

    async def aggregates(call: Call) -> tuple[int, Any]:
        query = parse_aggregate_query(await call.json(), entity)
        return 200, run_aggregate_query(query, entity, call.sandbox.config.result_cap)

    return aggregates


async def details(call: Call) -> tuple[int, Any]:
    sandbox = call.sandbox
    body = run_details_query(
        sandbox.data,
        sandbox.dims,
        await call.json(),
        mode=sandbox.config.details_window,
        result_cap=sandbox.config.result_cap,
        client_id=call.ticket.client_id,
        pages=sandbox.short_pages,
        short=sandbox.faults.rng if call.ticket.fault_is("short") else None,
    )
    return 200, body


async def jobs_create(call: Call) -> tuple[int, Any]:
    """Create first, then (``slow`` fault) delay the answer: a timed-out client still has its job."""
    sandbox = call.sandbox
    job = sandbox.jobs.create(call.ticket.client_id, await call.json())
    with sandbox.lock:
        sandbox.counters.jobs_created += 1
    if call.ticket.fault_is("slow"):
        await call.stall(sandbox.config.slow_seconds)
    return 202, {"jobId": job.job_id}


async def jobs_status(call: Call) -> tuple[int, Any]:
    jobs = call.sandbox.jobs
    return 200, jobs.status(jobs.get(call.path("jobId")))


async def jobs_results(call: Call) -> tuple[int, Any]:
    sandbox, params = call.sandbox, call.request.query_params
    job = sandbox.jobs.get(call.path("jobId"))
    size = _page_size(params.get("pageSize"))
    short = sandbox.faults.rng if call.ticket.fault_is("short") else None
    return 200, sandbox.jobs.results(job, size, params.get("cursor") or None, short)


def _page_size(text: str | None) -> int:
    if text is None:
        return 100
    if not text.strip().isdigit() or not 1 <= int(text) <= 1000:
        raise bad_field("pageSize", f"pageSize must be an integer from 1 to 1000, got {text!r}")
    return int(text)


async def jobs_delete(call: Call) -> tuple[int, Any]:
    call.sandbox.jobs.force(call.path("jobId"), "CANCELLED")
    return 204, None


async def jobs_availability(call: Call) -> tuple[int, Any]:
    return 200, {"dataAvailabilityDate": call.sandbox.jobs.availability()}


async def token(request: Request) -> Response:
    """``POST /oauth/token``: client credentials only; counted per claimed client id."""
    sandbox: Sandbox = request.app.state.sandbox
    status, body, claimed = sandbox.tokens.exchange(
        request.headers.get("authorization"), await request.body()
    )
    with sandbox.lock:
        sandbox.counters.token_request(claimed)
        sandbox.counters.record(TOKEN, status)
    return json_response(status, body, new_correlation_id())
