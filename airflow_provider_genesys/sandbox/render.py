"""Conversation records in the Genesys details shape, built on demand from a day's columns.

Shape: conversation → participants (customer, acd, agent) → sessions → segments
and metrics. Empty lists are omitted, as Genesys omits them. Participant and
session ids are the conversation id XOR fixed masks (still version-4 uuids), so
they are as stable as the data and cheap: rendering is the hot path of paging.
"""

from __future__ import annotations

import uuid
from typing import Any

from .data import DIRECTIONS, MEDIA_TYPES, Conversation, Pools, observations
from .timefmt import format_ms

__all__ = ["render_conversation"]

Json = dict[str, Any]
# Version and variant bits are zero in every mask, so derived ids stay valid version-4 uuids.
_KEEP_FORMAT = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_MASKS = {
    name: uuid.uuid5(uuid.NAMESPACE_OID, f"genesys-sandbox:{name}").int & _KEEP_FORMAT
    for name in ("customer", "acd", "agent", "customer-participant", "acd-participant", "agent-participant")
}


def render_conversation(c: Conversation, pools: Pools) -> Json:
    """The details-query record of ``c``."""
    context = _Context(c, pools)
    participants = [_customer(context), _acd(context)]
    if c.answered:
        participants.append(_agent(context))
    return {
        "conversationId": c.conversation_id,
        "conversationStart": context.ts(c.start),
        "conversationEnd": context.ts(c.end),
        "originatingDirection": context.direction,
        "divisionIds": [pools.division_ids[pools.queue_divisions[c.queue]]],
        "participants": participants,
    }


class _Context:
    """What every participant of one conversation needs, computed once."""

    def __init__(self, c: Conversation, pools: Pools) -> None:
        self.c = c
        self.pools = pools
        self.media = MEDIA_TYPES[c.media]
        self.direction = DIRECTIONS[c.direction]
        self.queue_id = pools.queue_ids[c.queue]
        self.base = int(c.conversation_id.replace("-", ""), 16)
        self._stamps: dict[int, str] = {}
        self.metrics: dict[bool, list[Json]] = {False: [], True: []}
        for obs in observations(c):
            metric = {"name": obs.metric, "value": obs.value, "emitDate": self.ts(obs.emit)}
            self.metrics[obs.agent_level].append(metric)

    def ts(self, ms: int) -> str:
        """``format_ms`` memoised per conversation: most instants appear two or three times."""
        text = self._stamps.get(ms)
        if text is None:
            text = self._stamps[ms] = format_ms(ms)
        return text

    def uid(self, name: str) -> str:
        h = f"{self.base ^ _MASKS[name]:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def session(self, name: str, segments: list[Json], metrics: list[Json] | None = None) -> Json:
        out: Json = {"sessionId": self.uid(name), "mediaType": self.media, "direction": self.direction}
        if name == "customer":
            out["ani"], out["dnis"] = self._endpoints()
        out["segments"] = segments
        if metrics:
            out["metrics"] = metrics
        return out

    def _endpoints(self) -> tuple[str, str]:
        customer = f"tel:+1555{self.c.ani:07d}"
        company = f"tel:+1800555{self.c.queue:04d}"
        return (customer, company) if self.direction == "inbound" else (company, customer)


def _segment(x: _Context, kind: str, start: int, end: int, **extra: Any) -> Json:
    return {"segmentStart": x.ts(start), "segmentEnd": x.ts(end), "segmentType": kind, **extra}


def _customer(x: _Context) -> Json:
    c = x.c
    segments = [_segment(x, "ivr", c.start, c.queue_entry)] if c.ivr else []
    hang_up = c.talk_end if c.answered else c.wait_end
    disconnect = "transfer" if c.transferred else "endpoint"
    segments.append(_segment(x, "interact", c.queue_entry, hang_up, disconnectType=disconnect))
    return _participant(x, "customer", "Customer", [x.session("customer", segments)])


def _acd(x: _Context) -> Json:
    c = x.c
    disconnect = "transfer" if c.answered else "endpoint"
    segment = _segment(
        x, "interact", c.queue_entry, c.wait_end, queueId=x.queue_id, disconnectType=disconnect
    )
    session = x.session("acd", [segment], x.metrics[False])
    return _participant(x, "acd", x.pools.queue_names[c.queue], [session])


def _agent(x: _Context) -> Json:
    c = x.c
    q = x.queue_id
    segments = [
        _segment(x, "alert", c.wait_end - c.alert, c.wait_end, queueId=q),
        _segment(x, "interact", c.wait_end, c.talk_end, queueId=q, disconnectType=_agent_disconnect(c)),
        _segment(x, "wrapup", c.talk_end, c.end, queueId=q, wrapUpCode=x.pools.wrapup_codes[c.wrapup]),
    ]
    out = _participant(
        x, "agent", x.pools.agent_names[c.agent], [x.session("agent", segments, x.metrics[True])]
    )
    out["userId"] = x.pools.agent_ids[c.agent]
    return out


def _agent_disconnect(c: Conversation) -> str:
    return "transfer" if c.transferred else "client"


def _participant(x: _Context, purpose: str, name: str, sessions: list[Json]) -> Json:
    return {
        "participantId": x.uid(f"{purpose}-participant"),
        "participantName": name,
        "purpose": purpose,
        "sessions": sessions,
    }
