"""The sandbox's state, composed in one place: data, tokens, limits, faults, counters and jobs."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from airflow_provider_genesys.core.clock import Clock, SystemClock

from .aggregate import AggregateEntity, conversation_entity, totals
from .auth import TokenStore
from .config import SandboxConfig
from .data import DataStore
from .details import ShortPages
from .faults import Faults
from .gate import Gate
from .jobs import JobStore
from .limits import Limits
from .observations import ConversationDims
from .selection import match_conversations
from .stats import Stats
from .timefmt import format_ms, to_ms

__all__ = ["Sandbox"]


class Sandbox:
    """One emulated Genesys Cloud org; the app's routes read and change only this."""

    def __init__(self, config: SandboxConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.data = DataStore(self.config.seed, self.config.per_day)
        self.dims = ConversationDims(self.data.pools)
        conversations = conversation_entity(self.data)
        self.entities: dict[str, AggregateEntity] = {conversations.name: conversations}
        self.tokens = TokenStore(self.config, self.clock)
        self.limits = Limits(self.config)
        self.faults = Faults(self.config)
        self.counters = Stats(self.limits.window_us)
        self.jobs = JobStore(self.config, self.clock, self.data, self.dims)
        self.short_pages = ShortPages()
        self.gate = Gate(
            self.clock,
            tokens=self.tokens,
            limits=self.limits,
            faults=self.faults,
            stats=self.counters,
            lock=self.lock,
        )

    def stats(self) -> dict[str, Any]:
        """Every counter as JSON-safe data (the ``GET /sandbox/stats`` body)."""
        with self.lock:
            snapshot = self.counters.snapshot()
            snapshot["peak_in_flight"] = self.limits.in_flight.peaks()
            snapshot["in_flight"] = self.limits.in_flight.current()
            return snapshot

    def reset(self) -> None:
        """Zero counters, throttling state, in-flight counts, scripted faults; keep jobs and tokens."""
        with self.lock:
            self.counters.reset()
            self.limits.reset()
            self.faults.reset()
            self.short_pages.clear()

    def revoke(self, client_id: str | None = None) -> int:
        """Invalidate live tokens of ``client_id`` (every client when None); return how many."""
        return self.tokens.revoke(client_id)

    def inject_fault(
        self,
        kind: str,
        count: int = 1,
        endpoint: str | None = None,
        retry_after: int | None = None,
        *,
        retry_after_format: str = "seconds",
    ) -> None:
        """Make the next ``count`` API requests to ``endpoint`` (name or family; any when None) fail.

        ``retry_after`` forces the wait a 429/5xx announces; ``retry_after_format`` sends it
        as delta-seconds (default), as an HTTP date (``date``) or not at all (``none``).
        """
        with self.lock:
            self.faults.inject(kind, count, endpoint, retry_after, retry_after_format)

    def set_job_state(self, job_id: str, state: str, error_message: str | None = None) -> dict[str, Any]:
        """Force a job's state (FAILED, EXPIRED, CANCELLED, ...); return its status body."""
        with self.lock:
            return self.jobs.status(self.jobs.force(job_id, state, error_message))

    def truth(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Ground truth for ``[start, end)``: conversations started in it, totals by the bucket rule."""
        start_ms, end_ms = to_ms(start), to_ms(end)
        if end_ms <= start_ms:
            raise ValueError("end must be after start")
        selection = match_conversations(self.data, self.dims, start_ms, end_ms, mode="start", accept=None)
        ids = sorted(self.data.day(day).conversation_id(i) for day, i in selection.slice(0, len(selection)))
        return {
            "start": format_ms(start_ms),
            "end": format_ms(end_ms),
            "conversation_ids": ids,
            "count": len(ids),
            "aggregates": totals(self.entities["conversations"], start_ms, end_ms),
        }
