"""Deterministic synthetic conversations: every UTC day is generated from ``(seed, date)`` alone.

Restarting the sandbox, asking for days in any order or on any machine gives the
same conversation ids and values. A day is stored as compact columns (arrays and
byte strings, ~60 bytes per conversation); dicts are built only when serving.

Each conversation: IVR (0-60 s), queue wait (0-10 min), then either abandon
(~8 %) or an agent answers: alert, talk (30 s-40 min), after-call work (0-5 min),
~10 % of answered ones transferred at talk end. Starts follow a business-hours
curve over a small floor, so every hour has some and late ones cross midnight.

Bucket rule: every metric is an *observation* emitted at one instant, on the
session that emits it; an aggregates bucket ``[b0, b1)`` counts the observation
when ``b0 <= emitDate < b1``. ``n*`` values are 1, ``t*`` values milliseconds.

============  ===================================  ============  =======  =============================
Metric        Emitted at (emitDate)                 Value         Session  Dimensions
============  ===================================  ============  =======  =============================
nOffered      queue entry (end of IVR)              1             acd      queueId, mediaType, direction
tWait         end of waiting (answer or abandon)    wait          acd      queueId, mediaType, direction
tAbandon      abandon (abandoned only)              wait          acd      queueId, mediaType, direction
nConnected    answer                                1             agent    ... + userId
tAnswered     answer                                wait          agent    ... + userId
tTalk         talk end                              talk          agent    ... + userId
nTransferred  talk end (transferred only)           1             agent    ... + userId
tAcw          wrap-up end                           acw           agent    ... + userId
tHandle       wrap-up end                           talk + acw    agent    ... + userId
============  ===================================  ============  =======  =============================

``direction`` is the conversation's ``originatingDirection``.
"""

from __future__ import annotations

import random
import threading
import uuid
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import NamedTuple, TypeVar, cast

from .timefmt import day_start_ms

__all__ = [
    "DIRECTIONS",
    "MAX_DURATION_MS",
    "MEDIA_TYPES",
    "METRICS",
    "Conversation",
    "DataStore",
    "Day",
    "Observation",
    "Pools",
    "generate_day",
    "make_pools",
    "observations",
]

MEDIA_TYPES = ("voice", "chat", "email", "callback", "message")
DIRECTIONS = ("inbound", "outbound")
METRICS = (
    "nOffered",
    "nConnected",
    "nTransferred",
    "tHandle",
    "tTalk",
    "tAcw",
    "tWait",
    "tAnswered",
    "tAbandon",
)

_IVR_MAX, _WAIT_MAX, _ACW_MAX = 60_000, 600_000, 300_000
_TALK_MIN, _TALK_MAX = 30_000, 2_400_000
MAX_DURATION_MS = _IVR_MAX + _WAIT_MAX + _TALK_MAX + _ACW_MAX
"""The longest possible conversation: how far observations can trail the day a conversation started."""

# Relative arrivals per UTC hour: quiet nights over a floor, a late-morning and mid-afternoon peak.
_HOUR_WEIGHTS: tuple[float, ...] = (0.25, 0.2, 0.15, 0.15, 0.15, 0.2, 0.45, 1.1, 2.4, 3.3, 3.6, 3.4)
_HOUR_WEIGHTS += (2.9, 3.1, 3.4, 3.2, 2.7, 1.9, 1.3, 0.9, 0.7, 0.55, 0.4, 0.3)
_HOUR_CUM = tuple(accumulate(_HOUR_WEIGHTS))
_MEDIA_CUM = tuple(accumulate((0.6, 0.15, 0.1, 0.05, 0.1)))
_QUEUE_WEIGHTS = (3.0, 2.0, 2.0, 1.5, 1.0, 1.0, 1.0, 0.5)
_QUEUE_NAMES = ("Sales", "Support", "Billing", "Retention", "Tech L1", "Tech L2", "Claims", "VIP")
_AGENTS, _AGENTS_PER_QUEUE = 40, 10
_ABANDON, _OUTBOUND, _TRANSFER = 0.08, 0.2, 0.10
_WRAPUPS = 5
_HOUR_MS = 3_600_000
_ABANDONED, _TRANSFERRED = 1, 2
T = TypeVar("T")


