"""Shared fixtures: an isolated Airflow home, the sandbox (real socket or in-process), clocks."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Airflow reads its configuration at import time: point it at a throwaway home first.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="genesys-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# dag.test() only runs DAGs found in DAGS_FOLDER: gather the example DAGs and the test DAGs there.
_DAGS_FOLDER = _AIRFLOW_HOME / "dags"
_DAGS_FOLDER.mkdir()
for _source in (
    Path(__file__).resolve().parent.parent / "dags",
    Path(__file__).resolve().parent / "airflow" / "dags",
):
    for _file in _source.glob("*.py"):
        shutil.copy(_file, _DAGS_FOLDER / _file.name)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_DAGS_FOLDER)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

import httpx
import pytest

from airflow_provider_genesys.core.clock import FakeClock
from airflow_provider_genesys.core.state import ClientRegistry

SANDBOX_ID = "sandbox-client"
SANDBOX_SECRET = "sandbox-secret"


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that jumps to the next sleeper's deadline whenever the event loop is idle."""
    return FakeClock(auto_advance=True)


@pytest.fixture
def registry(fake_clock: FakeClock) -> ClientRegistry:
    """A fresh shared-state registry driven by the fake clock."""
    return ClientRegistry(fake_clock)


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Any]]:
    """Start sandboxes on free loopback ports; ``sandbox_factory(**config)`` → running server."""
    from airflow_provider_genesys.sandbox import SandboxConfig, SandboxServer

    servers: list[Any] = []

    def start(clock: Any = None, **config: Any) -> Any:
        server = SandboxServer(SandboxConfig(**config), clock=clock)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Any]) -> Any:
    """A sandbox on a real loopback socket with default settings (rate limit off)."""
    return sandbox_factory(rate=0)


@pytest.fixture
def asgi_sandbox(fake_clock: FakeClock) -> Callable[..., tuple[Any, httpx.ASGITransport]]:
    """An in-process sandbox sharing the fake clock: ``asgi_sandbox(**config)`` → (sandbox, transport)."""
    from airflow_provider_genesys.sandbox import SandboxConfig, create_app

    def build(**config: Any) -> tuple[Any, httpx.ASGITransport]:
        app = create_app(SandboxConfig(**config), clock=fake_clock)
        return app.state.sandbox, httpx.ASGITransport(app=app)

    return build


@pytest.fixture
def dags_folder() -> Path:
    """Where the example DAGs and the test DAGs were gathered for this session."""
    return _DAGS_FOLDER


def pytest_report_header() -> str:
    return f"airflow home: {_AIRFLOW_HOME} (python {sys.version.split()[0]})"
