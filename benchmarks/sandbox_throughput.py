"""How many requests per second the embedded sandbox answers, so it is never the bottleneck.

Starts ``python -m airflow_provider_genesys.sandbox --rate 0`` in its own process on a
free loopback port, then fires simple requests from this (separate) process with many
concurrent keep-alive connections, and prints requests/second per scenario:

    python benchmarks/sandbox_throughput.py --requests 5000 --concurrency 64

The connections are spread over several ``httpx.AsyncClient`` pools of ``--per-pool``
connections each: one large httpcore pool costs more CPU per request than the
sandbox does (its connection assignment grows with the pool size), and would measure
the load generator instead of the server. Even so httpx saturates its CPU first;
``--raw`` swaps it for minimal keep-alive sockets to show the sandbox's own ceiling.

Scenarios: ``availability`` (GET jobs/availability), ``aggregates`` (one hour, one metric),
``details`` (one page of 25). Each is warmed up first (days generated, connections open).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOUR = "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z"
AVAILABILITY = "/api/v2/analytics/conversations/details/jobs/availability"
AGGREGATES = "/api/v2/analytics/conversations/aggregates/query"
DETAILS = "/api/v2/analytics/conversations/details/query"

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
BODIES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "availability": ("GET", AVAILABILITY, None),
    "aggregates": ("POST", AGGREGATES, {"interval": HOUR, "metrics": ["nOffered"]}),
    "details": ("POST", DETAILS, {"interval": HOUR, "paging": {"pageSize": 25}}),
}


def _sender(method: str, path: str, body: dict[str, Any] | None) -> Request:
    return lambda client: client.request(method, path, json=body)


SCENARIOS: dict[str, Request] = {name: _sender(*spec) for name, spec in BODIES.items()}


def start_sandbox(extra: list[str]) -> tuple[subprocess.Popen[str], str]:
    """The sandbox CLI on a free port, in its own process; returns it and its URL."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "airflow_provider_genesys.sandbox", "--port", "0", "--rate", "0", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("Genesys Cloud sandbox listening on "):
        process.kill()
        raise RuntimeError(f"the sandbox did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1]


async def token(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/oauth/token",
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


async def run(
    clients: list[httpx.AsyncClient], send: Request, total: int, concurrency: int
) -> dict[str, Any]:
    """Send ``total`` requests with ``concurrency`` workers spread over ``clients``; time them."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    remaining = total

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            response = await send(client)
            latencies.append(time.perf_counter() - began)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(clients[k % len(clients)]) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": total / elapsed,
        "elapsed": elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "statuses": statuses,
    }


async def bench(url: str, scenarios: list[str], total: int, concurrency: int, per_pool: int) -> None:
    headers = {"Authorization": f"Bearer {await token(url)}"}
    limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
    pools = -(-concurrency // per_pool)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30)
            )
            for _ in range(pools)
        ]
        for name in scenarios:
            send = SCENARIOS[name]
            await run(clients, send, min(total, 4 * concurrency), concurrency)  # warm up
            result = await run(clients, send, total, concurrency)
            print(
                f"{name:<13} {result['rps']:8.0f} req/s  ({total} requests, {concurrency} connections, "
                f"{result['elapsed']:.2f} s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"statuses {result['statuses']})",
                flush=True,
            )


def raw_request(name: str, bearer: str) -> bytes:
    """The scenario as raw HTTP/1.1 bytes, for the ``--raw`` load generator."""
    method, path, body = BODIES[name]
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {bearer}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return head.encode() + b"\r\n" + payload


async def raw_bench(url: str, scenarios: list[str], total: int, concurrency: int) -> None:
    """Keep-alive sockets writing canned requests and reading responses: next to no client CPU."""
    host, port = url.removeprefix("http://").split(":")
    bearer = await token(url)
    for name in scenarios:
        request = raw_request(name, bearer)
        for count in (min(total, 4 * concurrency), total):  # warm up, then measure
            remaining = count

            async def worker(request: bytes = request) -> None:
                nonlocal remaining
                reader, writer = await asyncio.open_connection(host, int(port))
                while remaining > 0:
                    remaining -= 1
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = next(
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                    await reader.readexactly(length)
                writer.close()

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        print(
            f"{name:<13} {total / elapsed:8.0f} req/s  (raw sockets, {total} requests, "
            f"{concurrency} connections)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent connections")
    parser.add_argument("--per-pool", type=int, default=4, help="connections per httpx client pool")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    parser.add_argument("--url", help="benchmark a sandbox already running here instead of starting one")
    parser.add_argument(
        "--raw", action="store_true", help="minimal sockets instead of httpx (server ceiling)"
    )
    parser.add_argument(
        "sandbox_args", nargs="*", help="extra sandbox flags after --, e.g. -- --per-day 20000"
    )
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)

    def load(url: str) -> None:
        if args.raw:
            asyncio.run(raw_bench(url, scenarios, args.requests, args.concurrency))
        else:
            asyncio.run(bench(url, scenarios, args.requests, args.concurrency, args.per_pool))

    if args.url:
        load(args.url)
        return 0
    process, url = start_sandbox(args.sandbox_args)
    try:
        print(
            f"sandbox pid {process.pid} at {url}; load from pid {os.getpid()} ({os.cpu_count()} CPUs)",
            flush=True,
        )
        load(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
