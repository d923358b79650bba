"""One source of time for the client core and the sandbox, so tests can drive both.

Every part that waits or reads the time takes a :class:`Clock`. Production code
uses :class:`SystemClock`; tests use :class:`FakeClock`, whose time only moves
when the test (or its auto-advance mode) moves it, so pacing and retry tests are
instant and exact.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the core needs from time: wall time, a monotonic reading and an async sleep."""

    def time(self) -> float:
        """Wall-clock time in seconds since the epoch (UTC)."""
        ...

    def monotonic(self) -> float:
        """A reading that never goes backwards, for measuring elapsed time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real clock: ``time.time``, ``time.monotonic`` and ``asyncio.sleep``."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock whose time moves only when told to; safe across threads and event loops.

    ``advance(seconds)`` moves time forward and wakes every sleeper whose deadline has
    passed, on whichever event loop it sleeps. With ``auto_advance=True`` the clock
    moves itself: whenever the event loop of a sleeper has nothing else ready to run,
    time jumps to the earliest deadline. That suits tests where the engine and the
    sandbox share one event loop (in-process ASGI); across real sockets, advance by hand.
    """

    def __init__(self, start: float = 1_700_000_000.0, *, auto_advance: bool = False) -> None:
        self._epoch = float(start)
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.auto_advance = auto_advance
        self._advancers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    def time(self) -> float:
        with self._lock:
            return self._epoch + self._elapsed

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            deadline = self._elapsed + seconds
            heapq.heappush(self._sleepers, (deadline, next(self._seq), loop, future))
        if self.auto_advance:
            self._ensure_advancer(loop)
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake the sleepers that are due."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._elapsed += seconds
            due = self._pop_due()
        self._wake(due)

    def set_time(self, timestamp: float) -> None:
        """Move wall time forward to ``timestamp`` (epoch seconds)."""
        self.advance(max(0.0, timestamp - self.time()))

    @property
    def pending_sleepers(self) -> int:
        with self._lock:
            return sum(1 for *_, fut in self._sleepers if not fut.done())

    def _pop_due(self) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]:
        due = []
        while self._sleepers and self._sleepers[0][0] <= self._elapsed:
            _, _, loop, future = heapq.heappop(self._sleepers)
            due.append((loop, future))
        return due

    @staticmethod
    def _wake(due: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
        for loop, future in due:
            if loop.is_closed():
                continue
            loop.call_soon_threadsafe(_resolve, future)

    def _advance_to_next(self) -> bool:
        with self._lock:
            while self._sleepers and self._sleepers[0][3].done():
                heapq.heappop(self._sleepers)  # cancelled sleepers
            if not self._sleepers:
                return False
            self._elapsed = max(self._elapsed, self._sleepers[0][0])
            due = self._pop_due()
        self._wake(due)
        return True

    def _ensure_advancer(self, loop: asyncio.AbstractEventLoop) -> None:
        task = self._advancers.get(loop)
        if task is None or task.done():
            self._advancers[loop] = loop.create_task(self._run_advancer(loop))

    async def _run_advancer(self, loop: asyncio.AbstractEventLoop) -> None:
        idle_rounds = 0
        while True:
            await asyncio.sleep(0)
            # ``_ready`` holds the callbacks runnable right now; when only this task
            # was runnable, every other task waits on a fake sleep (or has finished).
            ready = getattr(loop, "_ready", None)
            if ready is not None and len(ready) > 0:
                idle_rounds = 0
                continue
            idle_rounds += 1
            if idle_rounds < 3:
                continue
            idle_rounds = 0
            if not self._advance_to_next():
                return

    def __repr__(self) -> str:
        return f"FakeClock(time={self.time():.3f}, auto_advance={self.auto_advance})"


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
