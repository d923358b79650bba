"""Benchmark: the request engine against a naive client, under a known org rate limit.

1,000 aggregates queries are issued with 100-way concurrency against the sandbox with a
limit of 120 requests per 10 s and 8 in flight per client — the way users load-testing with
100 threads drowned. The naive client gives each worker its own ``sleep(Retry-After +
jitter)`` on a 429; the engine shares one pace, one pause and one pool.

Scenarios: the limit known (``requests_per_minute`` = 720), the sandbox's ``--penalty``
on, and ``requests_per_minute`` set to twice the real limit (adaptive mode). Reported per
run: wall time ÷ theoretical minimum (requests ÷ allowed rate), requests sent ÷ needed,
429 share, requests sent inside a running Retry-After, largest count in any 10 s window.

By default the run is in *virtual time*: the sandbox runs in-process and shares a fake
clock with both clients, so every figure is exact and the whole run takes seconds.
``--real`` runs the known-limit scenario over a real loopback socket in real time
(about 90 s per client), and adds a client paced by the ``aiolimiter`` library (leaky
bucket at the known limit) when it is installed (``pip install aiolimiter``).

    python benchmarks/engine_vs_naive.py [--real] [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_genesys.core.auth import ClientCredentials
from airflow_provider_genesys.core.clock import Clock, FakeClock, SystemClock
from airflow_provider_genesys.core.config import EngineSettings
from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.regions import resolve_endpoints
from airflow_provider_genesys.core.state import ClientRegistry
from airflow_provider_genesys.sandbox import SandboxConfig, SandboxServer, create_app

PATH = "/api/v2/analytics/conversations/aggregates/query"
BODY = {"interval": "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z", "metrics": ["nOffered"]}
LIMIT, WINDOW, IN_FLIGHT, WORKERS = 120, 10.0, 8, 100


async def _naive(url: str, transport: httpx.AsyncBaseTransport | None, clock: Clock, n: int) -> None:
    """100 workers, each sleeping on its own after a 429 — what users wrote before."""
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("sandbox-client", "sandbox-secret"),
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)
        rng = random.Random(1)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                while True:
                    response = await http.post(PATH, json=BODY, headers=headers)
                    if response.status_code != 429:
                        break
                    wait = float(response.headers.get("Retry-After", "1"))
                    await clock.sleep(wait + rng.uniform(0, 1))

        await asyncio.gather(*(worker() for _ in range(WORKERS)))


async def _library_limiter(url: str, n: int) -> None:
    """``aiolimiter`` (leaky bucket) at the known limit, 8 in flight, per-worker Retry-After sleeps."""
    from aiolimiter import AsyncLimiter

    limiter = AsyncLimiter(LIMIT, WINDOW)
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("sandbox-client", "sandbox-secret"),
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(1)
        workers = asyncio.Semaphore(WORKERS)

        async def one() -> None:
            async with workers:
                while True:
                    async with in_flight, limiter:
                        response = await http.post(PATH, json=BODY, headers=headers)
                    if response.status_code != 429:
                        return
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")) + rng.uniform(0, 1))

        await asyncio.gather(*(one() for _ in range(n)))


async def _engine(
    url: str, transport: httpx.AsyncBaseTransport | None, clock: Clock, n: int, rpm: float
) -> dict[str, Any]:
    settings = EngineSettings(requests_per_minute=rpm, max_concurrency={"aggregates": IN_FLIGHT})
    engine = GenesysEngine(
        resolve_endpoints(host=url),
        ClientCredentials("sandbox-client", "sandbox-secret"),
        settings,
        registry=ClientRegistry(clock),
        transport=transport,
        rng=random.Random(1),
    )
    semaphore = asyncio.Semaphore(WORKERS)

    async def one() -> None:
        async with semaphore:
            await engine.request("POST", PATH, family="aggregates", json=BODY)

    await asyncio.gather(*(one() for _ in range(n)))
    await engine.aclose()
    return engine.summary()


def _report(name: str, stats: dict[str, Any], elapsed: float, n: int) -> dict[str, Any]:
    minimum = n / (LIMIT / WINDOW)
    sent = stats["requests_total"]
    row = {
        "client": name,
        "wall_s": round(elapsed, 1),
        "wall/min": round(elapsed / minimum, 3),
        "sent/needed": round(sent / n, 3),
        "429_share": round(stats["rate_limited"] / sent, 3),
        "inside_retry_after": stats["inside_retry_after"],
        "max_in_window": max(stats["max_requests_in_any_window"].values()),
    }
    print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return row


async def _virtual(scenario: str, client: str, n: int, penalty: float, rpm: float) -> dict[str, Any]:
    clock = FakeClock(auto_advance=True)
    config = SandboxConfig(rate=LIMIT, window=WINDOW, max_concurrent=IN_FLIGHT, penalty=penalty)
    app = create_app(config, clock=clock)
    transport = httpx.ASGITransport(app=app)
    start = clock.monotonic()
    run: Callable[[], Any]
    if client == "naive":
        run = lambda: _naive("http://sandbox", transport, clock, n)  # noqa: E731
    else:
        run = lambda: _engine("http://sandbox", transport, clock, n, rpm)  # noqa: E731
    try:
        await asyncio.wait_for(run(), timeout=120)  # real seconds: a spiral is reported, not awaited
    except asyncio.TimeoutError:
        print(f"  {client}: did not finish within the benchmark's time bound", flush=True)
    return _report(f"{scenario}/{client}", app.state.sandbox.stats(), clock.monotonic() - start, n)


def _real(client: str, n: int, rpm: float) -> dict[str, Any]:
    clock = SystemClock()
    config = SandboxConfig(rate=LIMIT, window=WINDOW, max_concurrent=IN_FLIGHT)
    with SandboxServer(config) as server:
        start = clock.monotonic()
        if client == "naive":
            asyncio.run(_naive(server.url, None, clock, n))
        elif client == "aiolimiter":
            asyncio.run(_library_limiter(server.url, n))
        else:
            asyncio.run(_engine(server.url, None, clock, n, rpm))
        return _report(f"real/{client}", server.sandbox.stats(), clock.monotonic() - start, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--real", action="store_true", help="real socket and real time (known limit only)")
    args = parser.parse_args()
    known = LIMIT / WINDOW * 60
    limit = f"limit {LIMIT}/{WINDOW:g}s and {IN_FLIGHT} in flight"
    print(f"{args.requests} requests, {WORKERS}-way concurrency, {limit}")
    print(f"theoretical minimum: {args.requests / (LIMIT / WINDOW):.1f}s")
    if args.real:
        clients = ["engine", "naive"]
        if importlib.util.find_spec("aiolimiter") is not None:
            clients.append("aiolimiter")
        for client in clients:
            _real(client, args.requests, known)
        return
    scenarios = [("known-limit", 0.0, known), ("penalty-2s", 2.0, known), ("rpm-2x-adaptive", 0.0, 2 * known)]
    for scenario, penalty, rpm in scenarios:
        print(f"{scenario} (penalty {penalty:g}s, requests_per_minute {rpm:g})", flush=True)
        for client in ("engine", "naive"):
            asyncio.run(_virtual(scenario, client, args.requests, penalty, rpm))


if __name__ == "__main__":
    main()
