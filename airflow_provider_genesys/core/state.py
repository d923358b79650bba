"""Per-client shared state (token, limiter, pause, counters) in an injectable registry.

Everything that must be shared by all requests of one OAuth client in a process lives in
one :class:`ClientState`, found in a :class:`ClientRegistry` by (API base URL, client id).
Production code uses the process registry from :func:`default_registry`; tests build
their own, so no test ever resets a global.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_genesys.core.auth import TokenCache
from airflow_provider_genesys.core.clock import Clock, SystemClock
from airflow_provider_genesys.core.config import EngineSettings
from airflow_provider_genesys.core.pacing import AdaptiveRateLimiter, LocalPause, Pause, RateLimiter

__all__ = ["ClientRegistry", "ClientState", "ClientStats", "default_registry"]


@dataclass
class ClientStats:
    """Counters of one OAuth client's traffic, for the end-of-task summary."""

    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    first_send: float | None = None
    last_send: float | None = None

    def sent(self, now: float) -> None:
        with self.lock:
            self.requests += 1
            if self.first_send is None:
                self.first_send = now
            self.last_send = now

    def answered(self, status: int) -> None:
        with self.lock:
            self.by_status[status] += 1

    def failed(self) -> None:
        with self.lock:
            self.transport_errors += 1

    def retried(self, cause: str) -> None:
        with self.lock:
            self.retries[cause] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            span = (self.last_send or 0.0) - (self.first_send or 0.0)
            rate = self.requests / span * 60.0 if span > 0 and self.requests > 1 else None
            return {
                "requests": self.requests,
                "responses_2xx": sum(n for s, n in self.by_status.items() if 200 <= s < 300),
                "rate_limited": self.by_status.get(429, 0),
                "by_status": {str(s): n for s, n in sorted(self.by_status.items())},
                "transport_errors": self.transport_errors,
                "retries": dict(sorted(self.retries.items())),
                "effective_requests_per_minute": round(rate, 2) if rate is not None else None,
            }


@dataclass
class ClientState:
    """What every engine of one OAuth client in this process shares."""

    tokens: TokenCache
    limiter: RateLimiter
    pause: Pause
    stats: ClientStats


LimiterFactory = Callable[[EngineSettings, Clock], RateLimiter]
PauseFactory = Callable[[EngineSettings, Clock], Pause]


def _local_limiter(settings: EngineSettings, clock: Clock) -> RateLimiter:
    return AdaptiveRateLimiter(
        settings.requests_per_minute * (1.0 - settings.pace_margin), clock, adaptive=settings.adaptive_rate
    )


def _local_pause(settings: EngineSettings, clock: Clock) -> Pause:
    return LocalPause(clock, jitter=settings.pause_jitter)


class ClientRegistry:
    """Finds or creates the shared state of a (base URL, client id); thread-safe."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        limiter_factory: LimiterFactory = _local_limiter,
        pause_factory: PauseFactory = _local_pause,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self._limiter_factory = limiter_factory
        self._pause_factory = pause_factory
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], ClientState] = {}

    def state(self, api_base: str, client_id: str, settings: EngineSettings) -> ClientState:
        key = (api_base, client_id)
        with self._lock:
            found = self._states.get(key)
            if found is None:
                found = ClientState(
                    tokens=TokenCache(self.clock, settings.token_refresh_margin),
                    limiter=self._limiter_factory(settings, self.clock),
                    pause=self._pause_factory(settings, self.clock),
                    stats=ClientStats(),
                )
                self._states[key] = found
            return found

    def __repr__(self) -> str:
        return f"ClientRegistry(clients={len(self._states)})"


_DEFAULT: ClientRegistry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> ClientRegistry:
    """The registry shared by everything in this process that is not given its own."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ClientRegistry()
        return _DEFAULT
