"""Per-day metric observations as sorted columns, the source the aggregates and truth read.

A store holds, per metric, the emit instants (sorted), values and a small integer
*dimension code*; the code decodes to the observation's dimension values. Keeping
codes small lets a query evaluate its filter and grouping once per code, not per row.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .data import DIRECTIONS, MEDIA_TYPES, METRICS, Day, Pools, observations

__all__ = ["ConversationDims", "MetricColumn", "ObservationStore", "build_conversation_store"]


@dataclass(frozen=True)
class MetricColumn:
    """One metric's observations of a day, sorted by emit instant."""

    emit: array[int]
    value: array[int]
    code: array[int]


@dataclass(frozen=True)
class ObservationStore:
    """A day's observations per metric and the decoder of their dimension codes."""

    columns: dict[str, MetricColumn]
    decode: Callable[[int], dict[str, str]]


class ConversationDims:
    """Packs (queue, media, direction, agent) into one int and back into dimension values."""

    def __init__(self, pools: Pools) -> None:
        self._pools = pools
        self._agents = len(pools.agent_ids) + 1
        self._cache: dict[int, dict[str, str]] = {}

    def encode(self, queue: int, media: int, direction: int, agent: int) -> int:
        """``agent`` is -1 for queue-level observations (no userId)."""
        return ((queue * len(MEDIA_TYPES) + media) * len(DIRECTIONS) + direction) * self._agents + agent + 1

    def decode(self, code: int) -> dict[str, str]:
        found = self._cache.get(code)
        if found is None:
            found = self._cache[code] = self._decode(code)
        return found

    def _decode(self, code: int) -> dict[str, str]:
        rest, agent = divmod(code, self._agents)
        rest, direction = divmod(rest, len(DIRECTIONS))
        queue, media = divmod(rest, len(MEDIA_TYPES))
        dims = {
            "queueId": self._pools.queue_ids[queue],
            "mediaType": MEDIA_TYPES[media],
            "direction": DIRECTIONS[direction],
        }
        if agent:
            dims["userId"] = self._pools.agent_ids[agent - 1]
        return dims


def build_conversation_store(day: Day, dims: ConversationDims) -> ObservationStore:
    """Derive every observation of ``day`` by the bucket rule (``data.observations``)."""
    rows: dict[str, tuple[array[int], array[int], array[int]]] = {
        m: (array("q"), array("q"), array("i")) for m in METRICS
    }
    for i in range(len(day)):
        conv = day.record(i)
        for obs in observations(conv):
            agent = conv.agent if obs.agent_level else -1
            emit, value, code = rows[obs.metric]
            emit.append(obs.emit)
            value.append(obs.value)
            code.append(dims.encode(conv.queue, conv.media, conv.direction, agent))
    return ObservationStore({m: _sorted_column(*cols) for m, cols in rows.items()}, dims.decode)


def _sorted_column(emit: array[int], value: array[int], code: array[int]) -> MetricColumn:
    order = sorted(range(len(emit)), key=emit.__getitem__)
    return MetricColumn(_take(emit, order), _take(value, order), _take(code, order))


def _take(column: array[int], order: Iterable[int]) -> array[int]:
    return array(column.typecode, (column[i] for i in order))
