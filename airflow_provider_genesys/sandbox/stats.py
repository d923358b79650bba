"""Counters the tests and benchmarks read: per-endpoint statuses, throttling, windows, faults.

Every figure is exact: the busiest window is measured at each arrival over the
half-open window ``(t - window, t]``, which is where any window's maximum lies.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["Stats"]


class Stats:
    """Request, token, throttling and fault counters since start or the last reset."""

    def __init__(self, window_us: int) -> None:
        self.window_us = window_us
        self.reset()

    def reset(self) -> None:
        self.requests: dict[str, dict[str, int]] = {}
        self.requests_total = 0
        self.rate_limited = 0
        self.inside_retry_after = 0
        self.token_requests = 0
        self.token_requests_by_client: dict[str, int] = {}
        self.jobs_created = 0
        self.faults_injected: dict[str, int] = {}
        self.max_requests_in_any_window: dict[str, int] = {}
        self._arrivals: dict[str, deque[int]] = {}

    def record(self, endpoint: str, status: int) -> None:
        """Count a response ``status`` on ``endpoint`` (every request, token ones included)."""
        by_status = self.requests.setdefault(endpoint, {})
        key = str(status)
        by_status[key] = by_status.get(key, 0) + 1
        if status == 429:
            self.rate_limited += 1

    def api_arrival(self, client_id: str | None, now_us: int) -> None:
        """Count an API request; for a known client, track its busiest window."""
        self.requests_total += 1
        if client_id is None:
            return
        arrivals = self._arrivals.setdefault(client_id, deque())
        arrivals.append(now_us)
        horizon = now_us - self.window_us
        while arrivals[0] <= horizon:
            arrivals.popleft()
        best = self.max_requests_in_any_window.get(client_id, 0)
        self.max_requests_in_any_window[client_id] = max(best, len(arrivals))

    def token_request(self, client_id: str | None) -> None:
        self.token_requests += 1
        if client_id is not None:
            by_client = self.token_requests_by_client
            by_client[client_id] = by_client.get(client_id, 0) + 1

    def fault(self, kind: str) -> None:
        self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as plain JSON-safe data (copies)."""
        return {
            "requests": {name: dict(codes) for name, codes in self.requests.items()},
            "requests_total": self.requests_total,
            "rate_limited": self.rate_limited,
            "inside_retry_after": self.inside_retry_after,
            "max_requests_in_any_window": dict(self.max_requests_in_any_window),
            "token_requests": self.token_requests,
            "token_requests_by_client": dict(self.token_requests_by_client),
            "jobs_created": self.jobs_created,
            "faults_injected": dict(self.faults_injected),
        }
