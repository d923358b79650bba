"""The request engine against the sandbox: shared Retry-After, pacing, pools, retries, errors.

Where time matters the sandbox runs in-process and shares the engine's fake clock, so
waits are exact and instant; timeouts and dropped connections need a real socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_genesys.core.clock import FakeClock
from airflow_provider_genesys.core.errors import (
    GenesysBadRequestError,
    GenesysPermissionError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTransportError,
)
from airflow_provider_genesys.core.state import ClientRegistry
from tests.helpers import AGGREGATES, AVAILABILITY, DETAILS, HOUR, JOBS, aggregates_body, make_engine

ASGI_URL = "http://sandbox"


async def _many(engine: Any, n: int, path: str = AGGREGATES, family: str = "aggregates") -> list[Any]:
    async def one() -> Any:
        if family == "jobs":
            return await engine.request("GET", AVAILABILITY, family="jobs")
        body = aggregates_body() if family == "aggregates" else {"interval": HOUR, "paging": {"pageSize": 1}}
        return await engine.request("POST", path, family=family, json=body)

    return await asyncio.gather(*(one() for _ in range(n)))


async def test_one_429_pauses_every_request_of_the_client(
    asgi_sandbox: Any, registry: ClientRegistry
) -> None:
    """100 queued, 20 in flight, one 429 Retry-After: 5 → nothing arrives for 5 s, all complete."""
    sandbox, transport = asgi_sandbox(rate=0, latency=0.5)
    sandbox.inject_fault("429", count=1, endpoint="aggregates", retry_after=5)
    engine = make_engine(
        ASGI_URL, registry, transport=transport, max_concurrency=20, requests_per_minute=60_000
    )
    start = registry.clock.monotonic()
    results = await _many(engine, 100)
    stats = sandbox.stats()
    assert len(results) == 100 and all("results" in r or r == {} for r in results)
    assert stats["rate_limited"] == 1
    assert stats["inside_retry_after"] == 0
    assert stats["requests"]["aggregates"] == {"200": 100, "429": 1}
    summary = engine.summary()
    assert summary["retries"] == {"429": 1}
    assert summary["paused_seconds"] == pytest.approx(5.0)
    assert registry.clock.monotonic() - start >= 5.0


async def test_requests_never_exceed_the_rate_in_any_window(
    asgi_sandbox: Any, registry: ClientRegistry
) -> None:
    sandbox, transport = asgi_sandbox(rate=30, window=10, window_mode="sliding")
    engine = make_engine(ASGI_URL, registry, transport=transport, max_concurrency=8, requests_per_minute=180)
    await _many(engine, 100)
    stats = sandbox.stats()
    assert stats["rate_limited"] == 0
    assert 28 <= stats["max_requests_in_any_window"]["sandbox-client"] <= 30
    assert stats["requests"]["aggregates"] == {"200": 100}


async def test_pools_cap_in_flight_per_family(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0, latency=2)
    engine = make_engine(
        ASGI_URL,
        registry,
        transport=transport,
        max_concurrency={"aggregates": 3, "details": 2, "jobs": 1},
        requests_per_minute=60_000,
    )
    await asyncio.gather(
        _many(engine, 30), _many(engine, 20, DETAILS, "details"), _many(engine, 10, family="jobs")
    )
    peaks = sandbox.stats()["peak_in_flight"]["sandbox-client"]
    assert (peaks["aggregates"], peaks["details"], peaks["jobs"]) == (3, 2, 1)
    assert engine.summary()["peak_in_flight"] == {"aggregates": 3, "details": 2, "jobs": 1}


async def test_retry_after_as_http_date(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("429", count=1, endpoint="aggregates", retry_after=7, retry_after_format="date")
    engine = make_engine(ASGI_URL, registry, transport=transport)
    start = registry.clock.monotonic()
    await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    waited = registry.clock.monotonic() - start
    assert 6.0 <= waited <= 7.0 + 0.25  # HTTP dates have whole-second precision; jitter adds ≤ 0.25 s
    assert sandbox.stats()["inside_retry_after"] == 0


async def test_429_without_retry_after_waits_3s_then_longer(
    asgi_sandbox: Any, registry: ClientRegistry
) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("429", count=2, endpoint="aggregates", retry_after_format="none")
    engine = make_engine(ASGI_URL, registry, transport=transport, pause_jitter=0.0)
    start = registry.clock.monotonic()
    await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    assert registry.clock.monotonic() - start == pytest.approx(3.0 + 6.0)
    assert engine.summary()["retries"] == {"429": 2}


async def test_retry_after_above_max_retry_wait_fails_with_server_value(
    asgi_sandbox: Any, registry: ClientRegistry
) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("429", count=1, endpoint="aggregates", retry_after=600)
    engine = make_engine(ASGI_URL, registry, transport=transport, max_retry_wait=300)
    with pytest.raises(GenesysRateLimitError) as info:
        await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    error = info.value
    assert error.retry_after == 600
    assert error.status == 429
    assert error.code == "too.many.requests.retry.after"
    assert error.correlation_id
    assert error.attempts == 1
    assert "600s" in str(error) and "max_retry_wait" in str(error)


async def test_503_with_retry_after_pauses_the_client(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("503", count=1, endpoint="aggregates", retry_after=4)
    engine = make_engine(ASGI_URL, registry, transport=transport, pause_jitter=0.0)
    start = registry.clock.monotonic()
    await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    assert registry.clock.monotonic() - start == pytest.approx(4.0)
    assert engine.summary()["retries"] == {"5xx": 1}
    assert engine.summary()["paused_seconds"] == pytest.approx(4.0)


async def test_503_without_retry_after_backs_off_with_jitter(
    asgi_sandbox: Any, registry: ClientRegistry
) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("503", count=3, endpoint="aggregates", retry_after_format="none")
    engine = make_engine(ASGI_URL, registry, transport=transport, backoff_base=1.0)
    start = registry.clock.monotonic()
    await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    waited = registry.clock.monotonic() - start
    assert 0 < waited <= 1 + 2 + 4  # full jitter: each wait in [0, base × 2^(n-1)]
    assert engine.summary()["retries"] == {"5xx": 3}
    assert engine.summary()["paused_seconds"] == 0


async def test_attempt_limit_ends_with_typed_error(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("503", count=50, endpoint="aggregates", retry_after_format="none")
    engine = make_engine(ASGI_URL, registry, transport=transport, max_attempts=3)
    with pytest.raises(GenesysServerError) as info:
        await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    error = info.value
    assert (error.status, error.code, error.attempts) == (503, "service.unavailable", 3)
    assert error.correlation_id and error.correlation_id in str(error)
    assert error.waited > 0
    assert sandbox.stats()["requests"]["aggregates"] == {"503": 3}


async def test_deadline_ends_with_typed_error(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("503", count=50, endpoint="aggregates", retry_after=4)
    engine = make_engine(
        ASGI_URL, registry, transport=transport, retry_deadline=10, max_attempts=50, pause_jitter=0
    )
    with pytest.raises(GenesysServerError) as info:
        await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    # attempts at 0, 4 and 8 s; a fourth would start at 12 s > 10 s deadline
    assert info.value.attempts == 3
    assert info.value.waited == pytest.approx(8.0)


async def test_400_is_not_retried_and_names_the_field(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    engine = make_engine(ASGI_URL, registry, transport=transport)
    with pytest.raises(GenesysBadRequestError) as info:
        await engine.request(
            "POST", AGGREGATES, family="aggregates", json=aggregates_body(granularity="PT7M")
        )
    assert info.value.field_names == ["granularity"]
    assert info.value.attempts == 1
    assert "granularity" in str(info.value)
    assert sandbox.stats()["requests"]["aggregates"] == {"400": 1}


async def test_403_names_the_permission_to_grant(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0, clients=["limited:pw:analytics:conversationDetail:view"])
    engine = make_engine(ASGI_URL, registry, transport=transport, client_id="limited", secret="pw")
    with pytest.raises(GenesysPermissionError) as info:
        await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    assert info.value.permissions == ["analytics:conversationAggregate:view"]
    assert "Grant the OAuth client's role analytics:conversationAggregate:view" in str(info.value)
    assert info.value.attempts == 1
    assert sandbox.stats()["requests"]["aggregates"] == {"403": 1}


async def test_timeouts_are_retried(sandbox_factory: Any, registry: ClientRegistry) -> None:
    server = sandbox_factory(rate=0, slow_seconds=2.0)
    server.sandbox.inject_fault("slow", count=2, endpoint="aggregates")
    engine = make_engine(server.url, registry, timeout=0.2)
    body = await engine.request("POST", AGGREGATES, family="aggregates", json=aggregates_body())
    await engine.aclose()
    assert isinstance(body, dict)
    assert engine.summary()["retries"] == {"timeout": 2}


async def test_dropped_connections_are_retried(sandbox_factory: Any, registry: ClientRegistry) -> None:
    server = sandbox_factory(rate=0)
    server.sandbox.inject_fault("drop", count=2, endpoint="details")
    engine = make_engine(server.url, registry)
    body = await engine.request(
        "POST", DETAILS, family="details", json={"interval": HOUR, "paging": {"pageSize": 5}}
    )
    await engine.aclose()
    assert len(body["conversations"]) == 5
    assert engine.summary()["retries"] == {"connection": 2}


async def test_job_creation_that_timed_out_is_not_sent_twice(
    sandbox_factory: Any, registry: ClientRegistry
) -> None:
    server = sandbox_factory(rate=0, slow_seconds=2.0)  # 10× the timeout
    server.sandbox.inject_fault("slow", count=1, endpoint="jobs.create")
    engine = make_engine(server.url, registry, timeout=0.2)
    with pytest.raises(GenesysTransportError) as info:
        await engine.request("POST", JOBS, family="jobs", json={"interval": HOUR}, idempotent=False)
    await engine.aclose()
    assert "not sent again" in str(info.value)
    assert info.value.attempts == 1
    assert server.sandbox.stats()["jobs_created"] == 1


async def test_job_creation_is_retried_after_429(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("429", count=1, endpoint="jobs.create", retry_after=2)
    engine = make_engine(ASGI_URL, registry, transport=transport)
    body = await engine.request("POST", JOBS, family="jobs", json={"interval": HOUR}, idempotent=False)
    assert "jobId" in body
    assert sandbox.stats()["jobs_created"] == 1


async def test_job_creation_not_retried_after_502(asgi_sandbox: Any, registry: ClientRegistry) -> None:
    sandbox, transport = asgi_sandbox(rate=0)
    sandbox.inject_fault("502", count=1, endpoint="jobs.create", retry_after_format="none")
    engine = make_engine(ASGI_URL, registry, transport=transport)
    with pytest.raises(GenesysServerError):
        await engine.request("POST", JOBS, family="jobs", json={"interval": HOUR}, idempotent=False)
    assert sandbox.stats()["requests"]["jobs.create"] == {"502": 1}


async def test_adaptive_rate_slows_down_on_429_and_recovers(asgi_sandbox: Any, fake_clock: FakeClock) -> None:
    sandbox, transport = asgi_sandbox(rate=20, window=10)
    registry = ClientRegistry(fake_clock)
    engine = make_engine(ASGI_URL, registry, transport=transport, max_concurrency=4, requests_per_minute=240)
    await _many(engine, 120)
    stats = sandbox.stats()
    assert stats["requests"]["aggregates"]["200"] == 120
    assert engine.state.limiter.rate < 4.0  # slowed below the configured 240/min
    assert stats["rate_limited"] <= 12  # at most 10 %, while the configured pace was 2× the real limit
