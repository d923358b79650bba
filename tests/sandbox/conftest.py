"""Sandbox fixtures: a real-socket server (and a factory) and an in-process app on a fake clock.

Kept general (no test logic) so they can move to the top-level conftest; names differ
from the top-level ``sandbox``/``asgi_sandbox`` fixtures, which have other shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from airflow_provider_genesys.core.clock import FakeClock
from airflow_provider_genesys.sandbox import Sandbox, SandboxConfig, SandboxServer, create_app
from tests.sandbox.support import CLIENT_ID, CLIENT_SECRET, TOKEN

ASGI_BASE = "http://sandbox"
START = 1_700_000_040.0  # a multiple of 60: fixed rate windows start exactly here


@dataclass
class AsgiEnv:
    """An in-process sandbox: its HTTP client, its state and the fake clock it runs on."""

    client: httpx.AsyncClient
    sandbox: Sandbox
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
        """A bearer token for ``client_id`` (cached per client)."""
        if client_id not in self.tokens:
            response = await self.client.post(
                TOKEN, auth=(client_id, secret), data={"grant_type": "client_credentials"}
            )
            assert response.status_code == 200, response.text
            self.tokens[client_id] = response.json()["access_token"]
        return self.tokens[client_id]

    async def call(
        self, method: str, path: str, json: Any = None, *, client_id: str = CLIENT_ID, **kwargs: Any
    ) -> httpx.Response:
        """An authenticated API request as ``client_id`` (default client, all permissions)."""
        headers = {"Authorization": f"Bearer {await self.token(client_id)}", **kwargs.pop("headers", {})}
        return await self.client.request(method, path, json=json, headers=headers, **kwargs)


@pytest.fixture
async def make_asgi() -> AsyncIterator[Callable[..., Awaitable[AsgiEnv]]]:
    """``await make_asgi(start=..., **config)`` → an :class:`AsgiEnv` on an auto-advancing fake clock."""
    clients: list[httpx.AsyncClient] = []

    async def build(start: float = START, auto_advance: bool = True, **config: Any) -> AsgiEnv:
        clock = FakeClock(start, auto_advance=auto_advance)
        app = create_app(SandboxConfig(**config), clock=clock)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ASGI_BASE)
        clients.append(client)
        return AsgiEnv(client, app.state.sandbox, clock)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
async def asgi_env(make_asgi: Callable[..., Awaitable[AsgiEnv]]) -> AsgiEnv:
    """An in-process sandbox with default settings but no rate limit."""
    return await make_asgi(rate=0)


@pytest.fixture
def server_factory() -> Iterator[Callable[..., SandboxServer]]:
    """``server_factory(clock=None, **config)`` → a started :class:`SandboxServer`, stopped after the test."""
    servers: list[SandboxServer] = []

    def start(clock: Any = None, **config: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**config), clock=clock).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox_server(server_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox on a real loopback socket: default settings, rate limit off."""
    return server_factory(rate=0)
