"""Per-client throttling: request windows (fixed or sliding), in-flight caps and Retry-After state.

All instants are integer microseconds of the sandbox clock. A client's Retry-After
state is ``[issued, until)``: set by every response that carries ``Retry-After``,
extended (never shortened) by later ones, and by ``penalty`` seconds for every
request that arrives strictly inside it when penalty mode is on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .clockutil import US
from .config import SandboxConfig

__all__ = ["FAMILIES", "InFlight", "Limits", "RateWindow", "RetryAfter", "ceil_seconds"]

FAMILIES = ("aggregates", "details", "jobs")


def ceil_seconds(micros: int) -> int:
    """Whole seconds to wait, rounded up, at least one (the ``Retry-After`` value)."""
    return max(1, -(-micros // US))


@dataclass
class RetryAfter:
    """A Retry-After the sandbox told one client: ``[issued_us, until_us)``."""

    issued_us: int
    until_us: int

    def inside(self, now_us: int) -> bool:
        """Strictly after issuing and before the end: arriving at the issuing instant does not count."""
        return self.issued_us < now_us < self.until_us


class RateWindow:
    """One client's accepted requests; rejected ones do not consume quota."""

    def __init__(self, rate: int, window_us: int, sliding: bool) -> None:
        self.rate, self.window_us, self.sliding = rate, window_us, sliding
        self._accepted: deque[int] = deque()
        self._fixed_index, self._fixed_count = -1, 0

    def admit(self, now_us: int) -> int | None:
        """Record an accepted request and return None, or return the seconds until one would be."""
        return self._sliding(now_us) if self.sliding else self._fixed(now_us)

    def _sliding(self, now_us: int) -> int | None:
        horizon = now_us - self.window_us
        accepted = self._accepted
        while accepted and accepted[0] <= horizon:
            accepted.popleft()
        if len(accepted) >= self.rate:
            return ceil_seconds(accepted[0] + self.window_us - now_us)
        accepted.append(now_us)
        return None

    def _fixed(self, now_us: int) -> int | None:
        index = now_us // self.window_us
        if index != self._fixed_index:
            self._fixed_index, self._fixed_count = index, 0
        if self._fixed_count >= self.rate:
            return ceil_seconds((index + 1) * self.window_us - now_us)
        self._fixed_count += 1
        return None


class InFlight:
    """Requests being processed per client and family, with peaks; survives resets mid-request."""

    def __init__(self) -> None:
        self.generation = 0
        self._now: dict[str, dict[str, int]] = {}
        self._peak: dict[str, dict[str, int]] = {}

    def total(self, client_id: str) -> int:
        return self._now.get(client_id, {}).get("total", 0)

    def enter(self, client_id: str, family: str) -> int:
        """Count a request in; return the generation to hand back to :meth:`leave`."""
        now = self._now.setdefault(client_id, _zeros())
        peak = self._peak.setdefault(client_id, _zeros())
        for key in ("total", family):
            now[key] += 1
            peak[key] = max(peak[key], now[key])
        return self.generation

    def leave(self, client_id: str, family: str, generation: int) -> None:
        """Count a request out, unless a reset happened since it came in."""
        if generation == self.generation:
            now = self._now[client_id]
            now["total"] -= 1
            now[family] -= 1

    def peaks(self) -> dict[str, dict[str, int]]:
        return {client: dict(values) for client, values in self._peak.items()}

    def current(self) -> dict[str, dict[str, int]]:
        return {client: dict(values) for client, values in self._now.items()}

    def reset(self) -> None:
        self.generation += 1
        self._now.clear()
        self._peak.clear()


def _zeros() -> dict[str, int]:
    return dict.fromkeys(("total", *FAMILIES), 0)


class Limits:
    """Rate windows, in-flight counts and Retry-After state of every client."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.window_us = round(config.window * US)
        self.in_flight = InFlight()
        self._windows: dict[str, RateWindow] = {}
        self._retry: dict[str, RetryAfter] = {}

    def inside_retry_after(self, client_id: str, now_us: int) -> bool:
        state = self._retry.get(client_id)
        return state is not None and state.inside(now_us)

    def penalize(self, client_id: str, now_us: int) -> int | None:
        """In penalty mode, a request inside Retry-After extends it; return the new wait (or None)."""
        state = self._retry.get(client_id)
        if self.config.penalty <= 0 or state is None or not state.inside(now_us):
            return None
        state.until_us += round(self.config.penalty * US)
        return ceil_seconds(state.until_us - now_us)

    def check_rate(self, client_id: str, now_us: int) -> int | None:
        """None when the rate admits the request (and counts it), else the Retry-After seconds."""
        if self.config.rate <= 0:
            return None
        window = self._windows.get(client_id)
        if window is None:
            sliding = self.config.window_mode == "sliding"
            window = self._windows[client_id] = RateWindow(self.config.rate, self.window_us, sliding)
        return window.admit(now_us)

    def at_concurrency_cap(self, client_id: str) -> bool:
        cap = self.config.max_concurrent
        return cap > 0 and self.in_flight.total(client_id) >= cap

    def issue(self, client_id: str, now_us: int, until: int) -> None:
        """Record that at ``now_us`` the client was told to wait until ``until`` (microseconds)."""
        state = self._retry.get(client_id)
        if state is not None and state.until_us > now_us:
            state.until_us = max(state.until_us, until)
        else:
            self._retry[client_id] = RetryAfter(now_us, until)

    def remaining(self, client_id: str, now_us: int) -> int:
        """Seconds left on the client's Retry-After (at least one)."""
        state = self._retry.get(client_id)
        return ceil_seconds(state.until_us - now_us) if state else 1

    def reset(self) -> None:
        self.in_flight.reset()
        self._windows.clear()
        self._retry.clear()
