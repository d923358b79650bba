"""Pacing: the shared rate limiter, the shared Retry-After pause and the per-family pools.

Each part is small and sits behind a protocol (:class:`RateLimiter`, :class:`Pause`) so
that a later store (Redis) can share them across processes without touching the engine.
All of them are safe across threads and event loops and read time from an injected clock.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import deque
from typing import Protocol

from airflow_provider_genesys.core.clock import Clock

__all__ = ["AdaptiveRateLimiter", "LocalPause", "Pause", "Pool", "RateLimiter"]


class RateLimiter(Protocol):
    """Spaces requests so that no window holds more than the allowed count."""

    @property
    def rate(self) -> float:
        """Current pace in requests per second."""
        ...

    async def acquire(self) -> float:
        """Wait for the next send slot; return the seconds waited."""
        ...

    def defer_until(self, instant: float) -> None:
        """Allocate no slot before ``instant`` (monotonic), e.g. the end of a Retry-After."""
        ...

    def on_throttled(self) -> None:
        """The server said "too many": slow down (adaptive mode)."""
        ...

    def on_success(self) -> None:
        """A request succeeded: recover pace (adaptive mode)."""
        ...


class Pause(Protocol):
    """A Retry-After pause shared by every request of one OAuth client."""

    def pause_for(self, seconds: float) -> float:
        """Hold every request for ``seconds`` from now (never shortens a running pause)."""
        ...

    def remaining(self) -> float:
        """Seconds until the current pause ends (0 when none runs)."""
        ...

    async def wait(self) -> float:
        """Wait out the current pause (plus jitter, never less); return the seconds waited."""
        ...


class AdaptiveRateLimiter:
    """Evenly spaced send slots (GCRA with no burst), with optional AIMD adaptation.

    Slots are ``1 / rate`` seconds apart, so any window of ``W`` seconds holds at most
    ``rate × W`` requests, and traffic resumes paced (not as a burst) after a pause.
    Adaptive mode multiplies the rate by ``decrease`` on a throttle (once per episode)
    and adds ``increase × max_rate`` per success, never above the configured maximum.
    """

    def __init__(
        self,
        requests_per_minute: float,
        clock: Clock,
        *,
        adaptive: bool = True,
        decrease: float = 0.75,
        increase: float = 0.002,
        min_requests_per_minute: float = 6.0,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.max_rate = requests_per_minute / 60.0
        self._rate = self.max_rate
        self._min_rate = min(self.max_rate, min_requests_per_minute / 60.0)
        self.adaptive = adaptive
        self._decrease = decrease
        self._increase = increase * self.max_rate
        self._next_slot = float("-inf")
        self._calm_after = float("-inf")
        self.throttles = 0

    @property
    def rate(self) -> float:
        with self._lock:
            return self._rate

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate
            return slot - now

    async def acquire(self) -> float:
        wait = self._reserve()
        if wait > 0:
            await self._clock.sleep(wait)
        return wait

    def defer_until(self, instant: float) -> None:
        with self._lock:
            self._next_slot = max(self._next_slot, instant)

    def on_throttled(self) -> None:
        if not self.adaptive:
            return
        with self._lock:
            now = self._clock.monotonic()
            if now < self._calm_after:
                return  # the same episode: requests already in flight when the wall was hit
            self.throttles += 1
            self._rate = max(self._min_rate, self._rate * self._decrease)
            self._calm_after = max(now, self._next_slot) + 1.0 / self._rate

    def on_success(self) -> None:
        if not self.adaptive:
            return
        with self._lock:
            if self._rate < self.max_rate:
                self._rate = min(self.max_rate, self._rate + self._increase)

    def __repr__(self) -> str:
        return f"AdaptiveRateLimiter(rate={self.rate * 60:.1f}/min, max={self.max_rate * 60:.1f}/min)"


class LocalPause:
    """The in-process shared Retry-After pause of one OAuth client."""

    def __init__(self, clock: Clock, jitter: float = 0.25, rng: random.Random | None = None) -> None:
        self._clock = clock
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._until = float("-inf")
        self.total_paused = 0.0
        self.episodes = 0

    def pause_for(self, seconds: float) -> float:
        with self._lock:
            now = self._clock.monotonic()
            until = now + max(0.0, seconds)
            if until > self._until:
                if self._until <= now:
                    self.episodes += 1
                    self.total_paused += until - now
                else:
                    self.total_paused += until - self._until
                self._until = until
            return self._until

    @property
    def until(self) -> float:
        with self._lock:
            return self._until

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - self._clock.monotonic())

    async def wait(self) -> float:
        waited = 0.0
        while True:
            remaining = self.remaining()
            if remaining <= 0:
                return waited
            delay = remaining + self._rng.uniform(0.0, self._jitter)
            await self._clock.sleep(delay)
            waited += delay


class Pool:
    """A named cap on requests in flight, usable from any thread or event loop."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self.peak = 0

    @property
    def in_use(self) -> int:
        with self._lock:
            return self._in_use

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_use < self.size and not self._waiters:
                self._take()
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await future
        except asyncio.CancelledError:
            self._abandon(future)
            raise

    def _take(self) -> None:
        self._in_use += 1
        self.peak = max(self.peak, self._in_use)

    def _abandon(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            if future.done() and not future.cancelled():
                self._release_locked()  # the slot was handed over just before the cancel
                return
            self._waiters = deque(w for w in self._waiters if w[1] is not future)

    def release(self) -> None:
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        self._in_use -= 1
        while self._waiters:
            loop, future = self._waiters.popleft()
            if future.done() or loop.is_closed():
                continue
            self._take()
            loop.call_soon_threadsafe(_hand_over, future, self)
            return

    async def __aenter__(self) -> Pool:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Pool({self.name!r}, size={self.size}, in_use={self.in_use}, peak={self.peak})"


def _hand_over(future: asyncio.Future[None], pool: Pool) -> None:
    if future.cancelled():
        pool.release()
    elif not future.done():
        future.set_result(None)
