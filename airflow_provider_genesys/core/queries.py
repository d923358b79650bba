"""The analytics endpoints as small async calls and page iterators over the engine.

Paging is a stateless strategy per call: details pages by ``pageNumber`` until an empty
page, job results by ``cursor`` until none comes back. Entities (conversations today,
users and flows next) are data, so adding one is a table entry, not new code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.errors import GenesysServerError

__all__ = [
    "CONVERSATIONS",
    "ENTITIES",
    "TERMINAL_JOB_STATES",
    "Entity",
    "Page",
    "cancel_job",
    "data_availability",
    "details_pages",
    "job_pages",
    "job_status",
    "query_aggregates",
    "submit_job",
    "wait_for_jobs",
]

TERMINAL_JOB_STATES = frozenset({"FULFILLED", "FAILED", "CANCELLED", "EXPIRED"})


@dataclass(frozen=True)
class Entity:
    """One analytics entity: its endpoints and the record fields extraction relies on."""

    name: str
    aggregates_path: str
    details_path: str | None = None
    jobs_path: str | None = None
    records_key: str = "conversations"
    id_field: str = "conversationId"
    start_field: str = "conversationStart"

    @property
    def availability_path(self) -> str | None:
        return f"{self.jobs_path}/availability" if self.jobs_path else None


_BASE = "/api/v2/analytics"

CONVERSATIONS = Entity(
    "conversations",
    f"{_BASE}/conversations/aggregates/query",
    f"{_BASE}/conversations/details/query",
    f"{_BASE}/conversations/details/jobs",
)
USERS = Entity("users", f"{_BASE}/users/aggregates/query", records_key="userDetails", id_field="userId")
FLOWS = Entity("flows", f"{_BASE}/flows/aggregates/query")

ENTITIES = {entity.name: entity for entity in (CONVERSATIONS, USERS, FLOWS)}


@dataclass
class Page:
    """One page of records and what the API said about the rest."""

    records: list[dict[str, Any]]
    number: int
    total_hits: int | None = None
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _expect_dict(body: Any, what: str) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GenesysServerError(f"{what} answered with {type(body).__name__}, expected a JSON object")
    return body


async def query_aggregates(
    engine: GenesysEngine, entity: Entity, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """POST one aggregates query; return its ``results`` (Genesys omits the key when empty)."""
    answer = _expect_dict(
        await engine.request("POST", entity.aggregates_path, family="aggregates", json=body),
        "aggregates query",
    )
    results = answer.get("results") or []
    return [r for r in results if isinstance(r, dict)]


async def details_pages(
    engine: GenesysEngine, entity: Entity, body: dict[str, Any], page_size: int
) -> AsyncIterator[Page]:
    """Yield details pages from page 1 until an empty page (a short page is not the end)."""
    assert entity.details_path is not None
    number = 1
    while True:
        page_body = {**body, "paging": {"pageSize": page_size, "pageNumber": number}}
        answer = _expect_dict(
            await engine.request("POST", entity.details_path, family="details", json=page_body),
            "details query",
        )
        records = [r for r in answer.get(entity.records_key) or [] if isinstance(r, dict)]
        if not records:
            return
        hits = answer.get("totalHits")
        yield Page(records, number, total_hits=int(hits) if isinstance(hits, int) else None)
        number += 1


async def submit_job(engine: GenesysEngine, entity: Entity, body: dict[str, Any]) -> str:
    """Create an async details job; never sent twice unless it provably did not arrive."""
    assert entity.jobs_path is not None
    answer = _expect_dict(
        await engine.request("POST", entity.jobs_path, family="jobs", json=body, idempotent=False),
        "job creation",
    )
    job_id = answer.get("jobId")
    if not job_id:
        raise GenesysServerError("job creation answered without a jobId")
    return str(job_id)


async def job_status(engine: GenesysEngine, entity: Entity, job_id: str) -> dict[str, Any]:
    """The job's ``{state, errorMessage, ...}``."""
    return _expect_dict(
        await engine.request("GET", f"{entity.jobs_path}/{job_id}", family="jobs"), "job status"
    )


async def job_pages(
    engine: GenesysEngine, entity: Entity, job_id: str, page_size: int
) -> AsyncIterator[Page]:
    """Yield a fulfilled job's result pages, following ``cursor`` until none comes back."""
    cursor: str | None = None
    number = 1
    while True:
        params: dict[str, Any] = {"pageSize": page_size}
        if cursor:
            params["cursor"] = cursor
        answer = _expect_dict(
            await engine.request("GET", f"{entity.jobs_path}/{job_id}/results", family="jobs", params=params),
            "job results",
        )
        records = [r for r in answer.get(entity.records_key) or [] if isinstance(r, dict)]
        cursor = answer.get("cursor") or None
        yield Page(records, number, cursor=cursor)
        if not cursor:
            return
        number += 1


async def wait_for_jobs(
    engine: GenesysEngine, entity: Entity, job_ids: list[str], poll_interval: float, deadline: float
) -> dict[str, dict[str, Any]]:
    """Poll jobs until every one is in a terminal state; return their statuses.

    ``deadline`` is wall-clock (epoch seconds) so it survives a restart of the poller.
    Raises :class:`TimeoutError` when it passes first. Never creates or cancels a job.
    """
    statuses: dict[str, dict[str, Any]] = {}
    while True:
        for job_id in job_ids:
            if job_id not in statuses:
                status = await job_status(engine, entity, job_id)
                if str(status.get("state", "")).upper() in TERMINAL_JOB_STATES:
                    statuses[job_id] = status
        if len(statuses) == len(job_ids):
            return statuses
        if engine.clock.time() + poll_interval > deadline:
            waiting = sorted(set(job_ids) - set(statuses))
            raise TimeoutError(f"job(s) {', '.join(waiting)} still running at the job_timeout deadline")
        await engine.clock.sleep(poll_interval)


async def cancel_job(engine: GenesysEngine, entity: Entity, job_id: str) -> None:
    """DELETE the job (cancel it)."""
    await engine.request("DELETE", f"{entity.jobs_path}/{job_id}", family="jobs")


async def data_availability(engine: GenesysEngine, entity: Entity) -> datetime:
    """The instant before which Genesys guarantees the data is complete in its data lake."""
    assert entity.availability_path is not None
    answer = _expect_dict(
        await engine.request("GET", entity.availability_path, family="jobs"), "availability"
    )
    raw = answer.get("dataAvailabilityDate")
    if not isinstance(raw, str):
        raise GenesysServerError("availability answered without a dataAvailabilityDate")
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))
