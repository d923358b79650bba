"""What one extraction asks for, validated in full before any request is sent.

:func:`build_spec` checks every argument (interval, chunk, time zone, query, page size,
output) and raises :class:`GenesysConfigError` naming the argument and the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_genesys.core.chunks import (
    Chunk,
    Duration,
    check_granularity,
    parse_duration,
    plan_chunks,
)
from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.names import (
    CONVERSATION_DETAIL_DIMENSIONS,
    DETAIL_QUERY_FIELDS,
    FLOW_AGGREGATE_DIMENSIONS,
    FLOW_AGGREGATE_METRICS,
    JOB_QUERY_FIELDS,
    SEGMENT_DETAIL_DIMENSIONS,
    USER_AGGREGATE_DIMENSIONS,
    USER_AGGREGATE_METRICS,
    check_conversation_aggregate_query,
    check_fields,
    check_names,
    filter_dimensions,
)
from airflow_provider_genesys.core.queries import ENTITIES, Entity

__all__ = ["KINDS", "ExtractionSpec", "build_spec", "iso_utc"]

KINDS = ("aggregates", "details", "jobs")
OUTPUT_FORMATS = ("jsonl", "parquet")
_PAGE_LIMITS = {"details": (100, 100), "jobs": (1000, 1000), "aggregates": (0, 0)}
_FILTER_FIELDS = (
    "conversationFilters",
    "segmentFilters",
    "evaluationFilters",
    "surveyFilters",
    "resolutionFilters",
)
_MAX_DAYS_UNFILTERED = 7
_MAX_DAYS_FILTERED = 31


def iso_utc(moment: datetime) -> str:
    """``2024-05-01T00:00:00Z``: how the manifest writes instants."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ExtractionSpec:
    """One validated extraction: what to fetch, for which interval, and how to store it."""

    kind: str
    entity: Entity
    start: datetime
    end: datetime
    chunk: Duration
    time_zone: str
    query: dict[str, Any]
    chunks: tuple[Chunk, ...]
    output_format: str = "jsonl"
    compression: str | None = "gzip"
    page_size: int = 0
    granularity: Duration | None = None
    run_id: str = "manual"
    try_number: int = 1
    poll_interval: float = 5.0
    job_timeout: float = 3600.0
    wait_for_availability: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return self.kind

    @property
    def record_kind(self) -> str:
        """What one stored record is: an aggregates result or a conversation."""
        return "aggregates" if self.kind == "aggregates" else "conversations"

    def identity(self) -> dict[str, Any]:
        """What a later try must share with an earlier one to reuse its chunks."""
        return {
            "kind": self.kind,
            "entity": self.entity.name,
            "interval": {"start": iso_utc(self.start), "end": iso_utc(self.end)},
            "time_zone": self.time_zone,
            "chunk": self.chunk.iso,
            "query": self.query,
            "output": {"format": self.output_format, "compression": self.compression},
            "page_size": self.page_size,
            "run_id": self.run_id,
        }


def _check_choice(value: Any, allowed: tuple[Any, ...], name: str) -> None:
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise GenesysConfigError(name, f"{value!r} is not supported", f"use one of {shown}")


def _normalise_compression(value: Any) -> str | None:
    if value in (None, "none", "None", ""):
        return None
    _check_choice(value, ("gzip",), "compression")
    return "gzip"


def _check_page_size(kind: str, page_size: Any) -> int:
    default, maximum = _PAGE_LIMITS[kind]
    if kind == "aggregates":
        return 0
    if page_size is None:
        return default
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise GenesysConfigError(
            "page_size", f"{page_size!r} is out of range", f"use a whole number from 1 to {maximum}"
        )
    return page_size


def _check_query(query: Any) -> dict[str, Any]:
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise GenesysConfigError(
            "query", f"expected a dict, got {type(query).__name__}", "pass the query body as a dict"
        )
    body = copy.deepcopy(dict(query))
    if "interval" in body:
        raise GenesysConfigError(
            "query.interval",
            "the interval is set by the operator from interval_start/interval_end and chunk",
            "remove 'interval' from query",
        )
    return body


def _nominal_days(duration: Duration) -> float:
    calendar = duration.years * 366 + duration.months * 31 + duration.weeks * 7 + duration.days
    return calendar + duration.clock.total_seconds() / 86400


def _has_filter(query: Mapping[str, Any]) -> bool:
    return any(query.get(name) for name in _FILTER_FIELDS)


_OTHER_ENTITY_NAMES = {
    "users": (USER_AGGREGATE_METRICS, USER_AGGREGATE_DIMENSIONS),
    "flows": (FLOW_AGGREGATE_METRICS, FLOW_AGGREGATE_DIMENSIONS),
}


