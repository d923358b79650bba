"""Ordered conversation selections stored as runs of (day, indexes), and how they are matched.

Details queries and jobs both select conversations by interval and filter; keeping
the result as a few index arrays (not one object per record) keeps a 400,000-row
job cheap to hold and to page through.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate

from .data import MAX_DURATION_MS, DataStore, Day
from .filters import Predicate
from .observations import ConversationDims
from .timefmt import date_of

__all__ = ["Selection", "match_conversations"]

Part = tuple[date, "array[int]"]


class Selection:
    """An ordered list of conversation references, as runs ``(day, indexes into that day)``."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = [p for p in parts if len(p[1])]
        self._ends = list(accumulate(len(idx) for _, idx in self.parts))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def reversed(self) -> Selection:
        return Selection([(d, array("i", reversed(idx))) for d, idx in reversed(self.parts)])

    def head(self, limit: int) -> Selection:
        """The first ``limit`` references."""
        return Selection(_group(list(self.slice(0, limit))))

    def slice(self, start: int, stop: int) -> Iterator[tuple[date, int]]:
        """References ``start..stop-1`` in order."""
        k = bisect_right(self._ends, start)
        pos = start
        while pos < stop and k < len(self.parts):
            day, idx = self.parts[k]
            base = self._ends[k] - len(idx)
            for j in range(pos - base, min(stop - base, len(idx))):
                yield day, idx[j]
            pos, k = self._ends[k], k + 1


def _group(refs: list[tuple[date, int]]) -> list[Part]:
    parts: list[Part] = []
    for day, i in refs:
        if not parts or parts[-1][0] != day:
            parts.append((day, array("i")))
        parts[-1][1].append(i)
    return parts


def match_conversations(
    data: DataStore,
    dims: ConversationDims,
    start_ms: int,
    end_ms: int,
    *,
    mode: str,
    accept: Predicate | None,
    by_end: bool = False,
) -> Selection:
    """Conversations for ``[start, end)`` by ``mode``, filtered, ordered by start (or end) then id.

    ``day``: started on a UTC day the interval touches (details query default);
    ``overlap``: lifetime ``[start, end)`` overlaps the interval (jobs default);
    ``start``: started inside the interval (jobs with ``startOfDayIntervalMatching``).
    """
    first = date_of(start_ms - MAX_DURATION_MS) if mode == "overlap" else date_of(start_ms)
    parts: list[Part] = []
    verdicts: dict[tuple[int, ...], bool] = {}
    day = first
    while day <= date_of(end_ms - 1):
        found = data.day(day)
        parts.append((day, _matching(found, start_ms, end_ms, mode, _Accept(accept, dims, verdicts))))
        day += timedelta(days=1)
    selection = Selection(parts)
    return _by_end(data, selection) if by_end else selection


class _Accept:
    """Evaluates the filter once per (queue, media, direction, agent) combination."""

    def __init__(
        self, accept: Predicate | None, dims: ConversationDims, verdicts: dict[tuple[int, ...], bool]
    ):
        self.accept, self.dims, self.verdicts = accept, dims, verdicts

    def __call__(self, day: Day, i: int) -> bool:
        if self.accept is None:
            return True
        key = day.dims(i)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = self.accept(self.dims.decode(self.dims.encode(*key)))
        return verdict


def _matching(day: Day, start_ms: int, end_ms: int, mode: str, accept: _Accept) -> array[int]:
    candidates: range | list[int]
    if mode == "day":
        candidates = range(len(day))
    elif mode == "start":
        candidates = range(bisect_left(day.start, start_ms), bisect_left(day.start, end_ms))
    else:
        candidates = range(bisect_left(day.start, end_ms))
    if mode == "overlap":
        ends = day.end
        candidates = [i for i in candidates if ends[i] > start_ms]
    if accept.accept is None:
        return array("i", candidates)
    return array("i", [i for i in candidates if accept(day, i)])


def _by_end(data: DataStore, selection: Selection) -> Selection:
    refs = list(selection.slice(0, len(selection)))
    days = {d: data.day(d) for d, _ in selection.parts}
    refs.sort(
        key=lambda ref: (days[ref[0]].end[ref[1]], bytes(days[ref[0]].ids[16 * ref[1] : 16 * ref[1] + 16]))
    )
    return Selection(_group(refs))
