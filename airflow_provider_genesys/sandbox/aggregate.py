"""Aggregates queries: validate the body, bucket observations by emit instant, render Genesys results.

An :class:`AggregateEntity` is everything one ``/api/v2/analytics/<entity>/aggregates/query``
needs (dimensions, metrics, a per-day observation source), so adding users or flows
aggregates is one more entity in the registry, not new query code.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .config import AGGREGATE_PERMISSION
from .data import MAX_DURATION_MS, METRICS, DataStore
from .durations import bucket_bounds, parse_duration, parse_time_zone
from .errors import bad_field, result_too_large
from .filters import Predicate, compile_filter
from .observations import ConversationDims, ObservationStore, build_conversation_store
from .timefmt import date_of, format_ms, parse_interval
from .validate import reject_unknown, require_object

__all__ = [
    "AGGREGATE_FIELDS",
    "CONVERSATION_DIMENSIONS",
    "AggregateEntity",
    "AggregateQuery",
    "conversation_entity",
    "parse_aggregate_query",
    "run_aggregate_query",
    "totals",
]

AGGREGATE_FIELDS = frozenset(
    {
        "interval",
        "granularity",
        "timeZone",
        "groupBy",
        "filter",
        "metrics",
        "flattenMultivaluedDimensions",
        "views",
        "alternateTimeDimension",
        "queryType",
        "sortMetric",
        "limit",
    }
)
CONVERSATION_DIMENSIONS = frozenset({"queueId", "mediaType", "direction", "userId"})

Group = tuple[tuple[str, str], ...]
Cell = dict[str, list[int]]  # metric -> [count, sum, min, max]


@dataclass(frozen=True)
class AggregateEntity:
    """One aggregates endpoint: its dimensions, metrics and where its observations come from."""

    name: str
    endpoint: str
    permission: str
    dimensions: frozenset[str]
    metrics: tuple[str, ...]
    store: Callable[[date], ObservationStore]
    max_trail_ms: int
    """How long after the day a record started its observations can still be emitted."""

    @property
    def path(self) -> str:
        return f"/api/v2/analytics/{self.name}/aggregates/query"


def conversation_entity(data: DataStore) -> AggregateEntity:
    """Conversation aggregates over the generated conversations."""
    dims = ConversationDims(data.pools)

    def store(day: date) -> ObservationStore:
        return data.derived(day, "conversation-observations", lambda d: build_conversation_store(d, dims))

    return AggregateEntity(
        name="conversations",
        endpoint="aggregates",
        permission=AGGREGATE_PERMISSION,
        dimensions=CONVERSATION_DIMENSIONS,
        metrics=METRICS,
        store=store,
        max_trail_ms=MAX_DURATION_MS,
    )


@dataclass(frozen=True)
class AggregateQuery:
    """A validated aggregates body."""

    start_ms: int
    end_ms: int
    bounds: list[int]
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]
    accept: Predicate | None


def parse_aggregate_query(body: object, entity: AggregateEntity) -> AggregateQuery:
    """Validate ``body`` the way Genesys would; 400 with the offending ``fieldName`` otherwise."""
    body = require_object(body)
    reject_unknown(body, AGGREGATE_FIELDS)
    start, end = parse_interval(body.get("interval"))
    zone = parse_time_zone(body.get("timeZone"))
    granularity = body.get("granularity")
    if granularity is None:
        bounds = [start, end]
    else:
        try:
            step = parse_duration(granularity)
        except ValueError as exc:
            raise bad_field("granularity", str(exc)) from None
        bounds = bucket_bounds(start, end, step, zone)
    metrics = _metrics(body.get("metrics"), entity)
    group_by = _group_by(body.get("groupBy"), entity)
    spec = body.get("filter")
    accept = None if spec is None else compile_filter(spec, entity.dimensions, "filter")
    return AggregateQuery(start, end, bounds, metrics, group_by, accept)


def _metrics(value: object, entity: AggregateEntity) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise bad_field("metrics", "metrics must be a non-empty list of metric names")
    for name in value:
        if name not in entity.metrics:
            raise bad_field(
                "metrics", f"Unknown or unsupported metric {name!r}; supported: {list(entity.metrics)}"
            )
    return tuple(dict.fromkeys(value))


def _group_by(value: object, entity: AggregateEntity) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_field("groupBy", "groupBy must be a list of dimension names")
    for name in value:
        if name not in entity.dimensions:
            raise bad_field("groupBy", f"Unknown or unsupported dimension {name!r}")
    return tuple(dict.fromkeys(value))


def run_aggregate_query(query: AggregateQuery, entity: AggregateEntity, result_cap: int) -> dict[str, Any]:
    """The Genesys response: groups → buckets → metric stats, ``{}`` when nothing matched."""
    table = _accumulate(query, entity)
    if result_cap and len(table) > result_cap:
        raise result_too_large(result_cap)
    return _render(table, query)


def _days(start_ms: int, end_ms: int) -> Iterator[date]:
    day, last = date_of(start_ms), date_of(end_ms - 1)
    while day <= last:
        yield day
        day += timedelta(days=1)


class _Codes:
    """Per-query verdicts and groups for each dimension code, computed once per code."""

    def __init__(self, query: AggregateQuery) -> None:
        self.query = query
        self.groups: dict[int, Group | None] = {}

    def group(self, code: int, store: ObservationStore) -> Group | None:
        if code not in self.groups:
            dims = store.decode(code)
            ok = self.query.accept is None or self.query.accept(dims)
            self.groups[code] = tuple((g, dims[g]) for g in self.query.group_by if g in dims) if ok else None
        return self.groups[code]


def _accumulate(q: AggregateQuery, entity: AggregateEntity) -> dict[tuple[Group, int], Cell]:
    table: dict[tuple[Group, int], Cell] = {}
    codes = _Codes(q)
    for day in _days(q.start_ms - entity.max_trail_ms, q.end_ms):
        store = entity.store(day)
        for metric in q.metrics:
            col = store.columns[metric]
            for j in range(bisect_left(col.emit, q.start_ms), bisect_left(col.emit, q.end_ms)):
                group = codes.group(col.code[j], store)
                if group is not None:
                    bucket = bisect_right(q.bounds, col.emit[j]) - 1
                    _add(table.setdefault((group, bucket), {}), metric, col.value[j])
    return table


def _add(cell: Cell, metric: str, value: int) -> None:
    acc = cell.get(metric)
    if acc is None:
        cell[metric] = [1, value, value, value]
        return
    acc[0] += 1
    acc[1] += value
    acc[2] = min(acc[2], value)
    acc[3] = max(acc[3], value)


def _render(table: dict[tuple[Group, int], Cell], q: AggregateQuery) -> dict[str, Any]:
    by_group: dict[Group, list[int]] = {}
    for group, bucket in table:
        by_group.setdefault(group, []).append(bucket)
    results = []
    for group in sorted(by_group):
        data = [_bucket(table[(group, b)], b, q) for b in sorted(by_group[group])]
        results.append({"group": dict(group), "data": data})
    return {"results": results} if results else {}


def _bucket(cell: Cell, b: int, q: AggregateQuery) -> dict[str, Any]:
    interval = f"{format_ms(q.bounds[b])}/{format_ms(q.bounds[b + 1])}"
    return {"interval": interval, "metrics": [_stats(m, cell[m]) for m in q.metrics if m in cell]}


def _stats(metric: str, acc: list[int]) -> dict[str, Any]:
    count, total, low, high = acc
    if metric.startswith("n"):
        return {"metric": metric, "stats": {"count": count}}
    return {"metric": metric, "stats": {"max": high, "min": low, "count": count, "sum": total}}


def totals(entity: AggregateEntity, start_ms: int, end_ms: int) -> dict[str, dict[str, int]]:
    """Count and sum of every metric over observations emitted in ``[start, end)``: the truth."""
    out = {m: {"count": 0, "sum": 0} for m in entity.metrics}
    for day in _days(start_ms - entity.max_trail_ms, end_ms):
        store = entity.store(day)
        for metric, col in store.columns.items():
            lo, hi = bisect_left(col.emit, start_ms), bisect_left(col.emit, end_ms)
            out[metric]["count"] += hi - lo
            out[metric]["sum"] += sum(col.value[lo:hi])
    return out
