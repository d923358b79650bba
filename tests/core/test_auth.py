"""OAuth client credentials over real HTTP: caching, early refresh, single flight, 401 replay."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

from airflow_provider_genesys.core.clock import FakeClock
from airflow_provider_genesys.core.errors import GenesysAuthError
from airflow_provider_genesys.core.state import ClientRegistry
from tests.helpers import AVAILABILITY, make_engine


def _availability(stats: dict[str, Any]) -> dict[str, int]:
    return stats["requests"].get("jobs.availability", {})


async def test_one_token_for_50_concurrent_requests(sandbox: Any, registry: ClientRegistry) -> None:
    engine = make_engine(sandbox.url, registry, max_concurrency=50, requests_per_minute=60_000)
    bodies = await asyncio.gather(*(engine.request("GET", AVAILABILITY, family="jobs") for _ in range(50)))
    await engine.aclose()
    stats = sandbox.sandbox.stats()
    assert all("dataAvailabilityDate" in body for body in bodies)
    assert stats["token_requests"] == 1
    assert _availability(stats) == {"200": 50}
    assert engine.state.tokens.requests == 1


async def test_engines_of_one_client_share_the_token(sandbox: Any, registry: ClientRegistry) -> None:
    first = make_engine(sandbox.url, registry)
    second = make_engine(sandbox.url, registry)
    await first.request("GET", AVAILABILITY, family="jobs")
    await second.request("GET", AVAILABILITY, family="jobs")
    await first.aclose()
    await second.aclose()
    assert sandbox.sandbox.stats()["token_requests"] == 1


async def test_token_refreshed_early_before_expiry(sandbox_factory: Any, fake_clock: FakeClock) -> None:
    server = sandbox_factory(rate=0, token_ttl=600)
    engine = make_engine(server.url, ClientRegistry(fake_clock))
    await engine.request("GET", AVAILABILITY, family="jobs")
    # refresh margin = min(300 s, 10 % of 600 s) = 60 s: the token is reused until 540 s
    fake_clock.advance(539)
    await engine.request("GET", AVAILABILITY, family="jobs")
    assert server.sandbox.stats()["token_requests"] == 1
    fake_clock.advance(2)
    await engine.request("GET", AVAILABILITY, family="jobs")
    await engine.aclose()
    stats = server.sandbox.stats()
    assert stats["token_requests"] == 2
    assert _availability(stats) == {"200": 3}


async def test_401_refreshes_once_and_replays_once(sandbox: Any, registry: ClientRegistry) -> None:
    engine = make_engine(sandbox.url, registry)
    await engine.request("GET", AVAILABILITY, family="jobs")
    sandbox.sandbox.revoke()
    body = await engine.request("GET", AVAILABILITY, family="jobs")
    await engine.aclose()
    stats = sandbox.sandbox.stats()
    assert "dataAvailabilityDate" in body
    assert stats["token_requests"] == 2
    assert _availability(stats) == {"200": 2, "401": 1}
    assert engine.summary()["retries"] == {"401": 1}


async def test_concurrent_401s_cause_one_token_request(sandbox: Any, registry: ClientRegistry) -> None:
    engine = make_engine(sandbox.url, registry, max_concurrency=10)
    await engine.request("GET", AVAILABILITY, family="jobs")
    sandbox.sandbox.revoke()
    await asyncio.gather(*(engine.request("GET", AVAILABILITY, family="jobs") for _ in range(10)))
    await engine.aclose()
    assert sandbox.sandbox.stats()["token_requests"] == 2


async def test_a_second_401_is_not_retried_again(registry: ClientRegistry) -> None:
    """The replay after a refresh gets 401 too: fail, never loop."""
    calls = {"token": 0, "api": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            calls["token"] += 1
            return httpx.Response(200, json={"access_token": f"t{calls['token']}", "expires_in": 3600})
        calls["api"] += 1
        return httpx.Response(
            401, json={"message": "Authentication required", "code": "authentication.required"}
        )

    engine = make_engine("http://mock", registry, transport=httpx.MockTransport(handler))
    with pytest.raises(GenesysAuthError) as info:
        await engine.request("GET", AVAILABILITY, family="jobs")
    assert calls == {"token": 2, "api": 2}
    assert info.value.status == 401
    assert info.value.attempts == 2


async def test_bad_secret_names_connection_and_host_never_the_secret(
    sandbox: Any, registry: ClientRegistry
) -> None:
    secret = "wrong-secret-5f1e"
    engine = make_engine(sandbox.url, registry, secret=secret)
    with pytest.raises(GenesysAuthError) as info:
        await engine.request("GET", AVAILABILITY, family="jobs")
    await engine.aclose()
    message = str(info.value)
    assert f"test connection ({sandbox.url})" in message
    assert "could not obtain an OAuth token" in message
    assert secret not in message
    assert base64.b64encode(f"sandbox-client:{secret}".encode()).decode() not in message
    assert sandbox.sandbox.stats()["requests"].get("jobs.availability") is None


async def test_token_request_uses_basic_auth_and_form_body(registry: ClientRegistry) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "abc", "token_type": "bearer", "expires_in": 86400})

    engine = make_engine("https://api.mypurecloud.ie", registry, transport=httpx.MockTransport(handler))
    token = await engine.token()
    assert token.value == "abc"
    request = seen[0]
    assert str(request.url) == "https://login.mypurecloud.ie/oauth/token"
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content == b"grant_type=client_credentials"
    assert "abc" not in repr(token)
