"""Async jobs: lifecycle on the fake clock, cursor paging, caps, forced states, 404s, availability."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from airflow_provider_genesys.sandbox.timefmt import format_ms
from tests.sandbox.conftest import START, AsgiEnv
from tests.sandbox.support import AVAILABILITY, HOUR, JOBS, TIMESTAMP, instant, job_path

Make = Callable[..., Awaitable[AsgiEnv]]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def _env(make_asgi: Make, **config: Any) -> AsgiEnv:
    return await make_asgi(rate=0, auto_advance=False, **config)


async def _create(env: AsgiEnv, **body: Any) -> str:
    response = await env.call("POST", JOBS, {"interval": HOUR, **body})
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"jobId"} and UUID.match(response.json()["jobId"])
    return str(response.json()["jobId"])


async def _status(env: AsgiEnv, job_id: str) -> Any:
    response = await env.call("GET", job_path(job_id))
    assert response.status_code == 200, response.text
    return response.json()


async def _collect(env: AsgiEnv, job_id: str, size: int = 1000) -> list[dict[str, Any]]:
    """Follow cursors until none comes back."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"pageSize": size}
    while True:
        response = await env.call("GET", job_path(job_id, "/results"), params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body.get("conversations", [])
        if "cursor" not in body:
            return found
        params = {"pageSize": size, "cursor": body["cursor"]}


async def test_lifecycle_queued_pending_fulfilled(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=2)
    job = await _create(env)
    status = await _status(env, job)
    assert status == {
        "state": "QUEUED",
        "submissionDate": format_ms(round(START * 1000)),
        "expirationDate": format_ms(round(START * 1000) + 86_400_000),
    }
    env.clock.advance(0.999)
    assert (await _status(env, job))["state"] == "QUEUED"
    env.clock.advance(0.001)
    assert (await _status(env, job))["state"] == "PENDING"
    response = await env.call("GET", job_path(job, "/results"))
    assert (response.status_code, response.json()["code"]) == (400, "bad.request")
    env.clock.advance(1)
    done = await _status(env, job)
    assert done["state"] == "FULFILLED" and "errorMessage" not in done
    assert re.match(TIMESTAMP, done["completionDate"]) and done["completionDate"] == format_ms(
        round(START * 1000) + 2000
    )


async def test_results_cursor_paging_yields_every_conversation_once(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    job = await _create(env, startOfDayIntervalMatching=True)
    small = await _collect(env, job, size=7)
    big = await _collect(env, job, size=1000)
    ids = [c["conversationId"] for c in small]
    assert ids == [c["conversationId"] for c in big] and len(ids) == len(set(ids))
    truth = (await env.client.get("/sandbox/truth", params={"start": HOUR[:24], "end": HOUR[25:]})).json()
    assert sorted(ids) == truth["conversation_ids"]
    first = (await env.call("GET", job_path(job, "/results"), params={"pageSize": 7})).json()
    assert (
        set(first) == {"conversations", "cursor", "dataAvailabilityDate"} and len(first["conversations"]) == 7
    )


async def test_default_matching_is_lifetime_overlap(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    start, end = instant(HOUR[:24]), instant(HOUR[25:])
    overlap = await _collect(env, await _create(env))
    started = await _collect(env, await _create(env, startOfDayIntervalMatching=True))
    assert {c["conversationId"] for c in started} < {c["conversationId"] for c in overlap}
    for conv in overlap:
        assert instant(conv["conversationStart"]) < end and instant(conv["conversationEnd"]) > start
    keys = [(c["conversationStart"], c["conversationId"]) for c in overlap]
    assert keys == sorted(keys)


async def test_order_limit_and_filters(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    asc = await _collect(env, await _create(env))
    desc = await _collect(env, await _create(env, order="desc"))
    assert [c["conversationId"] for c in desc] == [c["conversationId"] for c in reversed(asc)]
    limited = await _collect(env, await _create(env, limit=10))
    assert [c["conversationId"] for c in limited] == [c["conversationId"] for c in asc[:10]]
    voice = await _collect(
        env,
        await _create(
            env,
            segmentFilters=[{"type": "and", "predicates": [{"dimension": "mediaType", "value": "voice"}]}],
        ),
    )
    assert voice and all(c["participants"][0]["sessions"][0]["mediaType"] == "voice" for c in voice)


async def test_job_result_cap_fails_the_job(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0, job_result_cap=50)
    job = await _create(env)
    status = await _status(env, job)
    assert status["state"] == "FAILED"
    assert status["errorMessage"] == "Result set is larger than result limit of 50"
    assert (await env.call("GET", job_path(job, "/results"))).status_code == 400
    assert (await _status(env, await _create(env, limit=50)))["state"] == "FULFILLED"


@pytest.mark.parametrize("state", ["FAILED", "EXPIRED", "CANCELLED"])
async def test_states_can_be_forced(make_asgi: Make, state: str) -> None:
    env = await _env(make_asgi, job_delay=0)
    job = await _create(env)
    body = env.sandbox.set_job_state(job, state, "boom" if state == "FAILED" else None)
    assert body["state"] == state and (body.get("errorMessage") == "boom") == (state == "FAILED")
    assert (await _status(env, job))["state"] == state
    assert (await env.call("GET", job_path(job, "/results"))).status_code == 400


async def test_state_endpoint(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    job = await _create(env)
    response = await env.client.post(
        f"/sandbox/jobs/{job}/state", json={"state": "FAILED", "errorMessage": "disk full"}
    )
    assert response.status_code == 200 and response.json()["errorMessage"] == "disk full"
    assert (await _status(env, job))["errorMessage"] == "disk full"
    bad = await env.client.post(f"/sandbox/jobs/{job}/state", json={"state": "ASLEEP"})
    assert bad.status_code == 400
    missing = await env.client.post("/sandbox/jobs/nope/state", json={"state": "FAILED"})
    assert missing.status_code == 404


async def test_jobs_expire_a_day_after_submission(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    job = await _create(env)
    env.clock.advance(86_399.999)
    assert (await _status(env, job))["state"] == "FULFILLED"
    env.clock.advance(0.001)
    env.tokens.clear()  # the token has a 24-hour lifetime too
    assert (await _status(env, job))["state"] == "EXPIRED"


async def test_delete_cancels(make_asgi: Make) -> None:
    env = await _env(make_asgi)
    job = await _create(env)
    response = await env.call("DELETE", job_path(job))
    assert (response.status_code, response.content) == (204, b"")
    assert (await _status(env, job))["state"] == "CANCELLED"


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("GET", "/results"), ("DELETE", "")])
async def test_unknown_job_is_404(asgi_env: AsgiEnv, method: str, suffix: str) -> None:
    response = await asgi_env.call(method, job_path("6f1d1c34-0000-4000-8000-000000000000", suffix))
    body = response.json()
    assert (response.status_code, body["code"], body["status"]) == (404, "not.found", 404)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"pageSize": 0}, "pageSize"), ({"pageSize": 1001}, "pageSize"), ({"cursor": "garbage"}, "cursor")],
)
async def test_bad_results_parameters(make_asgi: Make, params: dict[str, Any], field: str) -> None:
    env = await _env(make_asgi, job_delay=0)
    job = await _create(env)
    response = await env.call("GET", job_path(job, "/results"), params=params)
    assert (response.status_code, response.json()["details"][0]["fieldName"]) == (400, field)


