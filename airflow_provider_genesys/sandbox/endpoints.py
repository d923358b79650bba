"""The API endpoints the sandbox serves: stats name, family (for in-flight and faults), permission."""

from __future__ import annotations

from dataclasses import dataclass

from .config import AGGREGATE_PERMISSION, DETAIL_PERMISSION

__all__ = [
    "AGGREGATES",
    "API_ENDPOINTS",
    "DETAILS",
    "ENDPOINT_SELECTORS",
    "JOBS_AVAILABILITY",
    "JOBS_CREATE",
    "JOBS_DELETE",
    "JOBS_RESULTS",
    "JOBS_STATUS",
    "TOKEN",
    "Endpoint",
]

TOKEN = "token"  # noqa: S105 - the token endpoint's stats name, not a secret


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint; ``slow_after`` makes the ``slow`` fault delay the answer, not the work."""

    name: str
    family: str
    permission: str
    slow_after: bool = False

    def matches(self, selector: str | None) -> bool:
        """Whether a fault aimed at ``selector`` (a name, a family or None for all) hits this endpoint."""
        return selector is None or selector in (self.name, self.family)


AGGREGATES = Endpoint("aggregates", "aggregates", AGGREGATE_PERMISSION)
DETAILS = Endpoint("details", "details", DETAIL_PERMISSION)
JOBS_CREATE = Endpoint("jobs.create", "jobs", DETAIL_PERMISSION, slow_after=True)
JOBS_STATUS = Endpoint("jobs.status", "jobs", DETAIL_PERMISSION)
JOBS_RESULTS = Endpoint("jobs.results", "jobs", DETAIL_PERMISSION)
JOBS_DELETE = Endpoint("jobs.delete", "jobs", DETAIL_PERMISSION)
JOBS_AVAILABILITY = Endpoint("jobs.availability", "jobs", DETAIL_PERMISSION)
API_ENDPOINTS = (AGGREGATES, DETAILS, JOBS_CREATE, JOBS_STATUS, JOBS_RESULTS, JOBS_DELETE, JOBS_AVAILABILITY)
ENDPOINT_SELECTORS = frozenset({e.name for e in API_ENDPOINTS} | {e.family for e in API_ENDPOINTS})
