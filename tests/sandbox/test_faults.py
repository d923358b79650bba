"""Faults: scripted and random, every kind; ``drop`` and timeouts over a real socket."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from airflow_provider_genesys.sandbox import SandboxServer
from tests.sandbox.conftest import START, AsgiEnv
from tests.sandbox.support import AGGREGATES, AVAILABILITY, DETAILS, HOUR, JOBS, bearer, job_path

Make = Callable[..., Awaitable[AsgiEnv]]
AGG = {"interval": HOUR, "metrics": ["nOffered"]}
CODES = {500: "internal.server.error", 502: "bad.gateway", 503: "service.unavailable", 504: "request.timeout"}


async def _agg(env: AsgiEnv) -> httpx.Response:
    return await env.call("POST", AGGREGATES, AGG)


async def test_scripted_429_hits_exactly_the_next_matching_request(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    env.sandbox.inject_fault("429", count=1, endpoint="aggregates", retry_after=5)
    assert (await env.call("GET", AVAILABILITY)).status_code == 200
    response = await _agg(env)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "5")
    assert response.json()["code"] == "too.many.requests.retry.after"
    env.clock.advance(1)
    assert (await _agg(env)).status_code == 200  # inside the 5 s, but no penalty: served, counted
    stats = env.sandbox.stats()
    assert stats["faults_injected"] == {"429": 1}
    assert (stats["inside_retry_after"], stats["rate_limited"]) == (1, 1)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_genesys_shaped(asgi_env: AsgiEnv, status: int) -> None:
    asgi_env.sandbox.inject_fault(str(status), endpoint="aggregates", retry_after=2)
    asgi_env.sandbox.inject_fault(str(status), endpoint="aggregates", retry_after_format="none")
    first, second = await _agg(asgi_env), await _agg(asgi_env)
    for response in (first, second):
        body = response.json()
        assert (response.status_code, body["status"], body["code"]) == (status, status, CODES[status])
        assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert first.headers["Retry-After"] == "2" and "Retry-After" not in second.headers
    assert (await _agg(asgi_env)).status_code == 200


async def test_503_retry_after_always_carries_the_header(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("503-retry-after", count=3)
    for _ in range(3):
        response = await _agg(asgi_env)
        assert response.status_code == 503 and 1 <= int(response.headers["Retry-After"]) <= 3


async def test_retry_after_as_http_date(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    env.sandbox.inject_fault("429", retry_after=7, retry_after_format="date")
    response = await _agg(env)
    assert parsedate_to_datetime(response.headers["Retry-After"]).timestamp() == START + 7
    env.clock.advance(6.5)
    await _agg(env)
    env.clock.advance(0.5)
    await _agg(env)
    assert env.sandbox.stats()["inside_retry_after"] == 1


async def test_429_without_header_leaves_no_retry_after_state(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, auto_advance=False)
    env.sandbox.inject_fault("429", count=1, retry_after_format="none")
    response = await _agg(env)
    assert response.status_code == 429 and "Retry-After" not in response.headers
    env.clock.advance(0.5)
    await _agg(env)
    assert env.sandbox.stats()["inside_retry_after"] == 0


async def test_nonjson_is_an_html_502(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("nonjson", endpoint="details")
    response = await asgi_env.call("POST", DETAILS, {"interval": HOUR})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html>Bad gateway</html>"


async def test_slow_delays_by_slow_seconds_on_the_sandbox_clock(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, slow_seconds=30)
    env.sandbox.inject_fault("slow", endpoint="aggregates")
    await env.token()
    before = env.clock.monotonic()
    assert (await _agg(env)).status_code == 200
    assert env.clock.monotonic() - before == pytest.approx(30)
    before = env.clock.monotonic()
    await _agg(env)
    assert env.clock.monotonic() == before


async def test_family_selector_and_injection_order(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("500", count=2, endpoint="aggregates")
    asgi_env.sandbox.inject_fault("503", count=1, endpoint="jobs")
    assert (await asgi_env.call("POST", DETAILS, {"interval": HOUR})).status_code == 200
    assert (await asgi_env.call("GET", AVAILABILITY)).status_code == 503
    assert [(await _agg(asgi_env)).status_code for _ in range(3)] == [500, 500, 200]
    assert asgi_env.sandbox.faults.pending == 0


async def test_faults_apply_after_auth(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("503")
    assert (await asgi_env.client.get(AVAILABILITY)).status_code == 401
    assert asgi_env.sandbox.faults.pending == 1
    assert (await asgi_env.call("GET", AVAILABILITY)).status_code == 503


async def test_429_fault_on_job_creation_creates_no_job(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("429", endpoint="jobs.create", retry_after=1)
    assert (await asgi_env.call("POST", JOBS, {"interval": HOUR})).status_code == 429
    assert asgi_env.sandbox.stats()["jobs_created"] == 0


async def _details_ids(env: AsgiEnv, size: int) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    lengths: list[int] = []
    page = 1
    while True:
        body = (
            await env.call(
                "POST", DETAILS, {"interval": HOUR, "paging": {"pageSize": size, "pageNumber": page}}
            )
        ).json()
        if "conversations" not in body:
            return ids, lengths
        lengths.append(len(body["conversations"]))
        ids += [c["conversationId"] for c in body["conversations"]]
        page += 1


async def test_short_details_page_loses_nothing_for_a_client_that_pages_to_the_end(asgi_env: AsgiEnv) -> None:
    expected, _ = await _details_ids(asgi_env, 100)
    asgi_env.sandbox.inject_fault("short", endpoint="details")
    short = await asgi_env.call("POST", DETAILS, {"interval": HOUR, "paging": {"pageSize": 100}})
    assert len(short.json()["conversations"]) < 100
    assert short.json()["totalHits"] > len(expected)  # approximate, inflated by a few %
    ids, lengths = await _details_ids(asgi_env, 100)
    assert ids == expected and lengths[0] < 100 and lengths[1] == 100
    again, _ = await _details_ids(asgi_env, 100)
    assert again == expected  # the client's view of this query stays consistent


async def test_short_job_pages_shift_the_cursor(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, job_delay=0)
    job = (await env.call("POST", JOBS, {"interval": HOUR})).json()["jobId"]

    async def collect() -> tuple[list[str], list[int]]:
        ids: list[str] = []
        lengths: list[int] = []
        params: dict[str, Any] = {"pageSize": 200}
        while True:
            body = (await env.call("GET", job_path(job, "/results"), params=params)).json()
            lengths.append(len(body.get("conversations", [])))
            ids += [c["conversationId"] for c in body.get("conversations", [])]
            if "cursor" not in body:
                return ids, lengths
            params = {"pageSize": 200, "cursor": body["cursor"]}

    expected, _ = await collect()
    env.sandbox.inject_fault("short", count=2, endpoint="jobs.results")
    ids, lengths = await collect()
    assert ids == expected and lengths[0] < 200 and lengths[1] < 200
    assert env.sandbox.stats()["faults_injected"] == {"short": 2}


async def test_short_waits_for_a_paged_endpoint(asgi_env: AsgiEnv) -> None:
    asgi_env.sandbox.inject_fault("short")
    assert (await _agg(asgi_env)).status_code == 200
    assert asgi_env.sandbox.faults.pending == 1


async def _random_statuses(make_asgi: Make, seed: int) -> list[int]:
    env = await make_asgi(rate=0, seed=seed, fault_rate=0.5, faults="500,503,nonjson")
    return [(await env.call("GET", AVAILABILITY)).status_code for _ in range(40)]


async def test_random_faults_are_deterministic_per_seed(make_asgi: Make) -> None:
    first = await _random_statuses(make_asgi, 5)
    assert first == await _random_statuses(make_asgi, 5)
    assert first != await _random_statuses(make_asgi, 6)
    assert set(first) == {200, 500, 502, 503}
    assert 8 < sum(s != 200 for s in first) < 32


async def test_random_faults_only_use_enabled_kinds_and_are_counted(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, seed=1, fault_rate=0.3, faults="504,429")
    statuses = [(await env.call("GET", AVAILABILITY)).status_code for _ in range(60)]
    assert set(statuses) <= {200, 504, 429}
    assert sum(env.sandbox.stats()["faults_injected"].values()) == sum(s != 200 for s in statuses)


async def test_invalid_injections_are_refused(asgi_env: AsgiEnv) -> None:
    for args in ({"kind": "teapot"}, {"kind": "500", "endpoint": "users"}, {"kind": "500", "count": 0}):
        with pytest.raises(ValueError):
            asgi_env.sandbox.inject_fault(**args)
        assert (await asgi_env.client.post("/sandbox/faults", json=args)).status_code == 400
    ok = await asgi_env.client.post(
        "/sandbox/faults", json={"kind": "502", "count": 2, "endpoint": "details"}
    )
    assert ok.status_code == 200 and ok.json()["pending"] == 2


def test_drop_is_a_protocol_error_over_a_real_socket(sandbox_server: SandboxServer) -> None:
    headers = bearer(sandbox_server)
    sandbox_server.sandbox.inject_fault("drop", endpoint="details")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # a cut body; rarely a reset
        httpx.post(sandbox_server.url + DETAILS, json={"interval": HOUR}, headers=headers)
    response = httpx.post(sandbox_server.url + DETAILS, json={"interval": HOUR}, headers=headers)
    assert response.status_code == 200 and len(response.json()["conversations"]) == 25
    stats = sandbox_server.sandbox.stats()
    assert stats["faults_injected"] == {"drop": 1}
    assert stats["requests"]["details"] == {"200": 2}
    assert stats["in_flight"]["sandbox-client"]["total"] == 0


def test_timed_out_job_creation_still_created_one_job(server_factory: Callable[..., SandboxServer]) -> None:
    server = server_factory(rate=0, slow_seconds=5)
    headers = bearer(server)
    server.sandbox.inject_fault("slow", endpoint="jobs.create")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url + JOBS, json={"interval": HOUR}, headers=headers, timeout=0.3)
    assert server.sandbox.stats()["jobs_created"] == 1
    deadline = time.monotonic() + 2
    while server.sandbox.stats()["in_flight"]["sandbox-client"]["total"] and time.monotonic() < deadline:
        time.sleep(0.02)  # the sandbox notices the hang-up and stops stalling
    assert server.sandbox.stats()["in_flight"]["sandbox-client"]["total"] == 0
    assert server.sandbox.stats()["requests"]["jobs.create"] == {"202": 1}
