"""Regression tests for the shared pieces: token single flight under cancellation, one AIMD cut
per throttle episode, and no send inside a pause that began while a token was refreshed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx

from airflow_provider_genesys.core.auth import TokenCache
from airflow_provider_genesys.core.clock import FakeClock, SystemClock
from airflow_provider_genesys.core.pacing import AdaptiveRateLimiter
from airflow_provider_genesys.core.state import ClientRegistry
from tests.helpers import AGGREGATES, aggregates_body, make_engine


async def test_a_cancelled_waiter_does_not_cancel_the_refresh_for_others() -> None:
    cache = TokenCache(SystemClock())
    gate = asyncio.Event()

    async def fetch() -> tuple[str, float]:
        await gate.wait()
        return "token-1", 3600.0

    owner = asyncio.create_task(cache.get(fetch))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(cache.get(fetch))
    waiting = asyncio.create_task(cache.get(fetch))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(owner, cancelled, waiting, return_exceptions=True)
    assert results[0].value == "token-1"
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[2].value == "token-1"
    assert cache.requests == 1


async def test_a_failing_listener_does_not_wedge_later_refreshes() -> None:
    cache = TokenCache(SystemClock())
    cache.add_listener(lambda token: (_ for _ in ()).throw(RuntimeError("masker down")))

    async def fetch() -> tuple[str, float]:
        return "token", 3600.0

    with contextlib.suppress(RuntimeError):
        await cache.get(fetch)
    assert cache.current() is not None
    assert (await asyncio.wait_for(cache.get(fetch), timeout=1)).value == "token"


def test_one_rate_cut_per_throttle_episode() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(300, clock)
    for _ in range(4):  # four in-flight requests hit the wall; their 429s arrive 0.3 s apart
        limiter.defer_until(clock.monotonic() + 3.0)  # the engine sets the pause first …
        limiter.on_throttled()  # … then slows down
        clock.advance(0.3)
    assert limiter.throttles == 1
    assert round(limiter.rate * 60, 1) == 225.0


def test_nothing_is_sent_inside_a_pause_that_began_during_a_token_refresh(sandbox: Any) -> None:
    class SlowToken(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/oauth/token"):
                await asyncio.sleep(0.5)
            response = await self.inner.handle_async_request(request)
            if response.status_code == 429:
                await asyncio.sleep(0.3)  # the 429 arrives while the others wait for the new token
            return response

    engine = make_engine(
        sandbox.url, ClientRegistry(SystemClock()), transport=SlowToken(), requests_per_minute=6000
    )

    async def scenario() -> None:
        await engine.token()
        sandbox.sandbox.inject_fault("429", count=1, endpoint="aggregates", retry_after=2)
        first = asyncio.create_task(
            engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
        )
        await asyncio.sleep(0.05)
        engine.state.tokens.invalidate(engine.state.tokens.current().generation)  # type: ignore[union-attr]
        others = [
            asyncio.create_task(
                engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
            )
            for _ in range(3)
        ]
        await asyncio.gather(first, *others)
        await engine.aclose()

    started = time.monotonic()
    asyncio.run(scenario())
    stats = sandbox.sandbox.stats()
    assert stats["inside_retry_after"] == 0
    assert stats["requests"]["aggregates"] == {"200": 4, "429": 1}
    assert time.monotonic() - started >= 2.0