async def test_a_cursor_of_another_job_is_rejected(make_asgi: Make) -> None:
    env = await _env(make_asgi, job_delay=0)
    first, second = await _create(env), await _create(env)
    cursor = (await env.call("GET", job_path(first, "/results"), params={"pageSize": 1})).json()["cursor"]
    response = await env.call("GET", job_path(second, "/results"), params={"cursor": cursor})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paging": {"pageSize": 5}}, "paging"),
        ({"limit": 0}, "limit"),
        ({"startOfDayIntervalMatching": "yes"}, "startOfDayIntervalMatching"),
        ({"interval": "nope"}, "interval"),
    ],
)
async def test_bad_job_bodies(asgi_env: AsgiEnv, body: dict[str, Any], field: str) -> None:
    response = await asgi_env.call("POST", JOBS, {"interval": HOUR, **body})
    assert (response.status_code, response.json()["details"][0]["fieldName"]) == (400, field)
    assert asgi_env.sandbox.stats()["jobs_created"] == 0


async def test_availability_is_now_minus_the_lag(make_asgi: Make) -> None:
    env = await _env(make_asgi, availability_lag=300)
    response = await env.call("GET", AVAILABILITY)
    assert response.json() == {"dataAvailabilityDate": format_ms(round(START * 1000) - 300_000)}
    env.clock.advance(60)
    assert response.status_code == 200
    assert (await env.call("GET", AVAILABILITY)).json()["dataAvailabilityDate"] == format_ms(
        round(START * 1000) - 240_000
    )
    job = await _create(env, limit=1)
    env.clock.advance(2)
    page = (await env.call("GET", job_path(job, "/results"))).json()
    assert page["dataAvailabilityDate"] == format_ms(round(START * 1000) - 238_000)
