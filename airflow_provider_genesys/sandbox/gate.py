"""The admission path every API request takes before any work: auth, throttling, permission, faults.

Order: authenticate → count the arrival (busiest window, inside Retry-After) →
penalty → in-flight cap → rate window → permission → fault draw → in flight.
Throttled requests never consume rate quota; each ``Retry-After`` sent is
recorded as the client's Retry-After state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.utils import formatdate

from airflow_provider_genesys.core.clock import Clock

from .auth import TokenStore
from .clockutil import US, now_us
from .endpoints import Endpoint
from .errors import ApiError, missing_permission, too_many_requests
from .faults import Fault, Faults, server_error
from .limits import Limits
from .stats import Stats

__all__ = ["Gate", "Ticket"]

_RESPONSE_FAULTS = ("drop", "nonjson")


@dataclass
class Ticket:
    """An admitted request: whose it is, its fault (``slow``, ``short``, ``drop``, ``nonjson``) if any."""

    client_id: str
    endpoint: Endpoint
    fault: Fault | None
    generation: int | None = None

    def fault_is(self, kind: str) -> bool:
        return self.fault is not None and self.fault.kind == kind


class Gate:
    """Decides, under one lock, whether a request proceeds; raises the Genesys error when not."""

    def __init__(
        self,
        clock: Clock,
        *,
        tokens: TokenStore,
        limits: Limits,
        faults: Faults,
        stats: Stats,
        lock: threading.RLock,
    ) -> None:
        self._clock, self._tokens, self._limits = clock, tokens, limits
        self._faults, self._stats, self._lock = faults, stats, lock

    def admit(self, authorization: str | None, endpoint: Endpoint) -> Ticket:
        """A ticket for a request allowed to proceed; raises ApiError (401/403/429/5xx) otherwise."""
        with self._lock:
            now = now_us(self._clock)
            try:
                client = self._tokens.authenticate(authorization)
            except ApiError:
                self._stats.api_arrival(None, now)
                raise
            cid = client.client_id
            self._throttle(cid, now)
            if endpoint.permission not in client.permissions:
                raise missing_permission(endpoint.permission)
            fault = self._faults.draw(cid, endpoint)
            if fault is not None:
                self._stats.fault(fault.kind)
                self._fail_fast(cid, now, fault)
                if fault.kind in _RESPONSE_FAULTS:
                    return Ticket(cid, endpoint, fault)
            return Ticket(cid, endpoint, fault, self._limits.in_flight.enter(cid, endpoint.family))

    def release(self, ticket: Ticket) -> None:
        """Count the request out of flight (safe after resets and disconnects)."""
        if ticket.generation is not None:
            with self._lock:
                self._limits.in_flight.leave(ticket.client_id, ticket.endpoint.family, ticket.generation)

    def _throttle(self, cid: str, now: int) -> None:
        self._stats.api_arrival(cid, now)
        limits = self._limits
        if limits.inside_retry_after(cid, now):
            self._stats.inside_retry_after += 1
        wait = limits.penalize(cid, now)
        if wait is not None:
            raise too_many_requests(wait, str(wait))
        wait = 1 if limits.at_concurrency_cap(cid) else limits.check_rate(cid, now)
        if wait is not None:
            limits.issue(cid, now, now + wait * US)
            raise too_many_requests(wait, str(wait))

    def _fail_fast(self, cid: str, now: int, fault: Fault) -> None:
        """Raise the error faults answer with (429 and 5xx); other kinds shape the response later."""
        if fault.kind == "429":
            wait = fault.retry_after if fault.retry_after is not None else self._limits.remaining(cid, now)
            raise too_many_requests(wait, self._announce(cid, now, wait, fault.retry_after_format))
        if fault.kind in ("500", "502", "503", "504", "503-retry-after"):
            header = None
            if fault.retry_after is not None:
                header = self._announce(cid, now, fault.retry_after, fault.retry_after_format)
            raise server_error(fault, header)

    def _announce(self, cid: str, now: int, seconds: int, fmt: str) -> str | None:
        """Render ``Retry-After`` in ``fmt`` and record the wait the client was told (none for ``none``)."""
        if fmt == "none":
            return None
        if fmt == "date":
            until_s = now // US + seconds  # HTTP dates have whole seconds
            self._limits.issue(cid, now, until_s * US)
            return formatdate(until_s, usegmt=True)
        self._limits.issue(cid, now, now + seconds * US)
        return str(seconds)