def _check_aggregate_names(query: dict[str, Any], entity: str) -> None:
    if entity == "conversations":
        check_conversation_aggregate_query(query)
        return
    metrics, dimensions = _OTHER_ENTITY_NAMES[entity]
    check_names(query.get("metrics"), metrics, "query.metrics")
    check_names(query.get("groupBy"), dimensions, "query.groupBy")


def _check_aggregates(
    query: dict[str, Any], time_zone: str, validate_names: bool, entity: str = "conversations"
) -> Duration | None:
    zone_in_query = query.get("timeZone")
    if zone_in_query is not None and zone_in_query != time_zone:
        raise GenesysConfigError(
            "query.timeZone",
            f"{zone_in_query!r} conflicts with time_zone={time_zone!r}",
            "set time_zone on the operator and leave timeZone out of query",
        )
    query.pop("timeZone", None)
    if not query.get("metrics"):
        raise GenesysConfigError(
            "query.metrics", "no metrics given", 'list them, e.g. {"metrics": ["nOffered"]}'
        )
    if validate_names:
        _check_aggregate_names(query, entity)
    granularity = query.get("granularity")
    return parse_duration(granularity, "query.granularity") if granularity else None


def _check_details(kind: str, query: dict[str, Any], chunk: Duration, validate_names: bool) -> None:
    if "paging" in query:
        raise GenesysConfigError(
            "query.paging", "paging is driven by the operator", "remove it; use page_size"
        )
    allowed = DETAIL_QUERY_FIELDS if kind == "details" else JOB_QUERY_FIELDS
    if validate_names:
        check_fields(query, allowed, "query")
        check_names(
            filter_dimensions(query.get("conversationFilters"), "query.conversationFilters"),
            CONVERSATION_DETAIL_DIMENSIONS,
            "query.conversationFilters",
        )
        check_names(
            filter_dimensions(query.get("segmentFilters"), "query.segmentFilters"),
            SEGMENT_DETAIL_DIMENSIONS,
            "query.segmentFilters",
        )
    if kind == "details":
        limit = _MAX_DAYS_FILTERED if _has_filter(query) else _MAX_DAYS_UNFILTERED
        if _nominal_days(chunk) > limit:
            why = "with a filter" if limit == _MAX_DAYS_FILTERED else "without a filter"
            raise GenesysConfigError(
                "chunk",
                f"{chunk.iso} is longer than the {limit} days Genesys allows a details query {why}",
                f"use chunk=P1D (or at most P{limit}D)",
            )


def build_spec(
    kind: str,
    *,
    interval_start: str | datetime,
    interval_end: str | datetime,
    chunk: str | Duration,
    time_zone: str = "UTC",
    query: Mapping[str, Any] | None = None,
    entity: str = "conversations",
    output_format: str = "jsonl",
    compression: str | None = "gzip",
    page_size: int | None = None,
    validate_names: bool = True,
    run_id: str = "manual",
    try_number: int = 1,
    poll_interval: float = 5.0,
    job_timeout: float = 3600.0,
    wait_for_availability: bool = False,
) -> ExtractionSpec:
    """Validate everything and plan the chunks; raises before any request on bad input."""
    _check_choice(kind, KINDS, "kind")
    _check_choice(entity, tuple(ENTITIES), "entity")
    _check_choice(output_format, OUTPUT_FORMATS, "output_format")
    compression = _normalise_compression(compression)
    step = chunk if isinstance(chunk, Duration) else parse_duration(chunk, "chunk")
    chunks = plan_chunks(interval_start, interval_end, step, time_zone)
    body = _check_query(query)
    size = _check_page_size(kind, page_size)
    granularity = None
    if kind == "aggregates":
        granularity = _check_aggregates(body, time_zone, validate_names, entity)
        if granularity is not None:
            check_granularity(chunks, granularity, time_zone)
    else:
        if ENTITIES[entity].details_path is None:
            raise GenesysConfigError(
                "entity", f"{entity} has no {kind} extraction in this provider", "use entity='conversations'"
            )
        _check_details(kind, body, step, validate_names)
    for name, value in (("poll_interval", poll_interval), ("job_timeout", job_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise GenesysConfigError(
                name, f"{value!r} must be a positive number of seconds", "give seconds > 0"
            )
    return ExtractionSpec(
        kind=kind,
        entity=ENTITIES[entity],
        start=chunks[0].start,
        end=chunks[-1].end,
        chunk=step,
        time_zone=time_zone,
        query=body,
        chunks=tuple(chunks),
        output_format=output_format,
        compression=compression,
        page_size=size,
        granularity=granularity,
        run_id=run_id,
        try_number=try_number,
        poll_interval=float(poll_interval),
        job_timeout=float(job_timeout),
        wait_for_availability=wait_for_availability,
    )
