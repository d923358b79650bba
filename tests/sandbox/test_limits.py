"""Rate windows (sliding, fixed), Retry-After, in-flight cap and penalty mode, on the fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from tests.sandbox.conftest import AsgiEnv
from tests.sandbox.support import AGGREGATES, AVAILABILITY, HOUR

Make = Callable[..., Awaitable[AsgiEnv]]


async def _hit(env: AsgiEnv, client_id: str = "sandbox-client") -> httpx.Response:
    return await env.call("GET", AVAILABILITY, client_id=client_id)


async def _statuses(env: AsgiEnv, n: int) -> list[int]:
    return [(await _hit(env)).status_code for _ in range(n)]


def _assert_429(response: httpx.Response, retry_after: int) -> None:
    body = response.json()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(retry_after)
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"
    assert (body["code"], body["status"]) == ("too.many.requests.retry.after", 429)
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert (body["details"], body["errors"]) == ([], [])


async def test_sliding_window_accepts_exactly_rate(make_asgi: Make) -> None:
    env = await make_asgi(rate=5, window=10, auto_advance=False)
    assert await _statuses(env, 5) == [200] * 5
    _assert_429(await _hit(env), 10)
    _assert_429(await _hit(env), 10)  # same instant as the first 429: not "inside" it
    env.clock.advance(9.5)
    _assert_429(await _hit(env), 1)  # ceil(0.5); arrived inside the first Retry-After, which now ends at 10.5
    env.clock.advance(1)  # the window no longer holds the first five; rejections used no quota
    assert await _statuses(env, 5) == [200] * 5
    _assert_429(await _hit(env), 10)
    stats = env.sandbox.stats()
    assert (stats["rate_limited"], stats["inside_retry_after"]) == (4, 1)
    assert stats["requests"]["jobs.availability"] == {"200": 10, "429": 4}


async def test_sliding_window_retry_after_waits_for_the_oldest(make_asgi: Make) -> None:
    env = await make_asgi(rate=3, window=10, auto_advance=False)
    assert await _statuses(env, 2) == [200, 200]
    env.clock.advance(4)
    assert await _statuses(env, 1) == [200]
    env.clock.advance(2)
    _assert_429(await _hit(env), 4)
    env.clock.advance(4)
    assert await _statuses(env, 3) == [200, 200, 429]


async def test_fixed_windows_are_aligned_to_the_epoch(make_asgi: Make) -> None:
    env = await make_asgi(rate=5, window=60, window_mode="fixed", auto_advance=False)  # starts on a minute
    env.clock.advance(50)
    assert await _statuses(env, 5) == [200] * 5
    _assert_429(await _hit(env), 10)
    env.clock.advance(10)
    assert await _statuses(env, 5) == [200] * 5
    _assert_429(await _hit(env), 60)


async def test_limits_are_per_client(make_asgi: Make) -> None:
    env = await make_asgi(rate=1, clients=["a:pa", "b:pb"], auto_advance=False)
    await env.token("a", "pa")
    await env.token("b", "pb")
    assert (await _hit(env, "a")).status_code == 200
    assert (await _hit(env, "a")).status_code == 429
    assert (await _hit(env, "b")).status_code == 200
    assert env.sandbox.stats()["max_requests_in_any_window"] == {"a": 2, "b": 1}


async def test_rate_zero_means_unlimited(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    assert set(await _statuses(env, 400)) == {200}


async def test_busiest_window_counts_every_arrival(make_asgi: Make) -> None:
    env = await make_asgi(rate=3, window=10, auto_advance=False)
    for step in (0, 0, 5, 4.999, 0.001):  # t0, t0, t0+5, t0+9.999, t0+10
        env.clock.advance(step)
        await _hit(env)
    stats = env.sandbox.stats()
    assert stats["max_requests_in_any_window"] == {"sandbox-client": 4}  # 4th arrival rejected, still counted
    assert stats["requests"]["jobs.availability"] == {"200": 4, "429": 1}


async def test_in_flight_cap(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, max_concurrent=2, latency=5)
    await env.token()
    responses = await asyncio.gather(*(_hit(env) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429]
    for response in responses:
        if response.status_code == 429:
            _assert_429(response, 1)
    stats = env.sandbox.stats()
    assert stats["peak_in_flight"] == {
        "sandbox-client": {"total": 2, "aggregates": 0, "details": 0, "jobs": 2}
    }
    assert stats["in_flight"]["sandbox-client"]["total"] == 0
    assert (await _hit(env)).status_code == 200


async def test_in_flight_is_tracked_per_family(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, latency=1)
    await env.token()
    body = {"interval": HOUR, "metrics": ["nOffered"]}
    await asyncio.gather(*(env.call("POST", AGGREGATES, body) for _ in range(3)), _hit(env))
    peaks = env.sandbox.stats()["peak_in_flight"]["sandbox-client"]
    assert peaks == {"total": 4, "aggregates": 3, "details": 0, "jobs": 1}


async def test_penalty_extends_retry_after_for_clients_that_retry_early(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, penalty=10, auto_advance=False)
    env.sandbox.inject_fault("429", endpoint="jobs", retry_after=5)
    _assert_429(await _hit(env), 5)
    env.clock.advance(1)
    _assert_429(await _hit(env), 14)  # until 5 + 10, asked at 1
    env.clock.advance(1)
    _assert_429(await _hit(env), 23)  # until 25, asked at 2
    env.clock.advance(23)
    assert (await _hit(env)).status_code == 200
    stats = env.sandbox.stats()
    assert (stats["rate_limited"], stats["inside_retry_after"]) == (3, 2)


async def test_without_penalty_early_retries_are_only_counted(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    env.sandbox.inject_fault("429", endpoint="jobs.availability", retry_after=5)
    _assert_429(await _hit(env), 5)
    env.clock.advance(4.999)
    assert (await _hit(env)).status_code == 200
    env.clock.advance(0.001)
    assert (await _hit(env)).status_code == 200
    stats = env.sandbox.stats()
    assert (stats["rate_limited"], stats["inside_retry_after"]) == (1, 1)


async def test_requests_arriving_at_the_issuing_instant_are_not_inside(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    await env.token()
    env.sandbox.inject_fault("429", retry_after=5)
    responses = await asyncio.gather(*(_hit(env) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 429]
    assert env.sandbox.stats()["inside_retry_after"] == 0
