"""Conversation details queries and job bodies: validation, selection and page-number paging.

Window semantics (facts file section 3): a details query returns conversations
that *started on a UTC day the interval touches* (``details_window="day"``) or,
optionally, whose lifetime overlaps the interval (``"overlap"``); jobs return
overlapping conversations unless ``startOfDayIntervalMatching`` asks for those
that started inside the interval. Either way adjacent windows share conversations.

The ``short`` fault on page-number paging: the faulted page returns fewer records
than ``pageSize`` and an inflated ``totalHits``; the sandbox remembers that cut for
this (client, query, pageSize) and shifts every later page back by the missing
count. A client that keeps paging until a page comes back empty therefore still
gets every record exactly once; one that stops at the first short page, or trusts
``totalHits``, loses or over-asks, as it could against Genesys.
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .data import DataStore
from .errors import bad_field, result_too_large
from .filters import Predicate, compile_filters
from .observations import ConversationDims
from .render import render_conversation
from .selection import Selection, match_conversations
from .timefmt import DAY_MS, parse_interval
from .validate import int_field, reject_unknown, require_object

__all__ = [
    "DETAILS_FIELDS",
    "DETAIL_DIMENSIONS",
    "JOB_FIELDS",
    "ConversationQuery",
    "ShortPages",
    "check_interval_length",
    "parse_conversation_query",
    "parse_paging",
    "render_page",
    "run_details_query",
]

DETAILS_FIELDS = frozenset(
    {
        "interval",
        "conversationFilters",
        "segmentFilters",
        "evaluationFilters",
        "surveyFilters",
        "resolutionFilters",
        "order",
        "orderBy",
        "aggregations",
        "paging",
    }
)
JOB_FIELDS = frozenset(
    {
        "interval",
        "conversationFilters",
        "segmentFilters",
        "order",
        "orderBy",
        "limit",
        "startOfDayIntervalMatching",
    }
)
DETAIL_DIMENSIONS = frozenset({"queueId", "mediaType", "direction", "userId"})
_ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")
_UNSUPPORTED_FILTERS = ("evaluationFilters", "surveyFilters", "resolutionFilters")
MAX_DAYS_UNFILTERED, MAX_DAYS_FILTERED = 7, 31


@dataclass(frozen=True)
class ConversationQuery:
    """A validated details or job body (paging aside)."""

    start_ms: int
    end_ms: int
    accept: Predicate | None
    filtered: bool
    descending: bool
    by_end: bool
    key: str
    """The body without paging, canonical: identifies 'the same query' for the short-page memory."""


def parse_conversation_query(
    body: object, allowed: frozenset[str]
) -> tuple[ConversationQuery, dict[str, Any]]:
    """Validate the shared part of details and job bodies; return it with the raw body."""
    body = require_object(body)
    reject_unknown(body, allowed)
    start, end = parse_interval(body.get("interval"))
    for name in _UNSUPPORTED_FILTERS:
        if body.get(name):
            raise bad_field(name, f"{name} are not supported by the sandbox")
    conv = compile_filters(body.get("conversationFilters"), DETAIL_DIMENSIONS, "conversationFilters")
    seg = compile_filters(body.get("segmentFilters"), DETAIL_DIMENSIONS, "segmentFilters")
    order, order_by = body.get("order", "asc"), body.get("orderBy", "conversationStart")
    if order not in ("asc", "desc", "unordered"):
        raise bad_field("order", f"order must be asc, desc or unordered, got {order!r}")
    if order_by not in _ORDER_BY:
        raise bad_field("orderBy", f"orderBy must be one of {list(_ORDER_BY)}, got {order_by!r}")
    key = json.dumps({k: v for k, v in body.items() if k != "paging"}, sort_keys=True, separators=(",", ":"))
    query = ConversationQuery(
        start_ms=start,
        end_ms=end,
        accept=_both(conv, seg),
        filtered=conv is not None or seg is not None,
        descending=order == "desc",
        by_end=order_by in ("conversationEnd", "segmentEnd"),
        key=key,
    )
    return query, body


def _both(a: Predicate | None, b: Predicate | None) -> Predicate | None:
    if a is None or b is None:
        return a or b
    return lambda dims: a(dims) and b(dims)


def parse_paging(value: object) -> tuple[int, int]:
    """``paging`` → (pageSize 1..100, default 25; pageNumber ≥ 1, default 1)."""
    if value is None:
        return 25, 1
    if not isinstance(value, dict):
        raise bad_field("paging", "paging must be an object")
    size = int_field(value.get("pageSize"), "paging.pageSize", 1, 100, 25)
    return size, int_field(value.get("pageNumber"), "paging.pageNumber", 1, None, 1)


def check_interval_length(query: ConversationQuery) -> None:
    """At most 7 days without a filter, 31 with one (Genesys documents both)."""
    days = MAX_DAYS_FILTERED if query.filtered else MAX_DAYS_UNFILTERED
    if query.end_ms - query.start_ms > days * DAY_MS:
        kind = "with" if query.filtered else "without"
        raise bad_field("interval", f"The interval may span at most {days} days {kind} a filter")


class ShortPages:
    """Cuts made by the ``short`` fault per (client, query, pageSize); later pages shift back to match."""

    def __init__(self, max_queries: int = 1024) -> None:
        self._cuts: OrderedDict[tuple[str, str, int], dict[int, int]] = OrderedDict()
        self._max = max_queries

    def window(self, key: tuple[str, str, int], page: int) -> tuple[int, int]:
        """Record offsets ``[start, stop)`` that page ``page`` covers for this query."""
        size = key[2]
        cuts = self._cuts.get(key, {})
        start = (page - 1) * size - sum(m for p, m in cuts.items() if p < page)
        return start, start + size - cuts.get(page, 0)

    def cut(self, key: tuple[str, str, int], page: int, total: int, rng: random.Random) -> None:
        """Shorten ``page`` by one to half its records, when it has at least two."""
        if page in self._cuts.get(key, {}):
            return
        start, stop = self.window(key, page)
        available = min(stop, total) - start
        if available >= 2:
            self._cuts.setdefault(key, {})[page] = rng.randint(1, max(1, available // 2))
            self._cuts.move_to_end(key)
            while len(self._cuts) > self._max:
                self._cuts.popitem(last=False)

    def clear(self) -> None:
        self._cuts.clear()


def run_details_query(
    data: DataStore,
    dims: ConversationDims,
    body: object,
    *,
    mode: str,
    result_cap: int,
    client_id: str,
    pages: ShortPages,
    short: random.Random | None = None,
) -> dict[str, Any]:
    """Answer a details query: ``{"conversations": [...], "totalHits": n}``, no list past the end."""
    query, raw = parse_conversation_query(body, DETAILS_FIELDS)
    size, number = parse_paging(raw.get("paging"))
    check_interval_length(query)
    selection = match_conversations(
        data, dims, query.start_ms, query.end_ms, mode=mode, accept=query.accept, by_end=query.by_end
    )
    total = len(selection)
    if result_cap and total > result_cap:
        raise result_too_large(result_cap)
    if query.descending:
        selection = selection.reversed()
    key = (client_id, query.key, size)
    if short is not None:
        pages.cut(key, number, total, short)
    start, stop = pages.window(key, number)
    out: dict[str, Any] = {}
    page = render_page(data, selection, start, min(stop, total))
    if page:
        out["conversations"] = page
    out["totalHits"] = total + (max(1, round(total * short.uniform(0.01, 0.05))) if short and total else 0)
    return out


def render_page(data: DataStore, selection: Selection, start: int, stop: int) -> list[dict[str, Any]]:
    """Render references ``start..stop-1`` of ``selection`` as details records."""
    out = []
    for day, i in selection.slice(max(0, start), stop):
        out.append(render_conversation(data.day(day).record(i), data.pools))
    return out
