"""Over a real socket: SandboxServer lifecycle, every endpoint, restarts, the CLI, exported names."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import airflow_provider_genesys.sandbox as sandbox_pkg
from airflow_provider_genesys.core.clock import FakeClock
from airflow_provider_genesys.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.support import AGGREGATES, AVAILABILITY, DAY, DETAILS, HOUR, JOBS, TOKEN, bearer, job_path

Factory = Callable[..., SandboxServer]
ROOT = Path(__file__).resolve().parents[2]


def test_lifecycle_and_url() -> None:
    server = SandboxServer(SandboxConfig(rate=0))
    with server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url) and server.port > 0
        assert httpx.get(server.url + "/sandbox/stats").status_code == 200
        assert server.app.state.sandbox is server.sandbox
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/sandbox/stats")
    server.stop()  # idempotent


def test_every_endpoint_over_http(server_factory: Factory) -> None:
    server = server_factory(rate=0, job_delay=0)
    url, headers = server.url, bearer(server)
    assert (
        httpx.post(
            url + TOKEN, auth=("sandbox-client", "x"), data={"grant_type": "client_credentials"}
        ).status_code
        == 401
    )
    aggregates = httpx.post(
        url + AGGREGATES, json={"interval": HOUR, "metrics": ["nOffered"]}, headers=headers
    )
    assert aggregates.status_code == 200 and aggregates.json()["results"][0]["data"][0]["interval"] == (
        "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z"
    )
    details = httpx.post(
        url + DETAILS, json={"interval": HOUR, "paging": {"pageSize": 3}}, headers=headers
    ).json()
    assert len(details["conversations"]) == 3 and details["totalHits"] > 1900
    created = httpx.post(url + JOBS, json={"interval": HOUR}, headers=headers)
    job = created.json()["jobId"]
    assert created.status_code == 202
    assert httpx.get(url + job_path(job), headers=headers).json()["state"] == "FULFILLED"
    results = httpx.get(url + job_path(job, "/results"), params={"pageSize": 2}, headers=headers).json()
    assert len(results["conversations"]) == 2 and results["cursor"] and results["dataAvailabilityDate"]
    assert httpx.get(url + AVAILABILITY, headers=headers).json()["dataAvailabilityDate"]
    assert httpx.delete(url + job_path(job), headers=headers).status_code == 204
    assert (
        httpx.post(url + f"/sandbox/jobs/{job}/state", json={"state": "EXPIRED"}).json()["state"] == "EXPIRED"
    )
    assert (
        httpx.post(url + "/sandbox/faults", json={"kind": "503", "endpoint": "aggregates"}).status_code == 200
    )
    truth = httpx.get(url + "/sandbox/truth", params={"start": DAY[:24], "end": DAY[25:]}).json()
    assert set(truth) == {"start", "end", "conversation_ids", "count", "aggregates"}
    assert truth["count"] == len(truth["conversation_ids"]) == details["totalHits"]
    assert httpx.get(url + "/sandbox/truth", params={"start": "nope", "end": "x"}).status_code == 400
    assert httpx.get(url + "/sandbox/stats").json()["requests"]["jobs.delete"] == {"204": 1}
    assert httpx.post(url + "/sandbox/revoke").json() == {"revoked": 1}
    assert httpx.post(url + "/sandbox/reset").json() == {"reset": True}


def _snapshot(seed: int) -> dict[str, Any]:
    with SandboxServer(SandboxConfig(seed=seed, rate=0)) as server:
        headers = bearer(server)
        details = httpx.post(
            server.url + DETAILS, json={"interval": HOUR, "paging": {"pageSize": 50}}, headers=headers
        )
        body = {
            "interval": DAY,
            "granularity": "PT1H",
            "groupBy": ["queueId"],
            "metrics": ["nOffered", "tHandle"],
        }
        aggregates = httpx.post(server.url + AGGREGATES, json=body, headers=headers)
        return {"details": details.json(), "aggregates": aggregates.json()}


def test_restarts_with_the_same_seed_serve_identical_data() -> None:
    first, again, other = _snapshot(1), _snapshot(1), _snapshot(2)
    assert first == again
    assert (
        first["details"]["conversations"][0]["conversationId"]
        != other["details"]["conversations"][0]["conversationId"]
    )
    assert first["aggregates"] != other["aggregates"]


def test_a_fake_clock_can_be_advanced_across_threads(server_factory: Factory) -> None:
    clock = FakeClock(1_700_000_000.0)
    server = server_factory(clock=clock, rate=0, token_ttl=10)
    headers = bearer(server)
    assert httpx.get(server.url + AVAILABILITY, headers=headers).json() == {
        "dataAvailabilityDate": "2023-11-14T22:08:20.000Z"
    }
    clock.advance(10)
    response = httpx.get(server.url + AVAILABILITY, headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "credentials.expired")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_announces_the_url_and_exits_cleanly(sig: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "airflow_provider_genesys.sandbox",
        "--port",
        "0",
        "--rate",
        "0",
        "--seed",
        "7",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"Genesys Cloud sandbox listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        token = httpx.post(
            match[1] + TOKEN,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert httpx.get(match[1] + AVAILABILITY, headers=headers).status_code == 200
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_exported_names() -> None:
    assert sorted(sandbox_pkg.__all__) == [
        "ClientSpec", "DroppedConnectionError", "Sandbox", "SandboxConfig", "SandboxServer", "create_app",
    ]  # fmt: skip
    for module in pkgutil.iter_modules(sandbox_pkg.__path__):
        loaded = importlib.import_module(f"airflow_provider_genesys.sandbox.{module.name}")
        assert all(hasattr(loaded, name) for name in loaded.__all__), module.name


def test_unknown_routes_answer_in_the_genesys_shape(sandbox_server: SandboxServer) -> None:
    missing = httpx.get(sandbox_server.url + "/api/v2/analytics/conversations/summary")
    assert (missing.status_code, missing.json()["code"]) == (404, "not.found")
    wrong_method = httpx.get(sandbox_server.url + AGGREGATES)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method.not.allowed")
    assert missing.json()["contextId"] == missing.headers["ININ-Correlation-Id"]