@dataclass(frozen=True)
class Pools:
    """Fixed entities derived from the seed: queues, agents, divisions, wrap-up codes."""

    queue_ids: tuple[str, ...]
    queue_names: tuple[str, ...]
    queue_divisions: tuple[int, ...]
    queue_cum: tuple[float, ...]
    queue_agents: tuple[tuple[int, ...], ...]
    agent_ids: tuple[str, ...]
    agent_names: tuple[str, ...]
    division_ids: tuple[str, ...]
    wrapup_codes: tuple[str, ...]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_pools(seed: int) -> Pools:
    """The seed's queues (8), agents (40), divisions (2) and wrap-up codes (5)."""
    rng = random.Random(f"{seed}:pools")
    queues = tuple(_uuid(rng) for _ in _QUEUE_NAMES)
    agents = tuple(_uuid(rng) for _ in range(_AGENTS))
    divisions = (_uuid(rng), _uuid(rng))
    staffing = tuple(tuple(sorted(rng.sample(range(_AGENTS), _AGENTS_PER_QUEUE))) for _ in queues)
    return Pools(
        queue_ids=queues,
        queue_names=_QUEUE_NAMES,
        queue_divisions=tuple(q % 2 for q in range(len(queues))),
        queue_cum=tuple(accumulate(_QUEUE_WEIGHTS)),
        queue_agents=staffing,
        agent_ids=agents,
        agent_names=tuple(f"Agent {i + 1:02d}" for i in range(_AGENTS)),
        division_ids=divisions,
        wrapup_codes=tuple(_uuid(rng) for _ in range(_WRAPUPS)),
    )


class Conversation(NamedTuple):
    """One conversation's facts (milliseconds); ``agent`` is -1 when abandoned."""

    conversation_id: str
    start: int
    end: int
    media: int
    direction: int
    queue: int
    agent: int
    ivr: int
    wait: int
    alert: int
    talk: int
    acw: int
    transferred: bool
    wrapup: int
    ani: int

    @property
    def answered(self) -> bool:
        return self.agent >= 0

    @property
    def queue_entry(self) -> int:
        return self.start + self.ivr

    @property
    def wait_end(self) -> int:
        return self.start + self.ivr + self.wait

    @property
    def talk_end(self) -> int:
        return self.wait_end + self.talk


class Observation(NamedTuple):
    """A metric emitted at ``emit``; ``agent_level`` observations carry the agent's userId."""

    metric: str
    emit: int
    value: int
    agent_level: bool


def observations(c: Conversation) -> list[Observation]:
    """The conversation's metric observations: the bucket rule in the module docstring, as code."""
    obs = [Observation("nOffered", c.queue_entry, 1, False), Observation("tWait", c.wait_end, c.wait, False)]
    if not c.answered:
        obs.append(Observation("tAbandon", c.wait_end, c.wait, False))
        return obs
    obs.append(Observation("nConnected", c.wait_end, 1, True))
    obs.append(Observation("tAnswered", c.wait_end, c.wait, True))
    obs.append(Observation("tTalk", c.talk_end, c.talk, True))
    if c.transferred:
        obs.append(Observation("nTransferred", c.talk_end, 1, True))
    obs.append(Observation("tAcw", c.end, c.acw, True))
    obs.append(Observation("tHandle", c.end, c.talk + c.acw, True))
    return obs


class Day:
    """One UTC day's conversations as columns, sorted by (conversationStart, conversationId)."""

    def __init__(self, day: date) -> None:
        self.date = day
        self.start = array("q")
        self.end = array("q")
        self.ids = bytearray()
        self.media = bytearray()
        self.direction = bytearray()
        self.queue = bytearray()
        self.flags = bytearray()
        self.wrapup = bytearray()
        self.agent = array("h")
        self.ivr, self.wait, self.alert = array("i"), array("i"), array("i")
        self.talk, self.acw, self.ani = array("i"), array("i"), array("i")

    def __len__(self) -> int:
        return len(self.start)

    def conversation_id(self, i: int) -> str:
        return str(uuid.UUID(bytes=bytes(self.ids[16 * i : 16 * i + 16])))

    def dims(self, i: int) -> tuple[int, int, int, int]:
        """(queue, media, direction, agent) indexes of conversation ``i``, for filters."""
        return self.queue[i], self.media[i], self.direction[i], self.agent[i]

    def record(self, i: int) -> Conversation:
        return Conversation(
            self.conversation_id(i),
            self.start[i],
            self.end[i],
            self.media[i],
            self.direction[i],
            self.queue[i],
            self.agent[i],
            self.ivr[i],
            self.wait[i],
            self.alert[i],
            self.talk[i],
            self.acw[i],
            bool(self.flags[i] & _TRANSFERRED),
            self.wrapup[i],
            self.ani[i],
        )


