"""Stats: every counter with exact values; reset keeps jobs and tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.sandbox.conftest import AsgiEnv
from tests.sandbox.support import AGGREGATES, AVAILABILITY, DETAILS, HOUR, JOBS, TOKEN, job_path

Make = Callable[..., Awaitable[AsgiEnv]]


async def test_every_counter_exactly(make_asgi: Make) -> None:
    env = await make_asgi(
        rate=3, window=10, job_delay=0, auto_advance=False, clients=["sandbox-client:sandbox-secret", "b:pb"]
    )
    client = env.client
    assert (
        await client.post(TOKEN, auth=("sandbox-client", "bad"), data={"grant_type": "client_credentials"})
    ).status_code == 401
    await env.token()
    await env.token("b", "pb")
    assert (await client.get(AVAILABILITY)).status_code == 401  # no token: counted, no client
    assert (
        await env.call("POST", AGGREGATES, {"interval": HOUR, "metrics": ["nOffered"]})
    ).status_code == 200
    assert (await env.call("POST", DETAILS, {"interval": "bad"})).status_code == 400
    job = (await env.call("POST", JOBS, {"interval": HOUR})).json()["jobId"]
    assert (await env.call("GET", job_path(job))).status_code == 429  # 4th in the window
    env.sandbox.inject_fault("503", endpoint="jobs.status", retry_after=2)
    env.clock.advance(10)
    assert (await env.call("GET", job_path(job))).status_code == 503
    env.clock.advance(1)
    assert (await env.call("GET", job_path(job, "/results"), params={"pageSize": 1})).status_code == 200
    assert (await env.call("DELETE", job_path(job))).status_code == 204
    assert (await env.call("GET", AVAILABILITY, client_id="b")).status_code == 200
    stats = env.sandbox.stats()
    assert stats == {
        "requests": {
            "token": {"401": 1, "200": 2},
            "jobs.availability": {"401": 1, "200": 1},
            "aggregates": {"200": 1},
            "details": {"400": 1},
            "jobs.create": {"202": 1},
            "jobs.status": {"429": 1, "503": 1},
            "jobs.results": {"200": 1},
            "jobs.delete": {"204": 1},
        },
        "requests_total": 9,
        "rate_limited": 1,
        "inside_retry_after": 2,  # results and delete, 1 s into the 503's 2 s
        "max_requests_in_any_window": {"sandbox-client": 4, "b": 1},
        "token_requests": 3,
        "token_requests_by_client": {"sandbox-client": 2, "b": 1},
        "jobs_created": 1,
        "faults_injected": {"503": 1},
        "peak_in_flight": {
            "sandbox-client": {"total": 1, "aggregates": 1, "details": 1, "jobs": 1},
            "b": {"total": 1, "aggregates": 0, "details": 0, "jobs": 1},
        },
        "in_flight": {
            "sandbox-client": {"total": 0, "aggregates": 0, "details": 0, "jobs": 0},
            "b": {"total": 0, "aggregates": 0, "details": 0, "jobs": 0},
        },
    }
    assert (await client.get("/sandbox/stats")).json() == stats


async def test_reset_clears_counters_and_throttling_but_keeps_jobs_and_tokens(make_asgi: Make) -> None:
    env = await make_asgi(rate=1, window=60, job_delay=0, auto_advance=False)
    job = (await env.call("POST", JOBS, {"interval": HOUR})).json()["jobId"]
    assert (await env.call("GET", job_path(job))).status_code == 429
    env.sandbox.inject_fault("500", count=5)
    assert (await env.client.post("/sandbox/reset")).json() == {"reset": True}
    assert env.sandbox.faults.pending == 0
    assert env.sandbox.stats() == {
        "requests": {},
        "requests_total": 0,
        "rate_limited": 0,
        "inside_retry_after": 0,
        "max_requests_in_any_window": {},
        "token_requests": 0,
        "token_requests_by_client": {},
        "jobs_created": 0,
        "faults_injected": {},
        "peak_in_flight": {},
        "in_flight": {},
    }
    response = await env.call("GET", job_path(job))  # same token, fresh quota, job still there
    assert (response.status_code, response.json()["state"]) == (200, "FULFILLED")


async def test_reset_mid_request_keeps_in_flight_consistent(make_asgi: Make) -> None:
    import asyncio

    env = await make_asgi(rate=0, latency=5)
    await env.token()
    pending = asyncio.ensure_future(env.call("GET", AVAILABILITY))
    await asyncio.sleep(0)
    while not env.sandbox.stats()["in_flight"]:
        await asyncio.sleep(0)
    env.sandbox.reset()
    assert (await pending).status_code == 200
    assert env.sandbox.stats()["in_flight"] == {}