def _pick(rng: random.Random, cum: tuple[float, ...]) -> int:
    return bisect_right(cum, rng.random() * cum[-1])


def _v4(bits: int) -> int:
    """Stamp version 4 and the RFC variant, as ``uuid.UUID(int=..., version=4)`` does."""
    bits &= ~(0xF000 << 64) & ~(0xC000 << 48)
    return bits | (0x4000 << 64) | (0x8000 << 48)


def generate_day(seed: int, per_day: int, day: date, pools: Pools) -> Day:
    """Generate ``day`` from ``(seed, date)`` only: same inputs, same conversations, always."""
    rng = random.Random(f"{seed}:{day.isoformat()}")
    count = round(per_day * rng.uniform(0.97, 1.03))
    base = day_start_ms(day)
    hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=count)
    keyed = sorted((base + h * _HOUR_MS + rng.randrange(_HOUR_MS), _v4(rng.getrandbits(128))) for h in hours)
    out = Day(day)
    for start, bits in keyed:
        _append(out, rng, pools, start, bits)
    return out


def _append(out: Day, rng: random.Random, pools: Pools, start: int, bits: int) -> None:
    media, outbound, queue = _pick(rng, _MEDIA_CUM), rng.random() < _OUTBOUND, _pick(rng, pools.queue_cum)
    ivr, wait = rng.randrange(_IVR_MAX + 1), min(_WAIT_MAX, int(rng.expovariate(1 / 45_000)))
    agent, alert, talk, acw, flags, wrapup = -1, 0, 0, 0, _ABANDONED, 0
    if rng.random() >= _ABANDON:
        staff = pools.queue_agents[queue]
        agent, alert = staff[rng.randrange(len(staff))], min(wait, rng.randrange(2_000, 15_001))
        talk = min(_TALK_MAX, max(_TALK_MIN, int(rng.lognormvariate(12.6, 0.8))))
        acw = min(_ACW_MAX, int(rng.expovariate(1 / 60_000)))
        flags = _TRANSFERRED if rng.random() < _TRANSFER else 0
        wrapup = rng.randrange(len(pools.wrapup_codes))
    out.start.append(start)
    out.end.append(start + ivr + wait + talk + acw)
    out.ids += bits.to_bytes(16, "big")
    out.media.append(media)
    out.direction.append(1 if outbound else 0)
    out.queue.append(queue)
    out.flags.append(flags)
    out.wrapup.append(wrapup)
    out.agent.append(agent)
    out.ivr.append(ivr)
    out.wait.append(wait)
    out.alert.append(alert)
    out.talk.append(talk)
    out.acw.append(acw)
    out.ani.append(rng.randrange(10_000_000))


class DataStore:
    """Generated days behind a small LRU (bounded by total conversations), plus derived per-day views."""

    def __init__(self, seed: int, per_day: int, budget: int = 600_000) -> None:
        self.seed = seed
        self.per_day = per_day
        self.pools = make_pools(seed)
        self._budget = max(budget, 3 * per_day)
        self._days: OrderedDict[date, Day] = OrderedDict()
        self._derived: dict[tuple[date, str], object] = {}
        self._size = 0
        self._lock = threading.RLock()

    def day(self, day: date) -> Day:
        """The conversations that started on UTC ``day`` (generated on first use)."""
        with self._lock:
            cached = self._days.get(day)
            if cached is not None:
                self._days.move_to_end(day)
                return cached
            made = generate_day(self.seed, self.per_day, day, self.pools)
            self._days[day] = made
            self._size += len(made)
            self._evict()
            return made

    def derived(self, day: date, kind: str, build: Callable[[Day], T]) -> T:
        """A view of ``day`` built once by ``build(day)`` and dropped with the day."""
        with self._lock:
            key = (day, kind)
            if key not in self._derived:
                self._derived[key] = build(self.day(day))
            return cast(T, self._derived[key])

    def _evict(self) -> None:
        while self._size > self._budget and len(self._days) > 2:
            old, gone = self._days.popitem(last=False)
            self._size -= len(gone)
            for key in [k for k in self._derived if k[0] == old]:
                del self._derived[key]
